#pragma once

#include "app/workbench/embeddings_tab.h"
#include "app/workbench/run_status.h"
#include "app/workbench/signals_tab.h"
#include "app/workbench/steer_dialog.h"
#include "core/imageio/data_spec.h"
#include "app/workbench/training_worker.h"

#include "widgets/config_editor.h"
#include "widgets/curve_plot.h"
#include "widgets/embedding_browser.h"
#include "widgets/mask_stats_view.h"
#include "widgets/mask_view.h"
#include "widgets/runs_panel.h"
#include "widgets/schedule_plot.h"

#include <QMainWindow>

#include <functional>

#include <memory>

class QAction;
class QDragEnterEvent;
class QDropEvent;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QToolBar;

namespace ijepa::workbench {

class SweepDialog;

struct WorkbenchOptions {
    QString data = QStringLiteral("fashion-mnist"); // a data spec (core/imageio/data_spec.h)
    QString config;          // YAML; empty: the shipped Fashion-MNIST config
    QString runsDir = QStringLiteral("runs/workbench"); // each run gets a time-stamped folder here
    qint64 limit = 0;        // use only the first N training images (0: all)
    // Every run's settings (max steps, threads, device, checkpoint and diagnostics cadence), with
    // the defaults ijepa train has; config, data and folder are filled in at each start.
    RunSettings run;
    bool askOnClose = true;  // ask before closing during training
    QStringList overrides;   // section.key=value applied to the initial config
};

// The built-in settings (configs/fashion_mnist.yaml, from the resources): the editor's start and
// what a new run's name is measured against.
Config shippedConfig();

// What opening a checkpoint is for: looking at it (the views embed with its weights; the config
// editor and the next Start stay as they are), or continuing it (its settings go into the editor
// and Start continues its run; an export's weights start a new run).
enum class CheckpointUse { Inspect, Continue };

// The workbench window: data and config on the left, the training controls in the toolbar, one
// tab per view (masks, loss, collapse, schedules, throughput, embeddings, log), and a status bar
// with step, epoch, loss, img/s, ETA, device and memory.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(WorkbenchOptions options, QWidget* parent = nullptr);
    ~MainWindow() override;

    bool openData(const QString& spec);        // false (and the message shown) on error
    // A path dropped on the window (or given): a folder or tar shard is data, a checkpoint or an
    // export is opened to inspect, a YAML file goes into the config editor. False if it is none of these.
    bool openDropped(const QString& path);
    // Reads the checkpoint off the UI thread (a large one takes seconds), then embeds with it and,
    // to continue it, loads its config; `opened` runs on the UI thread once it is open (not when it
    // cannot be read).
    void openCheckpoint(const QString& path, CheckpointUse use, std::function<void()> opened = {});
    QString resumeFrom() const { return m_resumeFrom; } // what the next Start continues ("" for a fresh run)
    QString newRunName(const Config& config) const; // what a new run trains on and changes, or its branch's parent
    QString runsRoot() const;   // the folder the Runs tab lists: runs/ when the runs folder is runs/<name>
    QString runsFolder() const; // where the file dialogs open: that folder when it exists
    // Checkpoints opened or trained, newest first (QSettings, at most 10, files that are gone left
    // out); the Open button's menu lists them and inspects the one picked.
    QStringList recentCheckpoints() const;
    void rememberCheckpoint(const QString& path);
    QMenu* recentMenu() const { return m_recentMenu; }
    void startTraining();
    void togglePause();
    void stopTraining();
    void startFreshRun();                      // "New run": the next Start begins a new run
    void useCurrentWeights();                  // embedding browser on a snapshot of the weights
    SteerDialog* openSteerDialog();            // while paused: change settings from the next step on
    // A sweep of the editor's config on the data in use (ijepa sweep in its own process); its
    // folder joins the Runs tab.
    SweepDialog* openSweepDialog();
    void closeAfterCheckpoint();               // a stop signal: stop after this step (a checkpoint), quit, no question

    // For tests and screenshots.
    TrainingWorker* worker() const { return m_worker; }
    widgets::ConfigEditor* configEditor() const { return m_editor; }
    widgets::MaskPanel* maskPanel() const { return m_masks; }
    widgets::MaskStatsView* maskStats() const { return m_maskStats; }
    EmbeddingsTab* embeddingsTab() const { return m_embeddings; }
    void showMaskPage(int page); // 0 samples, 1 statistics
    widgets::RunsPanel* runsPanel() const { return m_runs; }
    QString dataInfo() const;   // the data line under the data buttons
    int dataChoice() const;     // the data button pressed: 0 Fashion-MNIST, 1 folder, 2 shards, -1 none
    widgets::CurvePlot* lossPlot() const { return m_loss; }
    widgets::CurvePlot* probePlot() const { return m_probe; }
    SignalsTab* signalsTab() const { return m_signals; }
    widgets::CurvePlot* rankPlot() const { return m_rank; }
    widgets::SchedulePlot* schedulePlot() const { return m_schedules; }
    widgets::CurvePlot* throughputPlot() const { return m_throughput; }
    widgets::EmbeddingBrowser* browser() const { return m_embeddings->browser(); }
    QTabWidget* tabs() const { return m_tabs; }
    QString lastError() const { return m_lastError; }
    QString statusText() const;
    qint64 stepsSeen() const { return m_stepsSeen; }
    int maskSamplesSeen() const { return m_maskSamples; }
    bool embeddingsBusy() const { return m_embeddings->busy(); }
    QString runDir() const { return m_runDir; }

Q_SIGNALS:
    void trainingEnded(const ijepa::TrainResult& result);
    void embeddingsReady();

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void showDataChoice();                   // presses the data button in use
    void showDataInfo(std::int64_t skipped); // the data's line, with the files skipped so far
    void buildUi();
    QWidget* buildSidePanel();
    void buildToolbar();
    void buildFileActions(QToolBar* bar);
    void fillRecentMenu();
    void buildTabs();
    void configChanged(const Config& config);
    void onProgress(const QVector<StepReport>& steps, double residentMb);
    void onFinished(const TrainResult& result);
    void onFailed(const QString& message);
    void setRunning(bool running);
    void log(const QString& line);
    void showError(const QString& message);
    void computeEmbeddings(VisionTransformer encoder, const Config& config, const QString& origin,
                           std::shared_ptr<IJepaModel> model = nullptr);
    std::int64_t iterationsPerEpoch() const;

    WorkbenchOptions m_options;
    std::shared_ptr<ImageSource> m_train;   // training images
    std::shared_ptr<ImageSource> m_heldOut; // diagnostics and the embedding browser
    QString m_dataSpec;    // what m_train and m_heldOut were opened from
    OpenedData m_opened;   // the same, as openDataSpec returned it (for the probe set)
    QString m_resumeFrom;  // checkpoint the next start continues from, or export it starts from ("" : a fresh run)
    QPushButton* m_dataButtons[3] = {};     // Fashion-MNIST, Folder…, Shards…
    QStringList m_skippedNames;             // unreadable files named so far (the data line's tool tip)
    std::int64_t m_skippedShown = 0;
    Config m_continuedConfig; // the settings of the checkpoint m_resumeFrom names (a branch's parent)
    QString m_runDir;
    TrainingWorker* m_worker;
    bool m_closeWhenStopped = false;
    QString m_lastError;
    qint64 m_stepsSeen = 0;
    int m_maskSamples = 0;
    StepReport m_last;
    double m_residentMb = 0;

    widgets::ConfigEditor* m_editor = nullptr;
    widgets::MaskPanel* m_masks = nullptr;
    widgets::MaskStatsView* m_maskStats = nullptr;
    QTabWidget* m_maskPages = nullptr;
    widgets::RunsPanel* m_runs = nullptr;
    QAction* m_steer = nullptr;
    Config m_runConfig; // the running run's config, as steered
    widgets::CurvePlot* m_loss = nullptr;
    widgets::CurvePlot* m_probe = nullptr;
    SignalsTab* m_signals = nullptr;
    widgets::CurvePlot* m_rank = nullptr;
    widgets::CurvePlot* m_featStd = nullptr;
    widgets::CurvePlot* m_sigreg = nullptr; // the label-free SIGReg statistic of the probe features
    widgets::SchedulePlot* m_schedules = nullptr;
    widgets::CurvePlot* m_throughput = nullptr;
    widgets::CurvePlot* m_memory = nullptr;
    EmbeddingsTab* m_embeddings = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QTabWidget* m_tabs = nullptr;
    QMenu* m_recentMenu = nullptr;
    QAction *m_open = nullptr, *m_continue = nullptr, *m_start = nullptr, *m_pause = nullptr, *m_stop = nullptr;
    QLabel* m_dataInfo = nullptr;
    RunStatus* m_status = nullptr;
};

} // namespace ijepa::workbench
