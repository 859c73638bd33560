#include "widgets/mask_stats_view.h"

#include "widgets/inspect_support.h"
#include "widgets/plot_tools.h"
#include "widgets/qcustomplot_include.h"

#include <QComboBox>
#include <QFontDatabase>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <map>

namespace ijepa::widgets {
namespace {

const char* const kSamplers[] = {"multiblock", "block", "random", "rasterized"};

// The second setting for comparison index i: the config with one mask key changed.
Config comparisonConfig(const Config& base, int i, QString* name)
{
    Config c = base;
    if (i == 1) {
        c.mask.position_mode = base.mask.position_mode == "faithful" ? "corrected" : "faithful";
        *name = QString::fromStdString(c.mask.position_mode);
    } else if (i >= 2 && i < 6) {
        c.mask.sampler = kSamplers[i - 2];
        *name = QStringLiteral("sampler %1").arg(kSamplers[i - 2]);
    } else if (i == 6) {
        c.mask.truncation = base.mask.truncation == "prefix" ? "random" : "prefix";
        *name = QStringLiteral("truncation %1").arg(QString::fromStdString(c.mask.truncation));
    }
    return c;
}

// Counts of integer values as (value, count) pairs for a step plot.
void histogram(const std::vector<double>& values, double binWidth, QVector<double>& x, QVector<double>& y)
{
    std::map<long, double> counts;
    for (double v : values)
        counts[std::lround(v / binWidth)] += 1.0 / static_cast<double>(values.size());
    x.clear();
    y.clear();
    for (const auto& [bin, share] : counts) {
        x << bin * binWidth;
        y << share;
    }
}

std::vector<double> asDouble(const std::vector<int>& v) { return {v.begin(), v.end()}; }

QCustomPlot* makePlot(QWidget* parent, const QString& x)
{
    auto* plot = new QCustomPlot(parent);
    plot->xAxis->setLabel(x);
    plot->yAxis->setLabel(QObject::tr("share"));
    plot->legend->setVisible(true);
    plot->legend->setFont(QFont(parent->font().family(), 7));
    plot->legend->setIconSize(16, 6);
    plot->legend->setRowSpacing(0);
    legendAbove(plot, 2);
    addPlotMenu(plot, {.name = x, .csv = {}, .resetView = {}});
    plot->setNotAntialiasedElements(QCP::aePlottables);
    plot->setMinimumHeight(150);
    return plot;
}

} // namespace

ShareMap::ShareMap(QWidget* parent)
    : QWidget(parent)
{
    setMinimumSize(120, 140);
}

void ShareMap::setValues(const std::vector<double>& values, int grid, const QString& caption)
{
    m_values = values;
    m_grid = grid;
    m_caption = caption;
    update();
}

void ShareMap::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    const int text = fontMetrics().height() + 4;
    const int side = std::min(width(), height() - text);
    p.drawText(QRect(0, 0, width(), text), Qt::AlignCenter, m_caption);
    if (m_grid <= 0 || side <= 0)
        return;
    const QRectF r((width() - side) / 2.0, text, side, side);
    const double cell = side / static_cast<double>(m_grid);
    for (int i = 0; i < m_grid * m_grid && i < static_cast<int>(m_values.size()); ++i) {
        const QRectF c(r.left() + (i % m_grid) * cell, r.top() + (i / m_grid) * cell, cell, cell);
        p.fillRect(c, heatColour(m_values[static_cast<size_t>(i)], 255));
        if (cell >= 26) {
            p.setPen(m_values[static_cast<size_t>(i)] > 0.6 ? Qt::black : Qt::white);
            p.drawText(c, Qt::AlignCenter, QString::number(m_values[static_cast<size_t>(i)], 'f', 2));
        }
    }
    p.setPen(QPen(QColor(0, 0, 0, 60)));
    for (int k = 0; k <= m_grid; ++k) {
        p.drawLine(QPointF(r.left() + k * cell, r.top()), QPointF(r.left() + k * cell, r.bottom()));
        p.drawLine(QPointF(r.left(), r.top() + k * cell), QPointF(r.right(), r.top() + k * cell));
    }
}

MaskStatsView::MaskStatsView(QWidget* parent)
    : QWidget(parent)
    , m_batches(new QSpinBox(this))
    , m_compare(new QComboBox(this))
    , m_compute(new QPushButton(tr("Compute"), this))
    , m_progress(new QProgressBar(this))
    , m_status(new QLabel(tr("Mask statistics follow the config being edited."), this))
    , m_table(new QLabel(this))
    , m_contextPlot(makePlot(this, tr("context patches")))
    , m_targetPlot(makePlot(this, tr("target block patches")))
    , m_aspectPlot(makePlot(this, tr("target aspect ratio (h / w)")))
    , m_debounce(new QTimer(this))
    , m_runner(new LatestJobRunner(this))
{
    m_batches->setRange(1, 100000);
    m_batches->setValue(200);
    m_batches->setToolTip(tr("Batches of data.batch_size to sample (from iteration 0)"));
    m_compare->addItems(comparisons());
    m_compare->setCurrentIndex(1);
    m_compare->setToolTip(tr("A second setting beside the edited config: the same with one mask key changed"));
    m_table->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_table->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_progress->setVisible(false);
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(250);
    connect(m_debounce, &QTimer::timeout, this, &MaskStatsView::recompute);
    connect(m_compute, &QPushButton::clicked, this, &MaskStatsView::recompute);
    connect(m_batches, &QSpinBox::valueChanged, this, &MaskStatsView::scheduleRecompute);
    connect(m_compare, &QComboBox::currentIndexChanged, this, &MaskStatsView::scheduleRecompute);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Batches"), this));
    controls->addWidget(m_batches);
    controls->addWidget(new QLabel(tr("Compare with"), this));
    controls->addWidget(m_compare);
    controls->addWidget(m_compute);
    controls->addWidget(m_progress, 1);
    controls->addWidget(m_status, 2);
    auto* maps = new QGridLayout;
    for (int s = 0; s < 2; ++s)
        for (int k = 0; k < 3; ++k) {
            auto* map = new ShareMap(this);
            m_maps.push_back(map);
            maps->addWidget(map, s, k);
        }
    auto* plots = new QVBoxLayout;
    plots->addWidget(m_contextPlot, 1);
    plots->addWidget(m_targetPlot, 1);
    plots->addWidget(m_aspectPlot, 1);
    auto* body = new QHBoxLayout;
    auto* left = new QVBoxLayout;
    left->addLayout(maps, 3);
    left->addWidget(m_table, 0);
    body->addLayout(left, 3);
    body->addLayout(plots, 2);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addLayout(body, 1);
}

QStringList MaskStatsView::comparisons() const
{
    return {tr("nothing"), tr("the other position mode"), tr("sampler multiblock"), tr("sampler block"),
            tr("sampler random"), tr("sampler rasterized"), tr("the other truncation")};
}

void MaskStatsView::setConfig(const Config& config)
{
    m_config = config;
    m_haveConfig = true;
    scheduleRecompute();
}

void MaskStatsView::setBatches(int batches) { m_batches->setValue(batches); }
void MaskStatsView::setComparison(int index) { m_compare->setCurrentIndex(index); }
bool MaskStatsView::busy() const { return m_runner->busy() || m_debounce->isActive(); }

void MaskStatsView::scheduleRecompute()
{
    if (m_haveConfig)
        m_debounce->start();
}

void MaskStatsView::recompute()
{
    m_debounce->stop();
    if (!m_haveConfig)
        return;
    if (m_cancel)
        m_cancel->store(true); // the running job stops at its next batch; the latest request runs next
    auto cancel = std::make_shared<std::atomic_bool>(false);
    m_cancel = cancel;
    std::vector<QString> names{tr("as edited (%1)").arg(QString::fromStdString(m_config.mask.position_mode))};
    std::vector<Config> configs{m_config};
    if (m_compare->currentIndex() > 0) {
        QString name;
        configs.push_back(comparisonConfig(m_config, m_compare->currentIndex(), &name));
        names.push_back(name);
    }
    const int batches = m_batches->value();
    m_progress->setVisible(true);
    m_progress->setRange(0, batches * static_cast<int>(configs.size()));
    m_progress->setValue(0);
    m_status->setText(tr("Sampling %1 batches…").arg(batches));
    const QPointer<QProgressBar> bar = m_progress;
    m_runner->run([this, configs, names, batches, cancel, bar]() -> LatestJobRunner::Done {
        std::vector<MaskStats> stats;
        QString error;
        try {
            for (size_t i = 0; i < configs.size(); ++i)
                stats.push_back(computeMaskStats(configs[i], batches, 0, [&](int done, int) {
                    if (done % 10 == 0)
                        QMetaObject::invokeMethod(bar, [bar, v = static_cast<int>(i) * batches + done] {
                            if (bar)
                                bar->setValue(v);
                        }, Qt::QueuedConnection);
                    return !cancel->load();
                }));
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        if (cancel->load())
            return {};
        return [this, names, stats, error] {
            m_progress->setVisible(false);
            if (!error.isEmpty()) {
                m_status->setText(error);
                return;
            }
            display(names, stats);
        };
    });
}

void MaskStatsView::display(std::vector<QString> names, std::vector<MaskStats> stats)
{
    m_names = std::move(names);
    m_stats = std::move(stats);
    const QString kinds[] = {tr("context"), tr("target"), tr("neither")};
    for (size_t s = 0; s < 2; ++s)
        for (int k = 0; k < 3; ++k) {
            auto* map = m_maps[s * 3 + static_cast<size_t>(k)];
            map->setVisible(s < m_stats.size());
            if (s < m_stats.size()) {
                const auto& st = m_stats[s];
                map->setValues(k == 0 ? st.context : k == 1 ? st.target : st.excluded, st.grid,
                               QStringLiteral("%1: %2").arg(m_names[s], kinds[k]));
            }
        }
    std::vector<std::string> plainNames;
    for (const auto& n : m_names)
        plainNames.push_back(n.toStdString());
    m_table->setText(QString::fromStdString(maskStatsTable(plainNames, m_stats)));
    m_status->setText(tr("%1 images a setting; colour: share of images, 0 (dark) .. 1 (red)").arg(m_stats.front().images));
    plotHistograms();
    Q_EMIT computed();
}

void MaskStatsView::plotHistograms()
{
    struct Series {
        QVector<double> x, y;
        QString name;
        QColor colour;
        bool second = false; // the compared setting: dashed line, hatched bars
    };
    std::map<QCustomPlot*, std::vector<Series>> series;
    const QColor colours[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}};
    const auto add = [&](QCustomPlot* plot, const std::vector<double>& values, double bin, const QString& name,
                         const QColor& colour, size_t setting) {
        Series one{{}, {}, setting > 0 ? QStringLiteral("%1 (%2)").arg(name, m_names[setting]) : name, colour, setting > 0};
        histogram(values, bin, one.x, one.y);
        series[plot].push_back(std::move(one));
    };
    for (size_t s = 0; s < m_stats.size(); ++s) {
        const auto& st = m_stats[s];
        add(m_contextPlot, asDouble(st.contextKept), 1, tr("minus targets"), colours[1], s);
        add(m_contextPlot, asDouble(st.contextTruncated), 1, tr("truncated"), colours[2], s);
        add(m_targetPlot, asDouble(st.targetBlock), 1, tr("target block"), colours[0], s);
        add(m_aspectPlot, st.targetAspect, 0.05, tr("h / w"), colours[0], s);
    }
    for (auto* plot : {m_contextPlot, m_targetPlot, m_aspectPlot}) {
        plot->clearPlottables();
        const auto& list = series[plot];
        // A few distinct values (two block sizes, two aspect ratios) are bars side by side; a
        // line between two points would invent the values between them.
        const bool bars = std::all_of(list.begin(), list.end(), [](const Series& s) { return s.x.size() <= 8; });
        double gap = 1.0; // the smallest distance between two values: the bars' room
        for (const Series& s : list)
            for (qsizetype i = 1; i < s.x.size(); ++i)
                gap = std::min(gap, s.x[i] - s.x[i - 1]);
        auto* group = bars ? new QCPBarsGroup(plot) : nullptr;
        for (const Series& s : list) {
            if (bars) {
                auto* b = new QCPBars(plot->xAxis, plot->yAxis);
                b->setName(s.name);
                b->setData(s.x, s.y, true);
                b->setWidth(0.8 * gap / static_cast<double>(list.size()));
                b->setPen(QPen(s.colour.darker(130)));
                b->setBrush(s.second ? QBrush(s.colour, Qt::BDiagPattern) : QBrush(s.colour));
                b->setBarsGroup(group);
                continue;
            }
            auto* g = plot->addGraph();
            g->setName(s.name);
            g->setScatterStyle(QCPScatterStyle(s.second ? QCPScatterStyle::ssSquare : QCPScatterStyle::ssDisc, 4));
            g->setPen(QPen(s.colour, 1.2, s.second ? Qt::DashLine : Qt::SolidLine));
            g->setData(s.x, s.y, true);
        }
        plot->rescaleAxes();
        const auto x = plot->xAxis->range();
        const double pad = bars ? 0.6 * gap : 0.5;
        plot->xAxis->setRange(x.lower - 0.05 * x.size() - pad, x.upper + 0.05 * x.size() + pad);
        plot->yAxis->setRange(0, plot->yAxis->range().upper * 1.1);
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
}

QString MaskStatsView::tableText() const { return m_table->text(); }

} // namespace ijepa::widgets
