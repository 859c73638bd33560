#include "widgets/runs_panel.h"

#include "widgets/curve_plot.h"
#include "widgets/inspect_support.h"
#include "widgets/run_groups.h"
#include "widgets/runs_table.h"
#include "core/train/steering.h"

#include <QCheckBox>
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

RunsPanel::RunsPanel(QWidget* parent)
    : QWidget(parent)
    , m_table(makeTable(this, {tr("Run"), tr("Data"), tr("Model"), tr("Steps"), tr("Last loss"), tr("k-NN (%)"),
                               tr("Wall time"), tr("State"), tr("Problems")}))
    , m_diff(makeTable(this, {tr("Key"), tr("Run A"), tr("Run B")}))
    , m_hparams(makeTable(this, {}))
    , m_axisBox(new QComboBox(this))
    , m_seedsBox(new QCheckBox(tr("Seeds as one"), this))
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
    m_seedsBox->setChecked(m_groupSeeds);
    m_seedsBox->setToolTip(tr("Ticked runs that differ only in their seed (a sweep's trials of one setting) are drawn as "
                              "their mean with a band of +-1 sd, and the hparams table shows mean ± sd"));
    connect(m_seedsBox, &QCheckBox::toggled, this, &RunsPanel::setGroupSeeds);
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
    for (QWidget* w : std::initializer_list<QWidget*>{add, refresh, branch, m_axisBox, m_seedsBox, exportCsv})
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
        if (m_grouped.contains(folder) && m_drawn.value(folder) != static_cast<int>(r.points.size()))
            rebuild = true; // a group's mean and band are drawn whole
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

namespace {
// What plot k shows of a point: loss, probe (%), RankMe, lr, img/s.
double plotValue(int k, const RunPoint& p)
{
    const double v[RunsPanel::kPlots] = {p.loss, p.probe * 100, p.rankMe, p.lr, p.imagesPerSecond};
    return v[k];
}
} // namespace

double RunsPanel::xOf(const RunPoint& p) const
{
    return m_axis == XAxis::Step ? static_cast<double>(p.step) : m_axis == XAxis::Epoch ? p.epoch : p.wallSeconds;
}

void RunsPanel::appendPoints(const RunRecord& r, int first)
{
    const QString folder = QString::fromStdString(r.folder);
    const auto ids = m_series.value(folder);
    QVector<double> x, values[kPlots];
    for (int i = first; i < static_cast<int>(r.points.size()); ++i) {
        const RunPoint& p = r.points[static_cast<size_t>(i)];
        x << xOf(p);
        for (int k = 0; k < kPlots; ++k)
            values[k] << plotValue(k, p);
    }
    for (int k = 0; k < kPlots && k < ids.size(); ++k)
        m_plots[k]->appendMany(ids[k], x, values[k]);
    m_drawn[folder] = static_cast<int>(r.points.size());
}

std::vector<const RunRecord*> RunsPanel::tickedRuns(bool withConfig) const
{
    std::vector<const RunRecord*> out;
    for (const auto& r : m_runs)
        if (m_checked.value(QString::fromStdString(r.folder)) && (!withConfig || r.config))
            out.push_back(&r);
    return out;
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
    m_grouped.clear();
    const std::vector<RunGroup> groups = groupRuns(tickedRuns(false), m_groupSeeds);
    int colour = 0;
    for (const auto& g : groups) {
        QVector<int> ids;
        for (int k = 0; k < kPlots; ++k)
            ids << m_plots[k]->addSeries(g.name, runColour(colour), k == 0 || k == 4);
        ++colour;
        if (g.members.size() == 1) {
            m_series[QString::fromStdString(g.members.front()->folder)] = ids;
            appendPoints(*g.members.front(), 0);
            continue;
        }
        // Seeds of one setting: their mean, and a band of +-1 sd (redrawn whole when one grows).
        const auto x = [this](const RunPoint& p) { return xOf(p); };
        for (int k = 0; k < kPlots; ++k) {
            const GroupCurve c = groupCurve(g, x, [k](const RunPoint& p) { return plotValue(k, p); });
            m_plots[k]->appendMany(ids[k], c.x, c.mean);
            m_plots[k]->setBand(ids[k], c.x, c.lo, c.hi);
        }
        for (const RunRecord* r : g.members) {
            m_grouped.insert(QString::fromStdString(r->folder));
            m_drawn[QString::fromStdString(r->folder)] = static_cast<int>(r->points.size());
        }
    }
    for (auto* p : m_plots) {
        p->setRawVisible(colour <= kRawLinesUpTo);
        p->fit();
    }
}

void RunsPanel::setGroupSeeds(bool on)
{
    if (m_seedsBox->isChecked() != on)
        return m_seedsBox->setChecked(on); // its toggled signal comes back here
    m_groupSeeds = on;
    redrawOverlay();
    fillComparison();
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

} // namespace ijepa::widgets
