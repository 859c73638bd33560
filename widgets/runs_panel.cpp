#include "widgets/runs_panel.h"

#include "widgets/curve_plot.h"
#include "widgets/inspect_support.h"
#include "core/train/steering.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextStream>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <set>

namespace ijepa::widgets {
namespace {

enum Column { Name, Data, Model, Steps, Loss, Probe, Wall, State, Problems, Columns };

// A cell that sorts by a number (UserRole) when it has one, else by its text.
class Cell : public QTableWidgetItem {
public:
    explicit Cell(const QString& text, double key = std::nan(""))
        : QTableWidgetItem(text)
    {
        setData(Qt::UserRole + 1, key);
        setFlags(flags() & ~Qt::ItemIsEditable);
    }
    bool operator<(const QTableWidgetItem& other) const override
    {
        const double a = data(Qt::UserRole + 1).toDouble(), b = other.data(Qt::UserRole + 1).toDouble();
        if (std::isfinite(a) || std::isfinite(b))
            return (std::isfinite(a) ? a : -1e300) < (std::isfinite(b) ? b : -1e300);
        return text() < other.text();
    }
};

QString number(double v, int decimals)
{
    return std::isfinite(v) ? QString::number(v, 'f', decimals) : QStringLiteral("–");
}

QString clock(double seconds)
{
    const auto s = static_cast<long long>(seconds);
    return QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'));
}

QColor runColour(int i)
{
    static const QColor colours[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
                                     {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
    return colours[i % 10];
}

// The keys that differ, less logging.folder (each run's own folder, not a setting).
std::vector<ConfigDifference> settingDifferences(const Config& a, const Config& b)
{
    auto d = configDifferences(a, b);
    std::erase_if(d, [](const ConfigDifference& x) { return x.key == "logging.folder"; });
    return d;
}

constexpr int kNameRole = Qt::UserRole + 2; // the name a Name cell showed before an edit

QTableWidget* makeTable(QWidget* parent, const QStringList& headers)
{
    auto* t = new QTableWidget(0, static_cast<int>(headers.size()), parent);
    t->setHorizontalHeaderLabels(headers);
    t->setSortingEnabled(true);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->verticalHeader()->setVisible(false);
    t->horizontalHeader()->setStretchLastSection(true);
    t->setTextElideMode(Qt::ElideMiddle); // "20261206-1015…lr=0.002": both ends of a name tell runs apart
    t->horizontalHeader()->setTextElideMode(Qt::ElideMiddle); // run names head the diff's columns
    t->setWordWrap(false);
    return t;
}

// A run's k-NN: the end-of-run figure (ijepa eval knn on the whole split) when it ran, else the
// last online probe, marked "~" (an estimate on the probe's few hundred images); the tool tip says which.
Cell* knnCell(const RunRecord& r)
{
    const bool final = std::isfinite(r.finalKnn);
    auto* cell = new Cell(final ? number(r.finalKnn * 100, 2) : (std::isfinite(r.lastProbe) ? QStringLiteral("~") : QString()) +
                                                                number(r.lastProbe * 100, 1),
                          headlineKnn(r));
    cell->setToolTip(final ? QObject::tr("the end-of-run k-NN: ijepa eval knn on the whole evaluation split")
                           : QObject::tr("the last online probe (a few hundred images); the end-of-run k-NN has not run"));
    return cell;
}

// A setting's value in a run; one steered while it trained shows its latest value, marked.
Cell* settingCell(const RunRecord& r, const std::string& key, const std::string& value)
{
    const bool steered = std::find(r.steered.begin(), r.steered.end(), key) != r.steered.end();
    auto* cell = new Cell(QString::fromStdString(value) + (steered ? QObject::tr(" (steered)") : QString()),
                          QString::fromStdString(value).toDouble());
    if (steered)
        cell->setToolTip(QObject::tr("changed while the run trained (config_history.jsonl): the value in force now"));
    return cell;
}

} // namespace

RunsPanel::RunsPanel(QWidget* parent)
    : QWidget(parent)
    , m_table(makeTable(this, {tr("Run"), tr("Data"), tr("Model"), tr("Steps"), tr("Last loss"), tr("k-NN (%)"),
                               tr("Wall time"), tr("State"), tr("Problems")}))
    , m_diff(makeTable(this, {tr("Key"), tr("Run A"), tr("Run B")}))
    , m_hparams(makeTable(this, {}))
    , m_axisBox(new QComboBox(this))
    , m_status(new QLabel(this))
    , m_poll(new QTimer(this))
    , m_runner(new LatestJobRunner(this))
{
    const QString names[kPlots] = {tr("loss"), tr("online k-NN (%)"), tr("RankMe"), tr("learning rate"), tr("images / s")};
    auto* plots = m_plotTabs = new QTabWidget(this);
    for (int i = 0; i < kPlots; ++i) {
        m_plots[i] = new CurvePlot(names[i], this);
        plots->addTab(m_plots[i], names[i]);
    }
    m_axisBox->addItems({tr("by step"), tr("by epoch"), tr("by wall time (s)")});
    auto* add = new QPushButton(tr("Add folder…"), this);
    auto* refresh = new QPushButton(tr("Refresh"), this);
    auto* branch = new QPushButton(tr("Branch…"), this);
    branch->setToolTip(tr("A new run from the selected run's latest checkpoint, with its settings in the editor"));
    auto* exportCsv = new QPushButton(tr("Export hparams CSV…"), this);
    connect(add, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("A folder of runs"));
        if (!dir.isEmpty())
            addRoot(dir);
    });
    connect(refresh, &QPushButton::clicked, this, &RunsPanel::rescan);
    connect(branch, &QPushButton::clicked, this, [this] {
        const int row = m_table->currentRow();
        const auto* r = row >= 0 ? run(m_table->item(row, Name)->data(Qt::UserRole).toString()) : nullptr;
        if (r && !r->checkpoints.empty())
            Q_EMIT branchRequested(QString::fromStdString(r->checkpoints.front()));
    });
    connect(exportCsv, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export hparams"), {}, tr("CSV files (*.csv)"));
        if (!path.isEmpty())
            exportHparams(path);
    });
    connect(m_axisBox, &QComboBox::currentIndexChanged, this, [this](int i) { setXAxis(static_cast<XAxis>(i)); });
    connect(m_table, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        if (item->column() != Name)
            return;
        const QString folder = item->data(Qt::UserRole).toString();
        const QString named = item->data(kNameRole).toString();
        if (item->text() != named && !named.isEmpty()) { // edited: the run's new name
            try {
                renameRun(folder.toStdString(), item->text().trimmed().toStdString());
                m_status->setText(tr("renamed %1 to %2").arg(named, item->text().trimmed()));
            } catch (const std::exception& e) {
                m_status->setText(QString::fromUtf8(e.what()));
            }
            item->setData(kNameRole, item->text()); // until the rescan below reads it back
            rescan();
            return;
        }
        const bool on = item->checkState() == Qt::Checked;
        if (m_checked.value(folder) != on) {
            m_checked[folder] = on;
            redrawOverlay();
            fillComparison();
        }
    });
    m_diff->setSortingEnabled(false);
    m_table->sortByColumn(Name, Qt::AscendingOrder);
    m_poll->setInterval(3000);
    connect(m_poll, &QTimer::timeout, this, &RunsPanel::rescan);
    m_poll->start();

    auto* controls = new QHBoxLayout;
    for (QWidget* w : std::initializer_list<QWidget*>{add, refresh, branch, m_axisBox, exportCsv})
        controls->addWidget(w);
    controls->addWidget(m_status, 1);
    auto* compare = m_compareTabs = new QTabWidget(this);
    compare->addTab(m_diff, tr("Config diff"));
    compare->addTab(m_hparams, tr("Hparams"));
    auto* lower = new QSplitter(Qt::Horizontal, this);
    lower->addWidget(plots);
    lower->addWidget(compare);
    lower->setStretchFactor(0, 1);
    lower->setStretchFactor(1, 1);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(lower);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(split, 1);
}

void RunsPanel::addRoot(const QString& folder)
{
    if (!m_roots.contains(folder))
        m_roots << folder;
    rescan();
}

bool RunsPanel::busy() const { return m_runner->busy(); }
void RunsPanel::showComparison(int page) { m_compareTabs->setCurrentIndex(page); }
void RunsPanel::showPlot(int plot) { m_plotTabs->setCurrentIndex(plot); }

void RunsPanel::rescan()
{
    const QStringList roots = m_roots;
    m_runner->run([this, roots]() -> LatestJobRunner::Done {
        std::vector<RunRecord> runs;
        std::set<std::string> seen;
        for (const auto& root : roots)
            for (const auto& dir : findRunFolders(root.toStdString()))
                if (seen.insert(dir).second) {
                    runs.push_back(readRunFolder(dir));
                    applySteering(runs.back()); // the settings in force now, not only those it started with
                }
        return [this, runs = std::move(runs)]() mutable { display(std::move(runs)); };
    });
}

const RunRecord* RunsPanel::run(const QString& folder) const
{
    for (const auto& r : m_runs)
        if (QString::fromStdString(r.folder) == folder)
            return &r;
    return nullptr;
}

void RunsPanel::display(std::vector<RunRecord> runs)
{
    m_runs = std::move(runs);
    fillTable();
    // Ticked runs: new points are appended; a run that was rewritten (resumed past a crash) is redrawn.
    bool rebuild = false;
    for (const auto& r : m_runs) {
        const QString folder = QString::fromStdString(r.folder);
        if (m_checked.value(folder) && m_drawn.contains(folder) && m_drawn[folder] > static_cast<int>(r.points.size()))
            rebuild = true;
    }
    if (rebuild) {
        redrawOverlay();
    } else {
        bool grown = false; // finished runs do not change: redraw only when a ticked run grew
        for (const auto& r : m_runs) {
            const QString folder = QString::fromStdString(r.folder);
            if (m_series.contains(folder) && m_drawn.value(folder) < static_cast<int>(r.points.size())) {
                appendPoints(r, m_drawn.value(folder));
                grown = true;
            }
        }
        if (grown)
            for (auto* p : m_plots)
                p->refresh();
    }
    fillComparison();
    m_status->setText((m_runs.size() == 1 ? tr("1 run in %2") : tr("%1 runs in %2").arg(m_runs.size()))
                          .arg(m_roots.join(QStringLiteral(", "))));
    Q_EMIT scanned();
}

void RunsPanel::fillTable()
{
    const QSignalBlocker block(m_table);
    const QString current = m_table->currentRow() >= 0 && m_table->item(m_table->currentRow(), Name)
                                ? m_table->item(m_table->currentRow(), Name)->data(Qt::UserRole).toString()
                                : QString();
    m_table->setSortingEnabled(false);
    m_table->setRowCount(static_cast<int>(m_runs.size()));
    for (int i = 0; i < static_cast<int>(m_runs.size()); ++i) {
        const RunRecord& r = m_runs[static_cast<size_t>(i)];
        const QString folder = QString::fromStdString(r.folder);
        auto* name = new Cell(QString::fromStdString(r.name));
        name->setData(Qt::UserRole, folder);
        name->setData(kNameRole, QString::fromStdString(r.name));
        if (r.state != RunState::Running) // double-click to rename (run.json keeps it)
            name->setFlags(name->flags() | Qt::ItemIsEditable);
        name->setToolTip(folder + (r.parent.empty() ? QString() : tr("\nbranched from %1 at step %2").arg(QString::fromStdString(r.parent)).arg(r.branchStep)));
        name->setFlags(name->flags() | Qt::ItemIsUserCheckable);
        name->setCheckState(m_checked.value(folder) ? Qt::Checked : Qt::Unchecked);
        m_table->setItem(i, Name, name);
        m_table->setItem(i, Data, new Cell(QString::fromStdString(r.data)));
        m_table->setItem(i, Model, new Cell(QString::fromStdString(r.model)));
        m_table->setItem(i, Steps, new Cell(r.stepsPlanned > 0 ? QStringLiteral("%1 / %2").arg(r.stepsDone).arg(r.stepsPlanned)
                                                               : QString::number(r.stepsDone),
                                            static_cast<double>(r.stepsDone)));
        m_table->setItem(i, Loss, new Cell(number(r.lastLoss, 4), r.lastLoss));
        m_table->setItem(i, Probe, knnCell(r));
        m_table->setItem(i, Wall, new Cell(clock(r.wallSeconds), r.wallSeconds));
        m_table->setItem(i, State, new Cell(QString::fromLatin1(runStateName(r.state))));
        QStringList problems;
        for (const auto& p : r.problems)
            problems << QString::fromStdString(p);
        auto* cell = new Cell(problems.join(QStringLiteral("; ")));
        if (!problems.isEmpty())
            cell->setForeground(QColor(180, 60, 20));
        m_table->setItem(i, Problems, cell);
    }
    m_table->resizeColumnToContents(Name); // names whole up to a third of the table, elided in the middle beyond
    m_table->setColumnWidth(Name, std::min(m_table->columnWidth(Name), std::max(160, m_table->width() / 3)));
    m_table->setSortingEnabled(true);
    for (int i = 0; i < m_table->rowCount(); ++i)
        if (m_table->item(i, Name)->data(Qt::UserRole).toString() == current)
            m_table->selectRow(i);
}

void RunsPanel::appendPoints(const RunRecord& r, int first)
{
    const QString folder = QString::fromStdString(r.folder);
    const auto ids = m_series.value(folder);
    QVector<double> x, values[kPlots];
    for (int i = first; i < static_cast<int>(r.points.size()); ++i) {
        const RunPoint& p = r.points[static_cast<size_t>(i)];
        x << (m_axis == XAxis::Step ? static_cast<double>(p.step) : m_axis == XAxis::Epoch ? p.epoch : p.wallSeconds);
        const double v[kPlots] = {p.loss, p.probe * 100, p.rankMe, p.lr, p.imagesPerSecond};
        for (int k = 0; k < kPlots; ++k)
            values[k] << v[k];
    }
    for (int k = 0; k < kPlots && k < ids.size(); ++k)
        m_plots[k]->appendMany(ids[k], x, values[k]);
    m_drawn[folder] = static_cast<int>(r.points.size());
}

void RunsPanel::redrawOverlay()
{
    const QString xLabel = m_axis == XAxis::Step ? tr("step") : m_axis == XAxis::Epoch ? tr("epoch") : tr("wall time (s)");
    for (auto* p : m_plots) {
        p->removeAllSeries();
        p->setXLabel(xLabel);
    }
    m_series.clear();
    m_drawn.clear();
    int colour = 0;
    for (const auto& r : m_runs) {
        const QString folder = QString::fromStdString(r.folder);
        if (!m_checked.value(folder))
            continue;
        QVector<int> ids;
        for (int k = 0; k < kPlots; ++k)
            ids << m_plots[k]->addSeries(QString::fromStdString(r.name), runColour(colour), k == 0 || k == 4);
        ++colour;
        m_series[folder] = ids;
        appendPoints(r, 0);
    }
    for (auto* p : m_plots) {
        p->setRawVisible(colour <= kRawLinesUpTo);
        p->fit();
    }
}

void RunsPanel::setChecked(const QString& folder, bool on)
{
    m_checked[folder] = on;
    if (m_redrawQueued)
        return;
    m_redrawQueued = true; // ticking ten runs at once redraws once
    QTimer::singleShot(0, this, [this] {
        m_redrawQueued = false;
        fillTable();
        redrawOverlay();
        fillComparison();
    });
}

QStringList RunsPanel::checkedRuns() const
{
    QStringList out;
    for (const auto& r : m_runs)
        if (m_checked.value(QString::fromStdString(r.folder)))
            out << QString::fromStdString(r.folder);
    return out;
}

void RunsPanel::setXAxis(XAxis axis)
{
    m_axis = axis;
    if (m_axisBox->currentIndex() != static_cast<int>(axis))
        m_axisBox->setCurrentIndex(static_cast<int>(axis));
    redrawOverlay();
}

QStringList RunsPanel::diffLines() const
{
    QStringList out;
    for (int i = 0; i < m_diff->rowCount(); ++i)
        out << QStringLiteral("%1: %2 | %3").arg(m_diff->item(i, 0)->text(), m_diff->item(i, 1)->text(), m_diff->item(i, 2)->text());
    return out;
}

void RunsPanel::fillComparison()
{
    std::vector<const RunRecord*> ticked;
    for (const auto& folder : checkedRuns())
        if (const auto* r = run(folder); r && r->config)
            ticked.push_back(r);
    m_diff->setRowCount(0); // in schema order
    if (ticked.size() >= 2) {
        m_diff->setHorizontalHeaderLabels({tr("Key"), QString::fromStdString(ticked[0]->name), QString::fromStdString(ticked[1]->name)});
        for (int c = 1; c < 3; ++c) // the whole name where the header elides it
            m_diff->horizontalHeaderItem(c)->setToolTip(QString::fromStdString(ticked[c - 1]->name));
        for (const auto& d : settingDifferences(*ticked[0]->config, *ticked[1]->config)) {
            const int row = m_diff->rowCount();
            m_diff->insertRow(row);
            m_diff->setItem(row, 0, new Cell(QString::fromStdString(d.key)));
            m_diff->setItem(row, 1, settingCell(*ticked[0], d.key, d.a));
            m_diff->setItem(row, 2, settingCell(*ticked[1], d.key, d.b));
        }
        m_diff->resizeColumnsToContents(); // whole keys ("optimization.lr"), not "optimization...."
    }
    // Hparams: every key that differs between any two ticked runs, then the final metrics.
    std::vector<std::string> keys;
    for (size_t i = 1; i < ticked.size(); ++i)
        for (const auto& d : settingDifferences(*ticked[0]->config, *ticked[i]->config))
            if (std::find(keys.begin(), keys.end(), d.key) == keys.end())
                keys.push_back(d.key);
    QStringList headers{tr("run")};
    for (const auto& k : keys)
        headers << QString::fromStdString(k);
    headers << tr("steps") << tr("last loss") << tr("k-NN (%)") << tr("wall (s)") << tr("state");
    m_hparams->setSortingEnabled(false);
    m_hparams->clear();
    m_hparams->setColumnCount(static_cast<int>(headers.size()));
    m_hparams->setHorizontalHeaderLabels(headers);
    m_hparams->setRowCount(static_cast<int>(ticked.size()));
    for (int row = 0; row < static_cast<int>(ticked.size()); ++row) {
        const RunRecord& r = *ticked[static_cast<size_t>(row)];
        const auto entries = configEntries(*r.config);
        int col = 0;
        m_hparams->setItem(row, col++, new Cell(QString::fromStdString(r.name)));
        for (const auto& k : keys)
            for (const auto& e : entries)
                if (e.section + "." + e.key == k)
                    m_hparams->setItem(row, col++, settingCell(r, k, e.value));
        m_hparams->setItem(row, col++, new Cell(QString::number(r.stepsDone), static_cast<double>(r.stepsDone)));
        m_hparams->setItem(row, col++, new Cell(number(r.lastLoss, 5), r.lastLoss));
        m_hparams->setItem(row, col++, knnCell(r));
        m_hparams->setItem(row, col++, new Cell(QString::number(r.wallSeconds, 'f', 0), r.wallSeconds));
        m_hparams->setItem(row, col++, new Cell(QString::fromLatin1(runStateName(r.state))));
    }
    m_hparams->resizeColumnsToContents(); // whole keys and names in the headers
    m_hparams->setSortingEnabled(true);
}

bool RunsPanel::exportHparams(const QString& path) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    QTextStream out(&file);
    const auto quote = [](QString s) {
        return s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) ? QStringLiteral("\"%1\"").arg(s.replace(QStringLiteral("\""), QStringLiteral("\"\""))) : s;
    };
    QStringList cells;
    for (int c = 0; c < m_hparams->columnCount(); ++c)
        cells << quote(m_hparams->horizontalHeaderItem(c)->text());
    out << cells.join(QLatin1Char(',')) << "\n";
    for (int r = 0; r < m_hparams->rowCount(); ++r) {
        cells.clear();
        for (int c = 0; c < m_hparams->columnCount(); ++c)
            cells << quote(m_hparams->item(r, c) ? m_hparams->item(r, c)->text() : QString());
        out << cells.join(QLatin1Char(',')) << "\n";
    }
    return out.status() == QTextStream::Ok;
}

} // namespace ijepa::widgets
