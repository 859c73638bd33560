#include "app/workbench/main_window.h"


#include "core/io/checkpoint.h"
#include "core/io/encoder_export.h"
#include "core/eval/embeddings.h"
#include "core/errors.h"
#include "core/imageio/data_spec.h"
#include "core/imageio/tar_shards.h"
#include "core/imageio/heatmap_render.h"
#include "core/imageio/mask_render.h"
#include "widgets/inspect_support.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QVBoxLayout>

#include <cmath>
#include <initializer_list>

namespace ijepa::workbench {
Config shippedConfig()
{
    QFile file(QStringLiteral(":/configs/fashion_mnist.yaml"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return parseConfig(file.readAll().toStdString(), "fashion_mnist.yaml (built in)");
}

MainWindow::MainWindow(WorkbenchOptions options, QWidget* parent)
    : QMainWindow(parent)
    , m_options(std::move(options))
    , m_worker(new TrainingWorker(this))
{
    setWindowTitle(tr("I-JEPA Workbench"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/ijepa-workbench.svg")));
    buildUi();
    setAcceptDrops(true); // a folder, shard, checkpoint or YAML file dropped on the window opens it (openDropped)
    // The window as the user left it: size, position, the dock and the toolbar (QSettings).
    const QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());

    connect(m_worker, &TrainingWorker::started, this, [this](const TrainStart& s) {
        m_runConfig = s.config;
        m_schedules->setSchedule(s.config.optimization, s.iterationsPerEpoch);
        m_status->started(s);
        log(s.resumedFrom.empty() ? tr("training started: %1 steps, %2 per epoch, in %3")
                                        .arg(s.totalIterations).arg(s.iterationsPerEpoch).arg(m_runDir)
                                  : tr("resumed from %1 at step %2").arg(QString::fromStdString(s.resumedFrom)).arg(s.firstIteration));
    });
    connect(m_worker, &TrainingWorker::progress, this, &MainWindow::onProgress);
    connect(m_worker, &TrainingWorker::maskSample, this, [this](const widgets::MaskSample& sample) {
        ++m_maskSamples;
        m_masks->setLiveSample(sample);
    });
    connect(m_worker, &TrainingWorker::logMessage, this, [this](const QString& line) {
        static const QString skipped = QString::fromLatin1(kSkippedImageMessage.data(), static_cast<qsizetype>(kSkippedImageMessage.size()));
        if (line.startsWith(skipped) && m_skippedNames.size() < 50)
            m_skippedNames << line.mid(skipped.size());
        log(line);
    });
    connect(m_worker, &TrainingWorker::workProgress, this, [this](const QString& what, qint64 done, qint64 total) {
        m_status->work(what, done, total);
    });
    connect(m_worker, &TrainingWorker::pausedChanged, this, [this](bool paused) {
        m_status->setState(paused ? tr("Paused") : tr("Training"));
        m_pause->setText(paused ? tr("Resume") : tr("Pause"));
        m_pause->setIcon(style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
        m_steer->setEnabled(paused);
    });
    connect(m_worker, &TrainingWorker::settingsChanged, this, [this](qint64 from, const QString& change, const TrainStart& now) {
        m_runConfig = now.config;
        m_editor->setConfig(now.config); // the editor shows the settings in force, steered ones included
        m_schedules->addChange(from, now.config.optimization);
        log(tr("from step %1: %2 (now %3 steps)").arg(from + 1).arg(change).arg(now.totalIterations));
    });
    connect(m_worker, &TrainingWorker::finished, this, &MainWindow::onFinished);
    connect(m_worker, &TrainingWorker::failed, this, &MainWindow::onFailed);
    connect(m_worker, &TrainingWorker::checkpointFailed, this, [this](const QString& message) {
        showError(tr("%1\nTraining is paused: free some space and press Resume to write it again, or "
                     "Stop (the previous checkpoint and every log row written so far are kept).").arg(message));
    });
    connect(m_worker, &TrainingWorker::encoderReady, this, [this](const EncoderSnapshot& snapshot) {
        computeEmbeddings(snapshot.encoder, m_editor->config(), tr("weights at step %1 (training)").arg(snapshot.iteration),
                          snapshot.model);
    });

    Config config = shippedConfig();
    try {
        if (!m_options.config.isEmpty())
            config = loadConfig(m_options.config.toStdString());
        for (const QString& o : m_options.overrides)
            applyOverride(config, o.toStdString());
        validateConfig(config);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
    }
    m_editor->setConfig(config);
    openData(m_options.data);
    setRunning(false);
}

MainWindow::~MainWindow()
{
    m_worker->stop();
}

void MainWindow::buildUi()
{
    m_editor = new widgets::ConfigEditor(this);
    connect(m_editor, &widgets::ConfigEditor::configChanged, this, &MainWindow::configChanged);
    connect(m_editor, &widgets::ConfigEditor::validityChanged, this, [this](bool valid) {
        m_start->setEnabled(valid && !m_worker->isRunning());
    });
    auto* dock = new QDockWidget(tr("Data and configuration"), this);
    dock->setObjectName(QStringLiteral("configDock"));
    dock->setWidget(buildSidePanel());
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    buildToolbar();
    buildTabs();
    m_status = new RunStatus(statusBar(), QString::fromStdString(m_options.run.trainer.device));
    resize(1280, 800);
}

// The data chooser above the config editor.
QWidget* MainWindow::buildSidePanel()
{
    auto* side = new QWidget(this);
    auto* sideLayout = new QVBoxLayout(side);
    auto* dataRow = new QHBoxLayout;
    auto* fmnist = new QPushButton(tr("Fashion-MNIST"), side);
    m_dataButtons[0] = fmnist;
    fmnist->setToolTip(tr("The built-in data set (Debian's dataset-fashion-mnist)"));
    auto* folder = new QPushButton(tr("Folder…"), side);
    m_dataButtons[1] = folder;
    folder->setToolTip(tr("A folder of images; first-level sub-folders are classes"));
    connect(fmnist, &QPushButton::clicked, this, [this] { openData(QStringLiteral("fashion-mnist")); });
    connect(folder, &QPushButton::clicked, this, [this] {
        QSettings settings; // the dialog starts where the last folder was picked
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Image folder"), settings.value(QStringLiteral("paths/data")).toString());
        if (!dir.isEmpty()) {
            settings.setValue(QStringLiteral("paths/data"), QFileInfo(dir).absolutePath());
            openData(dir);
        }
    });
    auto* shards = new QPushButton(tr("Shards…"), side);
    m_dataButtons[2] = shards;
    for (QPushButton* b : m_dataButtons) // the one in use stays pressed (showDataChoice)
        b->setCheckable(true);
    shards->setToolTip(tr("Tar shards in the WebDataset layout: pick one, its numbered siblings come along"));
    connect(shards, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("A tar shard"), QString(), tr("Tar shards (*.tar)"));
        if (!file.isEmpty())
            openData(QString::fromStdString(shardPatternFor(file.toStdString())));
    });
    dataRow->addWidget(new QLabel(tr("Data:"), side));
    dataRow->addWidget(fmnist);
    dataRow->addWidget(folder);
    dataRow->addWidget(shards);
    m_dataInfo = new QLabel(side);
    m_dataInfo->setWordWrap(true);
    sideLayout->addLayout(dataRow);
    sideLayout->addWidget(m_dataInfo);
    sideLayout->addWidget(m_editor, 1);
    return side;
}

void MainWindow::buildToolbar()
{
    auto* bar = addToolBar(tr("Training"));
    bar->setObjectName(QStringLiteral("trainingBar"));
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    buildFileActions(bar);
    bar->addSeparator();
    m_start = bar->addAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Start"));
    m_pause = bar->addAction(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause"));
    m_stop = bar->addAction(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"));
    m_start->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_pause->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    m_stop->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    m_start->setToolTip(tr("Start training (Ctrl+R)"));
    m_pause->setToolTip(tr("Pause after the current step, or resume (Ctrl+P)"));
    m_stop->setToolTip(tr("Stop after the current step and write a checkpoint (Ctrl+.)"));
    connect(m_start, &QAction::triggered, this, &MainWindow::startTraining);
    connect(m_pause, &QAction::triggered, this, &MainWindow::togglePause);
    connect(m_stop, &QAction::triggered, this, &MainWindow::stopTraining);
    m_steer = bar->addAction(tr("Steer…"));
    m_steer->setToolTip(tr("While paused: change the learning rate, weight decay, EMA range, epochs or diagnostics "
                           "cadence from the next step on (recorded in the run, so it replays)"));
    m_steer->setEnabled(false);
    connect(m_steer, &QAction::triggered, this, &MainWindow::openSteerDialog);
    auto* sweep = bar->addAction(tr("Sweep…"));
    sweep->setToolTip(tr("Which settings work on this data: a grid of config keys x seeds (ijepa sweep), results in "
                         "the Runs tab with the seeds of a setting as one"));
    connect(sweep, &QAction::triggered, this, &MainWindow::openSweepDialog);
    auto* fresh = bar->addAction(tr("New run"));
    fresh->setToolTip(tr("The next start begins a fresh run instead of continuing"));
    connect(fresh, &QAction::triggered, this, &MainWindow::startFreshRun);
}

void MainWindow::startFreshRun()
{
    m_resumeFrom.clear();
    log(tr("the next start begins a fresh run"));
    statusBar()->showMessage(tr("Start begins a fresh run"), 10000);
}

std::int64_t MainWindow::iterationsPerEpoch() const
{
    const auto batch = std::max(1, m_editor->config().data.batch_size);
    return m_train ? std::max<std::int64_t>(1, m_train->size() / batch) : 1;
}

void MainWindow::configChanged(const Config& config)
{
    m_masks->setConfig(config);
    m_maskStats->setConfig(config);
    if (!m_worker->isRunning())
        m_schedules->setSchedule(config.optimization, iterationsPerEpoch());
}

void MainWindow::useCurrentWeights()
{
    if (!m_worker->isRunning()) {
        showError(tr("No training is running: open a checkpoint instead."));
        return;
    }
    browser()->setStatus(tr("Taking a snapshot of the weights after the current step…"));
    m_worker->requestEncoder();
}

void MainWindow::computeEmbeddings(VisionTransformer encoder, const Config& config, const QString& origin,
                                   std::shared_ptr<IJepaModel> model)
{
    if (!m_heldOut) {
        showError(tr("Choose data first."));
        return;
    }
    m_embeddings->embed(std::move(encoder), m_heldOut, config, origin, std::move(model));
    m_tabs->setCurrentWidget(m_embeddings);
}

void MainWindow::startTraining()
{
    if (m_worker->isRunning())
        return;
    if (!m_editor->isValid()) {
        showError(tr("The configuration is not valid: %1").arg(m_editor->errorText()));
        return;
    }
    if (!m_train) {
        showError(tr("Choose data first."));
        return;
    }
    RunSettings s = m_options.run;
    TrainerOptions& o = s.trainer;
    o.config = m_editor->config();
    o.data = m_train;
    useProbeSet(s.diagnostics, m_dataSpec.toStdString(), m_opened, /*finalEval=*/true);
    s.log.renderMasks = batchMaskRenderer(o.config.gridSize());
    s.log.renderHeatmap = heatmapRenderer();
    const QString latest = m_runDir.isEmpty() ? QString() : QString::fromStdString(latestCheckpointPath(m_runDir.toStdString(), o.config));
    if (!m_resumeFrom.isEmpty() && m_resumeFrom == latest) {
        o.outDir = m_runDir.toStdString(); // continue the stopped run in its own folder
        o.resume = true;
    } else {
        m_runDir = QDir(m_options.runsDir).filePath(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
        o.outDir = m_runDir.toStdString();
        if (!m_resumeFrom.isEmpty() && isExportedWeights(m_resumeFrom.toStdString())) {
            o.initFrom = m_resumeFrom.toStdString(); // an export holds weights only: a new run from them
            s.log.parent = o.initFrom;
        } else if (!m_resumeFrom.isEmpty()) { // a new run from another run's checkpoint: a branch
            o.resumeFrom = m_resumeFrom.toStdString();
            s.log.parent = o.resumeFrom;
        }
        s.log.name = newRunName(o.config).toStdString();
        m_loss->clear();
        m_probe->clear();
        m_signals->clear();
        m_rank->clear();
        m_featStd->clear();
        m_sigreg->clear();
        m_throughput->clear();
        m_memory->clear();
    }
    m_lastError.clear();
    m_worker->start(std::move(s));
    setRunning(true);
    m_tabs->setCurrentIndex(0);
}

SteerDialog* MainWindow::openSteerDialog()
{
    if (!m_worker->isPaused()) {
        showError(tr("Pause the run first: settings change between two steps."));
        return nullptr;
    }
    const qint64 at = m_worker->iteration();
    auto* dialog = new SteerDialog(
        m_runConfig, m_options.run.diagnostics.every, at,
        [this, at](const Config& c) {
            m_schedules->setPreview(at, c.optimization);
            m_tabs->setCurrentWidget(m_schedules);
        },
        [this](const QStringList& changes) { return m_worker->steer(changes); }, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::rejected, m_schedules, &widgets::SchedulePlot::clearPreview);
    dialog->open();
    return dialog;
}

void MainWindow::togglePause()
{
    if (!m_worker->isRunning())
        return;
    if (m_worker->isPaused()) {
        m_worker->resume();
    } else {
        m_worker->pause();
        m_status->setState(tr("Pausing…"));
    }
}

void MainWindow::stopTraining()
{
    if (!m_worker->isRunning())
        return;
    m_status->setState(tr("Stopping after this step…"));
    m_worker->stop();
}

void MainWindow::onProgress(const QVector<StepReport>& steps, double residentMb)
{
    for (const StepReport& r : steps) {
        m_loss->append(0, static_cast<double>(r.iteration), r.loss);
        if (std::isfinite(r.sigregLoss)) {
            m_loss->append(1, static_cast<double>(r.iteration), r.jepaLoss);
            m_loss->append(2, static_cast<double>(r.iteration), r.sigregWeight * r.sigregLoss);
        }
        m_sigreg->append(0, static_cast<double>(r.iteration), r.sigregSignal);
        m_throughput->append(0, static_cast<double>(r.iteration), r.imagesPerSecond);
        m_memory->append(0, static_cast<double>(r.iteration), residentMb);
        if (std::isfinite(r.rankMe)) {
            m_rank->append(0, static_cast<double>(r.iteration), r.rankMe);
            m_featStd->append(0, static_cast<double>(r.iteration), r.featureStd);
        }
        m_probe->append(0, static_cast<double>(r.iteration), 100.0 * r.probeAccuracy);
        m_probe->append(1, static_cast<double>(r.iteration), 100.0 * r.contextProbeAccuracy);
        if (r.signals)
            m_signals->showSignals(r);
    }
    m_stepsSeen += steps.size();
    m_last = steps.back();
    m_residentMb = residentMb;
    for (auto* plot : {m_loss, m_probe, m_rank, m_featStd, m_sigreg, m_throughput, m_memory})
        plot->refresh();
    m_schedules->setCursor(m_last.iteration);
    m_status->step(m_last, residentMb);
    if (m_last.skippedFiles != m_skippedShown && m_train)
        showDataInfo(m_last.skippedFiles);
}

void MainWindow::onFinished(const TrainResult& result)
{
    setRunning(false);
    const QString what = QString::fromStdString(describeResult(result));
    log(tr("training %1; checkpoint %2").arg(what, QString::fromStdString(result.checkpoint)));
    m_status->ended(result);
    if (result.status == TrainStatus::Diverged)
        showError(tr("The loss became non-finite at step %1; the last good checkpoint is kept.").arg(result.iteration + 1));
    if (!result.checkpoint.empty())
        rememberCheckpoint(QString::fromStdString(result.checkpoint));
    if (!result.checkpoint.empty() && result.status != TrainStatus::Finished)
        m_resumeFrom = QString::fromStdString(result.checkpoint); // Start continues this run
    Q_EMIT trainingEnded(result);
    if (m_closeWhenStopped)
        close();
}

void MainWindow::onFailed(const QString& message)
{
    setRunning(false);
    m_status->setState(tr("Failed"));
    showError(message);
    Q_EMIT trainingEnded(TrainResult{});
    if (m_closeWhenStopped)
        close();
}

void MainWindow::setRunning(bool running)
{
    m_start->setEnabled(!running && m_editor->isValid());
    m_pause->setEnabled(running);
    m_stop->setEnabled(running);
    m_pause->setText(tr("Pause"));
    m_pause->setIcon(style()->standardIcon(QStyle::SP_MediaPause));
    m_steer->setEnabled(false);
    m_editor->setLocked(running);
    m_masks->setTraining(running);
    m_embeddings->setTrainingRunning(running);
    if (running)
        m_status->setState(tr("Training"));
}

void MainWindow::log(const QString& line)
{
    m_log->appendPlainText(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss  ")) + line);
}

void MainWindow::showError(const QString& message)
{
    m_lastError = message;
    log(tr("error: %1").arg(message));
    statusBar()->showMessage(message, 10000);
    if (isVisible() && QApplication::platformName() != QLatin1String("offscreen")) {
        auto* box = new QMessageBox(QMessageBox::Warning, tr("I-JEPA Workbench"), message, QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open(); // window-modal, does not block the event loop
    }
}

QString MainWindow::statusText() const
{
    return m_status->text();
}

void MainWindow::closeAfterCheckpoint()
{
    m_closeWhenStopped = true;
    close();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (!m_worker->isRunning()) {
        QSettings settings;
        settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
        settings.setValue(QStringLiteral("window/state"), saveState());
        event->accept();
        return;
    }
    if (!m_closeWhenStopped && m_options.askOnClose &&
        QMessageBox::question(this, tr("Training is running"),
                              tr("Stop training, write a checkpoint and quit?")) != QMessageBox::Yes) {
        event->ignore();
        return;
    }
    // Stop after the current step (a checkpoint is written), then close when the worker reports.
    m_closeWhenStopped = true;
    stopTraining();
    event->ignore();
}

} // namespace ijepa::workbench
