#include "main_window.h"

#include <checkpoint.h>
#include <embeddings.h>
#include <errors.h>
#include <image_folder.h>
#include <mask_render.h>

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
#include <QInputDialog>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>

namespace ijepa::workbench {
namespace {

QString duration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return QStringLiteral("–");
    const qint64 s = static_cast<qint64>(seconds);
    return s >= 3600 ? QStringLiteral("%1h%2m").arg(s / 3600).arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
                     : QStringLiteral("%1m%2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

Config defaultConfig()
{
    QFile file(QStringLiteral(":/configs/fashion_mnist.yaml"));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return parseConfig(file.readAll().toStdString(), "fashion_mnist.yaml (built in)");
}

struct EmbeddingJob {
    widgets::EmbeddingSet set;
    QString error;
};

} // namespace

MainWindow::MainWindow(WorkbenchOptions options, QWidget* parent)
    : QMainWindow(parent)
    , m_options(std::move(options))
    , m_worker(new TrainingWorker(this))
{
    setWindowTitle(tr("I-JEPA Workbench"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/ijepa-workbench.svg")));
    buildUi();

    connect(m_worker, &TrainingWorker::started, this, [this](const TrainStart& s) {
        m_schedules->setSchedule(m_editor->config().optimization, s.iterationsPerEpoch);
        m_progress->setRange(0, static_cast<int>(s.totalIterations));
        m_progress->setValue(static_cast<int>(s.firstIteration));
        log(s.resumedFrom.empty() ? tr("training started: %1 steps, %2 per epoch, in %3")
                                        .arg(s.totalIterations).arg(s.iterationsPerEpoch).arg(m_runDir)
                                  : tr("resumed from %1 at step %2").arg(QString::fromStdString(s.resumedFrom)).arg(s.firstIteration));
    });
    connect(m_worker, &TrainingWorker::progress, this, &MainWindow::onProgress);
    connect(m_worker, &TrainingWorker::maskSample, this, [this](const widgets::MaskSample& sample) {
        ++m_maskSamples;
        m_masks->setLiveSample(sample);
    });
    connect(m_worker, &TrainingWorker::logMessage, this, &MainWindow::log);
    connect(m_worker, &TrainingWorker::pausedChanged, this, [this](bool paused) {
        m_state->setText(paused ? tr("Paused") : tr("Training"));
        m_pause->setText(paused ? tr("Resume") : tr("Pause"));
    });
    connect(m_worker, &TrainingWorker::finished, this, &MainWindow::onFinished);
    connect(m_worker, &TrainingWorker::failed, this, &MainWindow::onFailed);
    connect(m_worker, &TrainingWorker::encoderReady, this, [this](const EncoderSnapshot& snapshot) {
        computeEmbeddings(snapshot.encoder, m_editor->config(), tr("weights at step %1 (training)").arg(snapshot.iteration));
    });

    Config config = defaultConfig();
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

    // Data chooser above the config.
    auto* side = new QWidget(this);
    auto* sideLayout = new QVBoxLayout(side);
    auto* dataRow = new QHBoxLayout;
    auto* fmnist = new QPushButton(tr("Fashion-MNIST"), side);
    fmnist->setToolTip(tr("The built-in data set (Debian's dataset-fashion-mnist)"));
    auto* folder = new QPushButton(tr("Folder…"), side);
    folder->setToolTip(tr("A folder of images; first-level sub-folders are classes"));
    connect(fmnist, &QPushButton::clicked, this, [this] { openData(QStringLiteral("fashion-mnist")); });
    connect(folder, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Image folder"));
        if (!dir.isEmpty())
            openData(dir);
    });
    dataRow->addWidget(new QLabel(tr("Data:"), side));
    dataRow->addWidget(fmnist);
    dataRow->addWidget(folder);
    m_dataInfo = new QLabel(side);
    m_dataInfo->setWordWrap(true);
    sideLayout->addLayout(dataRow);
    sideLayout->addWidget(m_dataInfo);
    sideLayout->addWidget(m_editor, 1);
    auto* dock = new QDockWidget(tr("Data and configuration"), this);
    dock->setObjectName(QStringLiteral("configDock"));
    dock->setWidget(side);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, dock);

    // Toolbar.
    auto* bar = addToolBar(tr("Training"));
    bar->setObjectName(QStringLiteral("trainingBar"));
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    auto* open = bar->addAction(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("Open checkpoint…"));
    connect(open, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open checkpoint"), {}, tr("Checkpoints (*.pth.tar *.pth *.pt);;All files (*)"));
        if (!path.isEmpty())
            openCheckpoint(path);
    });
    bar->addSeparator();
    m_start = bar->addAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Start"));
    m_pause = bar->addAction(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause"));
    m_stop = bar->addAction(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"));
    m_start->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_stop->setToolTip(tr("Stop after the current step and write a checkpoint"));
    connect(m_start, &QAction::triggered, this, &MainWindow::startTraining);
    connect(m_pause, &QAction::triggered, this, &MainWindow::togglePause);
    connect(m_stop, &QAction::triggered, this, &MainWindow::stopTraining);
    auto* fresh = bar->addAction(tr("New run"));
    fresh->setToolTip(tr("The next start begins a fresh run instead of continuing"));
    connect(fresh, &QAction::triggered, this, [this] {
        m_resumeFrom.clear();
        log(tr("the next start begins a fresh run"));
    });

    // Views.
    m_tabs = new QTabWidget(this);
    m_masks = new widgets::MaskPanel(this);
    connect(m_masks, &widgets::MaskPanel::maskSettingsChanged, this, [this](const QString& sampler, const QString& position) {
        m_editor->setValue(QStringLiteral("mask.sampler"), sampler);
        m_editor->setValue(QStringLiteral("mask.position_mode"), position);
    });
    m_tabs->addTab(m_masks, tr("Masks"));

    m_loss = new widgets::CurvePlot(tr("loss (smooth L1)"), this);
    m_loss->addSeries(tr("loss"), QColor(31, 119, 180));
    m_tabs->addTab(m_loss, tr("Loss"));

    auto* collapse = new QWidget(this);
    auto* collapseLayout = new QVBoxLayout(collapse);
    m_rank = new widgets::CurvePlot(tr("RankMe"), collapse);
    m_rank->addSeries(tr("RankMe"), QColor(148, 103, 189), false);
    m_featStd = new widgets::CurvePlot(tr("std of normalised features"), collapse);
    m_featStd->addSeries(tr("feature std"), QColor(140, 86, 75), false);
    collapseLayout->addWidget(new QLabel(tr("Collapse diagnostics of the target encoder on fixed held-out images: "
                                            "RankMe near 1 or a feature std near 0 means the representation has collapsed."),
                                         collapse));
    collapseLayout->addWidget(m_rank, 1);
    collapseLayout->addWidget(m_featStd, 1);
    m_tabs->addTab(collapse, tr("Collapse"));

    m_schedules = new widgets::SchedulePlot(this);
    m_tabs->addTab(m_schedules, tr("Schedules"));

    auto* speed = new QWidget(this);
    auto* speedLayout = new QVBoxLayout(speed);
    m_throughput = new widgets::CurvePlot(tr("images / s"), speed);
    m_throughput->addSeries(tr("img/s"), QColor(44, 160, 44), false);
    m_memory = new widgets::CurvePlot(tr("resident memory (MiB)"), speed);
    m_memory->addSeries(tr("memory"), QColor(255, 127, 14), false);
    speedLayout->addWidget(m_throughput, 1);
    speedLayout->addWidget(m_memory, 1);
    m_tabs->addTab(speed, tr("Throughput"));

    auto* embed = new QWidget(this);
    auto* embedLayout = new QVBoxLayout(embed);
    auto* embedRow = new QHBoxLayout;
    auto* openCk = new QPushButton(tr("Open checkpoint…"), embed);
    connect(openCk, &QPushButton::clicked, open, &QAction::trigger);
    auto* current = new QPushButton(tr("Current weights"), embed);
    current->setToolTip(tr("Embed with a snapshot of the target encoder taken after the current step"));
    connect(current, &QPushButton::clicked, this, &MainWindow::useCurrentWeights);
    m_browserImages = new QSpinBox(embed);
    m_browserImages->setRange(16, 10000);
    m_browserImages->setValue(1000);
    m_browserImages->setToolTip(tr("Held-out images to embed and browse"));
    m_browserProgress = new QProgressBar(embed);
    m_browserProgress->setVisible(false);
    embedRow->addWidget(openCk);
    embedRow->addWidget(current);
    embedRow->addWidget(new QLabel(tr("Images"), embed));
    embedRow->addWidget(m_browserImages);
    embedRow->addWidget(m_browserProgress, 1);
    embedRow->addStretch();
    m_browser = new widgets::EmbeddingBrowser(embed);
    embedLayout->addLayout(embedRow);
    embedLayout->addWidget(m_browser, 1);
    m_tabs->addTab(embed, tr("Embeddings"));

    m_log = new QPlainTextEdit(this);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    m_tabs->addTab(m_log, tr("Log"));
    setCentralWidget(m_tabs);

    // Status bar.
    m_state = new QLabel(tr("Ready"), this);
    m_stepLabel = new QLabel(this);
    m_lossLabel = new QLabel(this);
    m_speedLabel = new QLabel(this);
    m_etaLabel = new QLabel(this);
    m_deviceLabel = new QLabel(m_options.device, this);
    m_memoryLabel = new QLabel(this);
    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(180);
    for (QWidget* w : std::initializer_list<QWidget*>{m_state, m_progress, m_stepLabel, m_lossLabel, m_speedLabel,
                                                      m_etaLabel, m_deviceLabel, m_memoryLabel})
        statusBar()->addWidget(w);
    resize(1280, 800);
}

std::int64_t MainWindow::iterationsPerEpoch() const
{
    const auto batch = std::max(1, m_editor->config().data.batch_size);
    return m_train ? std::max<std::int64_t>(1, m_train->size() / batch) : 1;
}

void MainWindow::configChanged(const Config& config)
{
    m_masks->setConfig(config);
    if (!m_worker->isRunning())
        m_schedules->setSchedule(config.optimization, iterationsPerEpoch());
}

bool MainWindow::openData(const QString& spec)
{
    if (m_worker->isRunning()) {
        showError(tr("Stop training before changing the data."));
        return false;
    }
    try {
        if (spec == QLatin1String("fashion-mnist")) {
            m_train = openFashionMnist("train");
            m_heldOut = openFashionMnist("test");
            m_dataLabel = tr("Fashion-MNIST");
        } else {
            m_train = openImageFolder(spec.toStdString());
            m_heldOut = m_train;
            m_dataLabel = QFileInfo(spec).fileName();
        }
        if (m_options.limit > 0)
            m_train = limitSource(m_train, m_options.limit);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
    m_dataInfo->setText(tr("%1: %2 training images, %3 classes")
                            .arg(QString::fromStdString(m_train->description()))
                            .arg(m_train->size())
                            .arg(m_train->classes().size()));
    m_masks->setSource(m_train);
    m_schedules->setSchedule(m_editor->config().optimization, iterationsPerEpoch());
    log(tr("data: %1").arg(m_dataInfo->text()));
    return true;
}

bool MainWindow::openCheckpoint(const QString& path)
{
    try {
        // A project checkpoint carries its config; a reference one is read with the edited config.
        LoadedEncoder loaded;
        try {
            loaded = loadEncoder(path.toStdString(), nullptr);
            if (!m_worker->isRunning())
                m_editor->setConfig(loaded.config);
        } catch (const CheckpointError&) {
            const Config config = m_editor->config();
            loaded = loadEncoder(path.toStdString(), &config);
        }
        log(tr("checkpoint %1: %2 (%3-d, depth %4)")
                .arg(path, QString::fromStdString(loaded.config.meta.model_name))
                .arg(loaded.config.encoderSize().embed_dim)
                .arg(loaded.config.encoderSize().depth));
        m_resumeFrom = path;
        log(tr("the next start continues from %1 (\"New run\" to start afresh)").arg(path));
        computeEmbeddings(loaded.encoder, loaded.config, QFileInfo(path).fileName());
        return true;
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
}

void MainWindow::useCurrentWeights()
{
    if (!m_worker->isRunning()) {
        showError(tr("No training is running: open a checkpoint instead."));
        return;
    }
    m_browser->setStatus(tr("Taking a snapshot of the weights after the current step…"));
    m_worker->requestEncoder();
}

void MainWindow::computeEmbeddings(VisionTransformer encoder, const Config& config, const QString& origin)
{
    if (!m_heldOut) {
        showError(tr("Choose data first."));
        return;
    }
    ++m_embeddingJobs;
    m_browserProgress->setVisible(true);
    m_browserProgress->setValue(0);
    m_browser->setStatus(tr("Embedding %1 images with %2…").arg(m_browserImages->value()).arg(origin));
    m_tabs->setCurrentWidget(m_browser->parentWidget());
    auto* watcher = new QFutureWatcher<EmbeddingJob>(this);
    const QPointer<QProgressBar> bar = m_browserProgress;
    const auto source = m_heldOut;
    const int count = m_browserImages->value();
    const int crop = config.data.crop_size, patch = config.mask.patch_size;
    connect(watcher, &QFutureWatcher<EmbeddingJob>::finished, this, [this, watcher, origin] {
        EmbeddingJob job = watcher->result();
        watcher->deleteLater();
        --m_embeddingJobs;
        m_browserProgress->setVisible(m_embeddingJobs > 0);
        if (!job.error.isEmpty()) {
            m_browser->setStatus(job.error);
            showError(job.error);
            return;
        }
        job.set.origin = origin;
        m_browser->setEmbeddings(std::move(job.set));
        Q_EMIT embeddingsReady();
    });
    watcher->setFuture(QtConcurrent::run([encoder, source, count, crop, patch, bar]() {
        EmbeddingJob job;
        try {
            job.set = widgets::computeEmbeddingSet(encoder, source, crop, patch, count,
                                                   [bar](std::int64_t done, std::int64_t total) {
                                                       QMetaObject::invokeMethod(bar, [bar, done, total] {
                                                           if (bar) {
                                                               bar->setMaximum(static_cast<int>(total));
                                                               bar->setValue(static_cast<int>(done));
                                                           }
                                                       }, Qt::QueuedConnection);
                                                   });
        } catch (const std::exception& e) {
            job.error = QString::fromUtf8(e.what());
        }
        return job;
    }));
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
    TrainerOptions o;
    o.config = m_editor->config();
    o.data = m_train;
    o.device = m_options.device.toStdString();
    o.maxSteps = m_options.maxSteps;
    o.diagnostics = limitSource(m_heldOut, 512);
    o.diagnosticsEvery = 20;
    o.checkpointEvery = 200;
    o.renderMasks = batchMaskRenderer(o.config.gridSize());
    const QString latest = m_runDir.isEmpty() ? QString() : QString::fromStdString(latestCheckpointPath(m_runDir.toStdString(), o.config));
    if (!m_resumeFrom.isEmpty() && m_resumeFrom == latest) {
        o.outDir = m_runDir.toStdString(); // continue the stopped run in its own folder
        o.resume = true;
    } else {
        m_runDir = QDir(m_options.runsDir).filePath(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
        o.outDir = m_runDir.toStdString();
        if (!m_resumeFrom.isEmpty())
            o.resumeFrom = m_resumeFrom.toStdString();
        m_loss->clear();
        m_rank->clear();
        m_featStd->clear();
        m_throughput->clear();
        m_memory->clear();
    }
    m_lastError.clear();
    m_worker->start(std::move(o), m_options.threads);
    setRunning(true);
    m_tabs->setCurrentIndex(0);
}

void MainWindow::togglePause()
{
    if (!m_worker->isRunning())
        return;
    if (m_worker->isPaused()) {
        m_worker->resume();
    } else {
        m_worker->pause();
        m_state->setText(tr("Pausing…"));
    }
}

void MainWindow::stopTraining()
{
    if (!m_worker->isRunning())
        return;
    m_state->setText(tr("Stopping after this step…"));
    m_worker->stop();
}

void MainWindow::onProgress(const QVector<StepReport>& steps, double residentMb)
{
    for (const StepReport& r : steps) {
        m_loss->append(0, static_cast<double>(r.iteration), r.loss);
        m_throughput->append(0, static_cast<double>(r.iteration), r.imagesPerSecond);
        m_memory->append(0, static_cast<double>(r.iteration), residentMb);
        if (std::isfinite(r.rankMe)) {
            m_rank->append(0, static_cast<double>(r.iteration), r.rankMe);
            m_featStd->append(0, static_cast<double>(r.iteration), r.featureStd);
        }
    }
    m_stepsSeen += steps.size();
    m_last = steps.back();
    m_residentMb = residentMb;
    for (auto* plot : {m_loss, m_rank, m_featStd, m_throughput, m_memory})
        plot->refresh();
    m_schedules->setCursor(m_last.iteration);
    m_progress->setValue(static_cast<int>(m_last.iteration));
    m_stepLabel->setText(tr("step %1/%2, epoch %3").arg(m_last.iteration).arg(m_last.totalIterations).arg(m_last.epoch));
    m_lossLabel->setText(tr("loss %1").arg(m_last.loss, 0, 'f', 4));
    m_speedLabel->setText(tr("%1 img/s").arg(m_last.imagesPerSecond, 0, 'f', 1));
    m_etaLabel->setText(tr("ETA %1").arg(duration(m_last.etaSeconds)));
    m_memoryLabel->setText(std::isfinite(m_last.gpuMemoryMb)
                               ? tr("%1 MiB, GPU %2 MiB (peak %3)").arg(residentMb, 0, 'f', 0).arg(m_last.gpuMemoryMb, 0, 'f', 0).arg(m_last.gpuPeakMemoryMb, 0, 'f', 0)
                               : tr("%1 MiB").arg(residentMb, 0, 'f', 0));
}

void MainWindow::onFinished(const TrainResult& result)
{
    setRunning(false);
    static const char* const names[] = {"finished", "reached the step limit", "stopped", "stopped: the loss diverged"};
    const QString what = tr(names[static_cast<int>(result.status)]);
    log(tr("training %1 at step %2, loss %3, %4 img/s; checkpoint %5")
            .arg(what)
            .arg(result.iteration)
            .arg(result.loss, 0, 'f', 4)
            .arg(result.imagesPerSecond, 0, 'f', 1)
            .arg(QString::fromStdString(result.checkpoint)));
    m_state->setText(tr("Training %1").arg(what));
    if (result.status == TrainStatus::Diverged)
        showError(tr("The loss became non-finite at step %1; the last good checkpoint is kept.").arg(result.iteration + 1));
    if (!result.checkpoint.empty() && result.status != TrainStatus::Finished)
        m_resumeFrom = QString::fromStdString(result.checkpoint); // Start continues this run
    Q_EMIT trainingEnded(result);
    if (m_closeWhenStopped)
        close();
}

void MainWindow::onFailed(const QString& message)
{
    setRunning(false);
    m_state->setText(tr("Failed"));
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
    m_editor->setLocked(running);
    m_masks->setTraining(running);
    if (running)
        m_state->setText(tr("Training"));
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
    QStringList parts;
    for (QLabel* l : {m_state, m_stepLabel, m_lossLabel, m_speedLabel, m_etaLabel, m_deviceLabel, m_memoryLabel})
        parts << l->text();
    return parts.join(QStringLiteral(" | "));
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (!m_worker->isRunning()) {
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
