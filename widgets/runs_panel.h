#pragma once

#include "core/runs/run_folder.h"

#include <QMap>
#include <QSet>
#include <QStringList>
#include <QWidget>

#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QTabWidget;
class QTableWidget;
class QTimer;

namespace ijepa::widgets {

class CurvePlot;
class LatestJobRunner;

// Every run under the runs folders (ijepa train's, the workbench's, the reference's own log
// folders), one row each: name, data, model, steps done / planned, last loss, last probe, wall
// time, state and what is wrong with it, sortable by any column. The folders are read off the UI
// thread every few seconds, so a run another process is writing updates while you watch. Tick runs
// to overlay them on every plot (loss, probe, RankMe, learning rate, throughput), one colour a
// run, by step, epoch or wall time; a branched run starts at its parent's step. Two ticked runs:
// the config keys that differ; all ticked runs: an hparams table (keys that differ, final
// metrics), sortable, exported as CSV. "Branch" hands the selected run's latest checkpoint on.
class RunsPanel : public QWidget {
    Q_OBJECT
public:
    enum class XAxis { Step, Epoch, WallTime };
    static constexpr int kPlots = 5;
    // Up to this many overlaid runs the plots show each run's faint raw line under its smoothed one.
    static constexpr int kRawLinesUpTo = 4;

    explicit RunsPanel(QWidget* parent = nullptr);
    void addRoot(const QString& folder);
    QStringList roots() const { return m_roots; }
    void rescan(); // reads every run folder off the UI thread; scanned() follows
    bool busy() const;
    void setChecked(const QString& folder, bool on);
    QStringList checkedRuns() const;
    void setXAxis(XAxis axis);
    const std::vector<RunRecord>& runs() const { return m_runs; }
    const RunRecord* run(const QString& folder) const;
    CurvePlot* plot(int i) const { return m_plots[i]; }
    // The two first ticked runs' differing keys as "key: a | b" lines.
    QStringList diffLines() const;
    QTableWidget* table() const { return m_table; }
    QTableWidget* hparamsTable() const { return m_hparams; }
    bool exportHparams(const QString& path) const;
    void showComparison(int page); // 0 config diff, 1 hparams
    void showPlot(int plot);       // 0 loss, 1 probe, 2 RankMe, 3 lr, 4 img/s
    // Ticked runs that differ only in meta.seed as one: their mean with a band of +-1 sd on the
    // plots, one row of mean +- sd in the hparams table (on by default).
    void setGroupSeeds(bool on);
    bool groupSeeds() const { return m_groupSeeds; }

Q_SIGNALS:
    void scanned();
    void branchRequested(const QString& checkpoint);

private:
    void display(std::vector<RunRecord> runs);
    void fillTable();
    void redrawOverlay();
    void appendPoints(const RunRecord& run, int firstPoint);
    double xOf(const RunPoint& p) const;
    std::vector<const RunRecord*> tickedRuns(bool withConfig) const;
    void fillHparams(const std::vector<const RunRecord*>& ticked);
    void fillComparison();

    QStringList m_roots;
    std::vector<RunRecord> m_runs;
    QMap<QString, bool> m_checked;           // folder -> ticked
    QMap<QString, QVector<int>> m_series;    // folder -> series id per plot
    QMap<QString, int> m_drawn;              // folder -> points already drawn
    XAxis m_axis = XAxis::Step;
    bool m_redrawQueued = false;
    bool m_groupSeeds = true;
    QSet<QString> m_grouped;                 // ticked runs drawn as part of a group's mean
    QTableWidget* m_table;
    QTableWidget* m_diff;
    QTableWidget* m_hparams;
    QComboBox* m_axisBox;
    QCheckBox* m_seedsBox;
    QTabWidget* m_plotTabs;
    QTabWidget* m_compareTabs;
    QLabel* m_status;
    CurvePlot* m_plots[kPlots];
    QTimer* m_poll;
    LatestJobRunner* m_runner;
};

} // namespace ijepa::widgets
