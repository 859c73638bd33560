// What the window opens and names: data (the buttons and the data line), checkpoints (to inspect or
// to continue), the runs folder, a new run's name.
#include "app/workbench/main_window.h"
#include "app/workbench/export_dialog.h"
#include "app/workbench/sweep_dialog.h"
#include "core/errors.h"
#include "core/eval/embeddings.h"
#include "core/imageio/data_spec.h"
#include "core/imageio/tar_shards.h"
#include "core/io/encoder_export.h"
#include "core/runs/run_folder.h"
#include "widgets/config_editor.h"
#include "widgets/inspect_support.h"

#include <QDateTime>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QLabel>
#include <QMenu>
#include <QMimeData>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QStyle>
#include <QToolBar>
#include <QToolButton>

namespace ijepa::workbench {

QString MainWindow::newRunName(const Config& config) const
{
    if (!m_resumeFrom.isEmpty() && !isExportedWeights(m_resumeFrom.toStdString())) { // a branch
        const RunRecord parent = readRunFolder(QFileInfo(m_resumeFrom).path().toStdString());
        return QString::fromStdString(branchName(parent.name, parent.stepsDone, m_continuedConfig, config));
    }
    // What it trains on and what it changes against the shipped settings: "photos lr=0.002".
    const QString data = m_dataSpec == QStringLiteral("fashion-mnist") ? m_dataSpec : QFileInfo(m_dataSpec).fileName();
    const std::string changes = describeDifferences(shippedConfig(), config);
    return data + (changes.empty() ? QString() : QLatin1Char(' ') + QString::fromStdString(changes));
}

void MainWindow::showDataChoice()
{
    const bool fmnist = m_dataSpec.startsWith(QStringLiteral("fashion-mnist")), shards = m_dataSpec.contains(QStringLiteral(".tar"));
    const int used = m_dataSpec.isEmpty() ? -1 : fmnist ? 0 : shards ? 2 : 1;
    for (int i = 0; i < 3; ++i)
        m_dataButtons[i]->setChecked(i == used);
}

QString MainWindow::dataInfo() const { return m_dataInfo->text(); }

int MainWindow::dataChoice() const
{
    for (int i = 0; i < 3; ++i)
        if (m_dataButtons[i]->isChecked())
            return i;
    return -1;
}

void MainWindow::showDataInfo(std::int64_t skipped)
{
    QString text = QString::fromStdString(m_train->description());
    if (skipped > 0)
        text += skipped == 1 ? tr("\n1 unreadable file skipped (named in the Log tab)")
                             : tr("\n%1 unreadable files skipped (named in the Log tab)").arg(skipped);
    m_dataInfo->setText(text);
    m_dataInfo->setStyleSheet(skipped > 0 ? QStringLiteral("color: #b4501e") : QString());
    m_dataInfo->setToolTip(m_skippedNames.isEmpty() ? QString() : tr("Skipped:\n%1").arg(m_skippedNames.join(QLatin1Char('\n'))));
    m_skippedShown = skipped;
}

bool MainWindow::openData(const QString& spec)
{
    if (m_worker->isRunning()) {
        showError(tr("Stop training before changing the data."));
        return false;
    }
    try {
        const OpenedData data = openDataSpec(spec.toStdString(), 0.0, m_options.limit);
        m_train = data.train;
        m_heldOut = data.heldOut;
        m_dataSpec = spec;
        m_opened = data;
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        showDataChoice(); // the data in use stays, and its button with it
        return false;
    }
    showDataChoice();
    m_skippedNames.clear();
    showDataInfo(0);
    m_masks->setSource(m_train);
    m_schedules->setSchedule(m_editor->config().optimization, iterationsPerEpoch());
    log(tr("data: %1").arg(m_dataInfo->text()));
    return true;
}

QString MainWindow::runsRoot() const
{
    // The runs folder's parent when it is the usual runs/<name> (CLI runs sit beside the workbench's).
    const QFileInfo runsDir(m_options.runsDir);
    return runsDir.dir().dirName() == QStringLiteral("runs") ? runsDir.path() : m_options.runsDir;
}

// Open (with its menu of recent checkpoints), Continue from…, Export encoder….
void MainWindow::buildFileActions(QToolBar* bar)
{
    const QString filter = tr("Checkpoints (*.pth.tar *.pth *.pt *.safetensors);;All files (*)");
    m_open = bar->addAction(style()->standardIcon(QStyle::SP_DialogOpenButton), tr("Open checkpoint…"));
    m_open->setToolTip(tr("Look at a checkpoint's representation (embeddings, attention, predictor); the settings on "
                          "the left and the next Start stay as they are"));
    m_open->setShortcut(QKeySequence::Open);
    connect(m_open, &QAction::triggered, this, [this, filter] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open checkpoint to inspect"), runsFolder(), filter);
        if (!path.isEmpty())
            openCheckpoint(path, CheckpointUse::Inspect);
    });
    m_recentMenu = new QMenu(this); // the arrow beside Open: recent checkpoints
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::fillRecentMenu);
    m_open->setMenu(m_recentMenu);
    if (auto* button = qobject_cast<QToolButton*>(bar->widgetForAction(m_open)))
        button->setPopupMode(QToolButton::MenuButtonPopup);
    m_continue = bar->addAction(tr("Continue from…"));
    m_continue->setToolTip(tr("Continue training a checkpoint: its settings replace those on the left and Start "
                              "continues its run (an exported encoder starts a new run from its weights)"));
    connect(m_continue, &QAction::triggered, this, [this, filter] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Checkpoint to continue"), runsFolder(), filter);
        if (!path.isEmpty())
            openCheckpoint(path, CheckpointUse::Continue);
    });
    auto* exportAction = bar->addAction(tr("Export encoder…"));
    exportAction->setToolTip(tr("A checkpoint's encoder as safetensors, for timm, or as a Hugging Face folder"));
    connect(exportAction, &QAction::triggered, this, [this] {
        auto* dialog = new ExportDialog(m_resumeFrom, m_options.runsDir, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &ExportDialog::exported, this, [this](const QString& summary) { log(summary); });
        connect(dialog, &ExportDialog::failed, this, [this](const QString& message) { log(tr("export: %1").arg(message)); });
        dialog->show();
    });
}

QString MainWindow::runsFolder() const
{
    for (const QString& dir : {runsRoot(), m_options.runsDir})
        if (QFileInfo(dir).isDir())
            return QFileInfo(dir).absoluteFilePath();
    return QDir::currentPath();
}

namespace {
// "20261206-101500/jepa-latest.pth.tar": every run's file has the same name, its folder tells them apart.
QString checkpointLabel(const QString& path)
{
    const QFileInfo info(path);
    return info.dir().dirName() + QLatin1Char('/') + info.fileName();
}
} // namespace

void MainWindow::openCheckpoint(const QString& path, CheckpointUse use, std::function<void()> opened)
{
    struct Opened {
        LoadedModel loaded;
        bool ownConfig = false; // a project checkpoint carries its config; a reference one is read with the edited one
        QString error;
    };
    const Config edited = m_editor->config();
    m_open->setEnabled(false);
    m_continue->setEnabled(false);
    statusBar()->showMessage(tr("Opening %1…").arg(path));
    auto* watcher = new QFutureWatcher<Opened>(this);
    connect(watcher, &QFutureWatcher<Opened>::finished, this, [this, watcher, path, use, opened = std::move(opened)] {
        watcher->deleteLater();
        m_open->setEnabled(true);
        m_continue->setEnabled(true);
        statusBar()->clearMessage();
        const Opened r = watcher->result();
        if (!r.error.isEmpty())
            return showError(r.error);
        log(tr("checkpoint %1: %2 (%3-d, depth %4)")
                .arg(path, QString::fromStdString(r.loaded.config.meta.model_name))
                .arg(r.loaded.config.encoderSize().embed_dim)
                .arg(r.loaded.config.encoderSize().depth));
        if (use == CheckpointUse::Continue && !m_worker->isRunning()) {
            if (r.ownConfig)
                m_editor->setConfig(r.loaded.config);
            m_continuedConfig = r.loaded.config;
            m_resumeFrom = path;
            const QString next = isExportedWeights(path.toStdString())
                                     ? tr("Start begins a new run from the weights of %1").arg(checkpointLabel(path))
                                     : tr("Start continues %1 with its settings").arg(checkpointLabel(path));
            log(next + tr(" (\"New run\" to start afresh)"));
            statusBar()->showMessage(next, 10000);
        }
        rememberCheckpoint(path);
        computeEmbeddings(r.loaded.model->targetEncoder, r.loaded.config, checkpointLabel(path), r.loaded.model);
        if (opened)
            opened();
    });
    watcher->setFuture(widgets::runJob([path, edited] {
        Opened r;
        try {
            try {
                r.loaded = loadModel(path.toStdString(), nullptr);
                r.ownConfig = true;
            } catch (const CheckpointError&) {
                r.loaded = loadModel(path.toStdString(), &edited);
            }
        } catch (const std::exception& e) {
            r.error = QString::fromUtf8(e.what());
        }
        return r;
    }));
}

namespace {
const QString kRecentKey = QStringLiteral("recent/checkpoints");
constexpr int kRecentMost = 10;
} // namespace

QStringList MainWindow::recentCheckpoints() const
{
    QStringList kept;
    for (const QString& path : QSettings().value(kRecentKey).toStringList())
        if (QFileInfo::exists(path))
            kept << path;
    return kept;
}

void MainWindow::rememberCheckpoint(const QString& path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList list = recentCheckpoints();
    list.removeAll(absolute);
    list.prepend(absolute);
    QSettings().setValue(kRecentKey, list.mid(0, kRecentMost));
}

void MainWindow::fillRecentMenu()
{
    m_recentMenu->clear();
    const QStringList list = recentCheckpoints();
    if (list.isEmpty())
        m_recentMenu->addAction(tr("No recent checkpoints"))->setEnabled(false);
    for (const QString& path : list) {
        // A run's name where its folder has one ("fashion-mnist lr=0.002"), then the file.
        const QString name = QString::fromStdString(runName(QFileInfo(path).absolutePath().toStdString()));
        auto* action = m_recentMenu->addAction(QStringLiteral("%1 — %2").arg(name, checkpointLabel(path)));
        action->setToolTip(path);
        connect(action, &QAction::triggered, this, [this, path] { openCheckpoint(path, CheckpointUse::Inspect); });
    }
    m_recentMenu->addSeparator();
    auto* clear = m_recentMenu->addAction(tr("Clear the list"));
    clear->setEnabled(!list.isEmpty());
    connect(clear, &QAction::triggered, this, [] { QSettings().remove(kRecentKey); });
}

SweepDialog* MainWindow::openSweepDialog()
{
    const QString folder = QDir(runsRoot()).filePath(QStringLiteral("sweep-") +
                                                     QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
    auto* dialog = new SweepDialog(m_editor->config(), m_dataSpec, m_options.limit, folder, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &SweepDialog::sweepStarted, this, [this](const QString& dir) {
        m_runs->addRoot(dir);
        log(tr("sweep started in %1").arg(dir));
    });
    connect(dialog, &SweepDialog::sweepFinished, this, [this](const QString& dir, int code) {
        m_runs->rescan();
        log(tr("sweep in %1 ended (exit %2)").arg(dir).arg(code));
    });
    dialog->show();
    return dialog;
}

bool MainWindow::openDropped(const QString& path)
{
    const QFileInfo info(path);
    const QString name = info.fileName().toLower();
    const auto endsWith = [&](const char* ext) { return name.endsWith(QLatin1String(ext)); };
    const bool weights = info.isDir() ? isExportedWeights(path.toStdString()) // a Hugging Face folder
                                      : endsWith(".pth.tar") || endsWith(".pth") || endsWith(".pt") || endsWith(".safetensors");
    if (weights) {
        openCheckpoint(path, CheckpointUse::Inspect);
        return true;
    }
    if (info.isDir())
        return openData(path);
    if (endsWith(".tar"))
        return openData(QString::fromStdString(shardPatternFor(path.toStdString())));
    if (endsWith(".yaml") || endsWith(".yml"))
        return m_editor->loadYaml(path);
    showError(tr("%1: not an image folder, tar shard, checkpoint or YAML config").arg(path));
    return false;
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls() && event->mimeData()->urls().size() == 1 && event->mimeData()->urls()[0].isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    if (openDropped(event->mimeData()->urls()[0].toLocalFile()))
        event->acceptProposedAction();
}

} // namespace ijepa::workbench
