// End to end: the real window trains a small model on Fashion-MNIST images, shows loss points and
// mask samples, pauses, resumes, stops with a checkpoint, browses the current weights, continues
// the run and closes cleanly during training.
#include "app/workbench/main_window.h"
#include "app/workbench/sweep_dialog.h"
#include "core/runs/run_folder.h"
#include "core/train/precision.h"
#include "tests/repeatable.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <sys/resource.h>

#include <QDir>
#include <QImage>
#include <QMenu>
#include <QMimeData>
#include <QSettings>
#include <QUrl>
#include <QStandardPaths>
#include <QStatusBar>

#include <csignal>
#include <cstring>
#include <filesystem>

using namespace ijepa;
using namespace ijepa::workbench;

// A small model the tests train in seconds, into `runsDir`, with `batch` images a step; no question on close.
WorkbenchOptions smallRun(const QString& runsDir, int batch)
{
    WorkbenchOptions o;
    o.runsDir = runsDir;
    o.askOnClose = false;
    o.run.trainer.threads = 2;
    o.overrides = {"meta.embed_dim=64", "meta.depth=2", "meta.num_heads=2", "meta.pred_depth=1", "meta.pred_emb_dim=32",
                   QStringLiteral("data.batch_size=%1").arg(batch), "optimization.epochs=50", "optimization.warmup=1"};
    return o;
}

class TestWorkbench : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { test::makeTestsRepeatable(); }

    void trainPauseResumeStopClose()
    {
        QTemporaryDir runs;
        WorkbenchOptions o = smallRun(runs.path(), 32);
        o.limit = 512;
        o.run.diagnostics.every = 4; // probe and spectrum often enough to see them arrive
        o.run.diagnostics.images = 64;
        o.run.diagnostics.databaseImages = 256;
        MainWindow window(o);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.lastError().isEmpty());
        QCOMPARE(window.configEditor()->config().data.batch_size, 32);
        QCOMPARE(window.schedulePlot()->totalSteps(), std::int64_t(50 * 16));

        // Bad input is reported in the window, naming the folder.
        QVERIFY(!window.openData(QStringLiteral("/nonexistent/images")));
        QVERIFY(window.lastError().contains(QStringLiteral("/nonexistent/images")));
        QVERIFY(window.openData(QStringLiteral("fashion-mnist")));

        QSignalSpy ended(&window, &MainWindow::trainingEnded);
        QSignalSpy paused(window.worker(), &TrainingWorker::pausedChanged);
        QVERIFY(!window.embeddingsTab()->currentWeightsEnabled()); // nothing to take a snapshot of
        window.startTraining();
        QVERIFY(window.worker()->isRunning());
        QVERIFY(window.embeddingsTab()->currentWeightsEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(window.stepsSeen() >= 5 && window.maskSamplesSeen() >= 1, 120000);
        QVERIFY(window.lossPlot()->pointCount(0) >= 5);
        QCOMPARE(window.maskPanel()->view()->sample().images.size(), 8);
        QVERIFY(window.maskPanel()->view()->sample().iteration >= 0);
        QVERIFY(window.statusText().contains(QStringLiteral("step ")));
        QVERIFY(window.statusText().contains(QStringLiteral("img/s")));
        QVERIFY(window.statusText().contains(QStringLiteral("ETA")));
        // The shipped config asks for bf16; this CPU's instructions decide (precision.h).
        const bool bf16 = choosePrecision(torch::kCPU, window.configEditor()->config().meta.use_bfloat16).bf16;
        QVERIFY(window.statusText().contains(bf16 ? QStringLiteral("cpu, bf16") : QStringLiteral("cpu, fp32")));
        QVERIFY(window.schedulePlot()->cursor() >= 5);

        // The learning signals arrive at the diagnostic steps: probe points next to the loss, a
        // spectrum curve, the predictor's loss map and the verdict.
        QTRY_VERIFY_WITH_TIMEOUT(window.probePlot()->pointCount(0) >= 2, 120000);
        QCOMPARE(window.probePlot()->pointCount(1), window.probePlot()->pointCount(0)); // the context encoder's
        QVERIFY(window.signalsTab()->spectrum()->curveCount() >= 2);
        QCOMPARE(window.signalsTab()->predictorLoss()->heatmap()->grid(), 8); // crop 32 / patch 4
        QVERIFY(window.signalsTab()->health()->text().contains(QStringLiteral("probe")));
        QVERIFY(window.signalsTab()->health()->text().contains(QStringLiteral("spectrum")));

        // Pause: no more steps arrive until resumed.
        window.togglePause();
        QTRY_VERIFY_WITH_TIMEOUT(paused.count() >= 1 && paused.last()[0].toBool(), 30000);
        // The spy hears pausedChanged on the worker thread; the last report, posted just before it,
        // may still be queued for the window: deliver it before taking the count.
        QCoreApplication::processEvents();
        const qint64 atPause = window.stepsSeen();
        QTest::qWait(1500);
        QCOMPARE(window.stepsSeen(), atPause);
        // Steer while paused: a new learning rate and more epochs from the next step on, previewed on
        // the schedules, written into the run's history when the step takes it.
        QSignalSpy steered(window.worker(), &TrainingWorker::settingsChanged);
        SteerDialog* steer = window.openSteerDialog();
        QVERIFY(steer);
        steer->setValue(QStringLiteral("optimization.lr"), QStringLiteral("0.0005"));
        steer->setValue(QStringLiteral("optimization.epochs"), QStringLiteral("60"));
        QVERIFY(window.schedulePlot()->hasPreview());
        QCOMPARE(steer->changes(), (QStringList{QStringLiteral("optimization.lr=0.0005"), QStringLiteral("optimization.epochs=60")}));
        QVERIFY(steer->canApply());
        steer->setValue(QStringLiteral("optimization.epochs"), QStringLiteral("-1"));
        QVERIFY(!steer->canApply()); // Apply waits for a value the run can take
        QVERIFY(!steer->applyChanges()); // refused, naming the key; the dialog stays
        steer->setValue(QStringLiteral("optimization.epochs"), QStringLiteral("60"));
        QVERIFY(steer->canApply());
        QVERIFY(steer->applyChanges());
        steer->accept();
        window.togglePause();
        QTRY_VERIFY_WITH_TIMEOUT(steered.count() == 1, 60000);
        // The spy hears the worker's thread; the window's queued slot follows.
        QTRY_COMPARE_WITH_TIMEOUT(window.schedulePlot()->totalSteps(), std::int64_t(60 * 16), 10000);
        QCOMPARE(window.configEditor()->config().optimization.lr, 0.0005); // the editor shows what is in force
        QCOMPARE(window.configEditor()->config().optimization.epochs, 60);
        QVERIFY(!window.schedulePlot()->hasPreview());
        QTRY_VERIFY_WITH_TIMEOUT(window.stepsSeen() > atPause + 2, 60000);

        // The embedding browser on a snapshot of the weights while training runs.
        window.useCurrentWeights();
        QSignalSpy embedded(&window, &MainWindow::embeddingsReady);
        QTRY_VERIFY_WITH_TIMEOUT(embedded.count() == 1, 120000);
        QVERIFY(window.worker()->isRunning());
        QCOMPARE(window.browser()->embeddings().features.size(1), 64);
        QCOMPARE(window.browser()->neighbours().size(), std::size_t(8));
        // The attention and predictor views work on the same snapshot (all three networks).
        window.embeddingsTab()->showPage(1);
        QTRY_VERIFY_WITH_TIMEOUT(window.embeddingsTab()->attentionView()->maps().defined(), 60000);
        QCOMPARE(window.embeddingsTab()->attentionView()->maps().size(0), 2); // heads
        window.embeddingsTab()->showPage(2);
        QTRY_VERIFY_WITH_TIMEOUT(!window.embeddingsTab()->predictorView()->probe().blocks.empty(), 60000);
        window.embeddingsTab()->showPage(0);
        // The mask statistics follow the edited config, faithful beside corrected.
        QTRY_VERIFY_WITH_TIMEOUT(window.maskStats()->stats().size() == 2, 60000);

        // Stop: takes effect after the current step and writes a checkpoint.
        // Reports reach the window in batches, so the step at the request is the worker's own count.
        const qint64 atStop = window.worker()->iteration();
        window.stopTraining();
        QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 60000);
        QVERIFY(!window.embeddingsTab()->currentWeightsEnabled());
        const auto result = ended[0][0].value<TrainResult>();
        QCOMPARE(result.status, TrainStatus::Stopped);
        QVERIFY2(result.iteration <= atStop + 1, "stop takes effect after the step in progress");
        QVERIFY2(!window.statusText().contains(QStringLiteral("ETA")), qPrintable(window.statusText())); // nothing left to wait for
        QVERIFY2(window.statusText().startsWith(QStringLiteral("Stopped on request")), qPrintable(window.statusText()));
        QVERIFY(std::filesystem::exists(result.checkpoint));
        QVERIFY(!window.worker()->isRunning());
        const auto history = readConfigHistory(configHistoryPath(std::filesystem::path(result.checkpoint).parent_path().string()));
        QCOMPARE(history.size(), std::size_t(1));
        QCOMPARE(QString::fromStdString(history[0].assignments[0]), QStringLiteral("optimization.lr=0.0005"));

        // Start again continues the stopped run; closing during training stops it with a checkpoint.
        window.startTraining();
        QTRY_VERIFY_WITH_TIMEOUT(window.worker()->iteration() > result.iteration + 5, 60000);
        window.close();
        QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 2, 60000);
        QTRY_VERIFY_WITH_TIMEOUT(!window.isVisible(), 10000);
        const auto second = ended[1][0].value<TrainResult>();
        QCOMPARE(second.status, TrainStatus::Stopped);
        QVERIFY(second.iteration > result.iteration);
        QCOMPARE(QString::fromStdString(second.checkpoint), QString::fromStdString(result.checkpoint));
        QVERIFY(window.lastError().isEmpty());
    }

    // A run that reaches its step limit runs the end-of-run k-NN over the whole labelled folder: the
    // status bar shows its own progress and ETA meanwhile, then the result, which the runs table
    // shows as the run's k-NN (not the last online probe).
    void finalKnnShowsItsProgressAndResult()
    {
        QTemporaryDir runs, data;
        for (const char* label : {"coats", "shoes"})
            for (int i = 0; i < 40; ++i) {
                QImage image(32, 32, QImage::Format_RGB888);
                for (int y = 0; y < 32; ++y)
                    for (int x = 0; x < 32; ++x) // two classes the eye tells apart: stripes across or down
                        image.setPixel(x, y, ((label[0] == 'c' ? y : x) + i) % 8 < 4 ? 0xffffff : 0x202020);
                QDir(data.path()).mkpath(QString::fromLatin1(label));
                QVERIFY(image.save(data.filePath(QStringLiteral("%1/%2.png").arg(QString::fromLatin1(label)).arg(i))));
            }
        WorkbenchOptions o = smallRun(runs.path(), 16);
        o.run.trainer.maxSteps = 3;
        o.run.diagnostics.every = 100; // the end-of-run k-NN is the probe's; no probe step before it here
        o.run.diagnostics.images = 16;
        o.run.diagnostics.databaseImages = 32;
        MainWindow window(o);
        window.show();
        QVERIFY(window.openData(data.path()));
        QSignalSpy work(window.worker(), &TrainingWorker::workProgress);
        QSignalSpy ended(&window, &MainWindow::trainingEnded);
        window.startTraining();
        QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 120000);
        const auto result = ended[0][0].value<TrainResult>();
        QCOMPARE(result.status, TrainStatus::MaxSteps);
        QVERIFY(std::isfinite(result.finalKnn));
        QVERIFY(work.count() >= 2); // it started and it ended
        QCOMPARE(work.first()[1].toLongLong(), 0);
        QCOMPARE(work.last()[1].toLongLong(), work.last()[2].toLongLong());
        QVERIFY(work.last()[0].toString().contains(QStringLiteral("k-NN")));
        const QString status = window.statusText();
        QVERIFY2(status.contains(QStringLiteral("Reached its step limit: final k-NN %1%").arg(100 * result.finalKnn, 0, 'f', 2)),
                 qPrintable(status));
        QVERIFY2(!status.contains(QStringLiteral("ETA")), qPrintable(status));
        // Named after what it trains on and what it changes against the shipped settings.
        const QString name = QFileInfo(data.path()).fileName() + QStringLiteral(" batch_size=16 ");
        const auto finalKnnListed = [&] {
            for (const RunRecord& r : window.runsPanel()->runs())
                if (r.finalKnn == result.finalKnn && r.state == RunState::Finished && QString::fromStdString(r.name).startsWith(name))
                    return true;
            return false;
        };
        window.runsPanel()->rescan();
        QTRY_VERIFY_WITH_TIMEOUT(finalKnnListed(), 30000);
    }

    // Opening a checkpoint to look at it leaves the training setup alone; continuing it is a choice of
    // its own. The views name the run's folder, as every run's file has the same name.
    void inspectingACheckpointKeepsTheSetup()
    {
        QStandardPaths::setTestModeEnabled(true); // recent checkpoints go to a test QSettings
        QCoreApplication::setOrganizationName(QStringLiteral("ijepa-test"));
        QSettings().clear();
        QTemporaryDir runs;
        WorkbenchOptions o = smallRun(runs.path(), 32);
        o.limit = 256;
        o.run.trainer.maxSteps = 2;
        o.run.diagnostics.every = 0;
        MainWindow window(o);
        window.show();
        QCOMPARE(window.runsFolder(), QFileInfo(runs.path()).absoluteFilePath()); // the file dialogs open there
        QSignalSpy ended(&window, &MainWindow::trainingEnded);
        window.startTraining();
        QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 120000);
        const QString checkpoint = QString::fromStdString(ended[0][0].value<TrainResult>().checkpoint);
        QVERIFY(QFileInfo::exists(checkpoint));

        window.startFreshRun();
        Config edited = window.configEditor()->config();
        edited.optimization.lr = 0.0042; // a hand edit the checkpoint does not have
        window.configEditor()->setConfig(edited);
        QSignalSpy embedded(&window, &MainWindow::embeddingsReady);
        window.openCheckpoint(checkpoint, CheckpointUse::Inspect);
        QTRY_VERIFY_WITH_TIMEOUT(embedded.count() == 1, 60000);
        QCOMPARE(window.configEditor()->config().optimization.lr, 0.0042);
        QVERIFY(window.resumeFrom().isEmpty());
        const QString label = QFileInfo(checkpoint).dir().dirName() + QStringLiteral("/jepa-latest.pth.tar");
        QCOMPARE(window.browser()->embeddings().origin, label);

        window.openCheckpoint(checkpoint, CheckpointUse::Continue);
        QTRY_VERIFY_WITH_TIMEOUT(embedded.count() == 2, 60000);
        const double runLr = readRunFolder(QFileInfo(checkpoint).path().toStdString()).config->optimization.lr;
        QVERIFY(runLr != 0.0042);
        QCOMPARE(window.configEditor()->config().optimization.lr, runLr); // the run's own settings
        QCOMPARE(window.resumeFrom(), checkpoint);
        QVERIFY(window.statusBar()->currentMessage().contains(QStringLiteral("Start continues ") + label));

        // Recent checkpoints: the trained one, once (opened twice since), listed under Open with
        // the run's name; picking it inspects it. A file that is gone leaves the list.
        QCOMPARE(window.recentCheckpoints(), QStringList{QFileInfo(checkpoint).absoluteFilePath()});
        Q_EMIT window.recentMenu()->aboutToShow();
        QAction* recent = window.recentMenu()->actions().value(0);
        QVERIFY(recent && recent->isEnabled());
        const QString name = QString::fromStdString(runName(QFileInfo(checkpoint).path().toStdString()));
        QVERIFY2(recent->text().startsWith(name) && recent->text().endsWith(label), qPrintable(recent->text()));
        recent->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(embedded.count() == 3, 60000);
        QVERIFY(QFile::rename(checkpoint, checkpoint + QStringLiteral(".moved")));
        QVERIFY(window.recentCheckpoints().isEmpty());
        Q_EMIT window.recentMenu()->aboutToShow();
        QVERIFY(!window.recentMenu()->actions().value(0)->isEnabled()); // "No recent checkpoints"
        QSettings().clear();
        QCoreApplication::setOrganizationName({});
    }

    // Unreadable files are in plain sight: the data line counts and names them as training meets
    // them; the data button in use stays pressed; the line says what the data is once.
    void skippedFilesAreShownWithTheData()
    {
        QTemporaryDir runs, data;
        for (int i = 0; i < 16; ++i) {
            const QString file = data.filePath(QStringLiteral("img%1.png").arg(i));
            if (i % 4 == 3) { // 4 of 16 are not images
                QFile bad(file);
                QVERIFY(bad.open(QIODevice::WriteOnly));
                bad.write("not a PNG");
            } else {
                QImage image(32, 32, QImage::Format_RGB888);
                image.fill(QColor(20 * i, 100, 200));
                QVERIFY(image.save(file));
            }
        }
        WorkbenchOptions o = smallRun(runs.path(), 8);
        o.run.trainer.maxSteps = 4; // epochs of 2 steps of 8 see every file
        o.run.diagnostics.every = 0;
        MainWindow window(o);
        window.show();
        QCOMPARE(window.dataChoice(), 0); // the built-in data set at start
        QVERIFY(window.dataInfo().startsWith(QStringLiteral("Fashion-MNIST train")));
        QCOMPARE(window.dataInfo().count(QStringLiteral("images")), 1); // said once
        QVERIFY(!window.openData(data.filePath(QStringLiteral("missing"))));
        QCOMPARE(window.dataChoice(), 0); // a folder that cannot be opened changes nothing
        // Dropped on the window, as from a file manager: a folder is data, anything else is named.
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(data.path())});
        QDragEnterEvent enter(QPoint(200, 200), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(200, 200), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&window, &drop);
        QCOMPARE(window.dataChoice(), 1);
        QVERIFY(!window.openDropped(data.filePath(QStringLiteral("img3.png"))));
        QVERIFY(window.lastError().contains(QStringLiteral("not an image folder")));
        QVERIFY(window.dataInfo().contains(QStringLiteral("16 images")));
        QSignalSpy ended(&window, &MainWindow::trainingEnded);
        window.startTraining();
        QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 120000);
        QCOMPARE(ended[0][0].value<TrainResult>().skippedFiles, 4);
        QVERIFY2(window.dataInfo().contains(QStringLiteral("4 unreadable files skipped")), qPrintable(window.dataInfo()));
        QVERIFY(window.openDropped(QStringLiteral(IJEPA_SOURCE_DIR "/configs/photos_64.yaml"))); // a config into the editor
        QCOMPARE(window.configEditor()->config().data.crop_size, 64);
    }

    // The window comes back as it was closed: its size (QSettings, in Qt's test location here).
    void windowLayoutIsRemembered()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("ijepa-test"));
        QCoreApplication::setApplicationName(QStringLiteral("test_workbench"));
        QSettings().clear();
        QTemporaryDir runs;
        {
            MainWindow window(smallRun(runs.path(), 32));
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            window.resize(1301, 851);
            QTRY_COMPARE(window.size(), QSize(1301, 851));
            QVERIFY(window.close());
        }
        MainWindow again(smallRun(runs.path(), 32));
        again.show();
        QVERIFY(QTest::qWaitForWindowExposed(&again));
        QCOMPARE(again.size(), QSize(1301, 851));
        QSettings().clear();
        QCoreApplication::setOrganizationName({});
    }

    // A sweep from the window: the editor's config on the data in use, stopped (each trial keeps
    // its checkpoint) and continued by Start; its table comes back and its trials join the Runs tab.
    void sweepRunsStopsAndContinuesFromTheWindow()
    {
        qputenv("IJEPA_PROGRAM", IJEPA_CLI_PATH);
        QTemporaryDir runs;
        WorkbenchOptions o = smallRun(runs.path(), 16);
        o.limit = 128;
        MainWindow window(o);
        window.show();
        SweepDialog* dialog = window.openSweepDialog();
        QCOMPARE(SweepDialog::program(), QStringLiteral(IJEPA_CLI_PATH));
        dialog->setKeys(QStringLiteral("optimization.lr=0.001,0.003"));
        dialog->setSeeds(2);
        dialog->setBudget(QStringLiteral("6"));
        dialog->setExtraArguments({QStringLiteral("--eval-train"), QStringLiteral("200"), QStringLiteral("--eval-test"),
                                   QStringLiteral("100"), QStringLiteral("--threads"), QStringLiteral("2")});
        QSignalSpy finished(dialog, &SweepDialog::sweepFinished);
        QVERIFY(dialog->start());
        const QDir folder(dialog->folder());
        QVERIFY(window.runsPanel()->roots().contains(dialog->folder()));
        QTRY_VERIFY_WITH_TIMEOUT(!folder.entryList({QStringLiteral("s01-*")}, QDir::Dirs).isEmpty() &&
                                     QFileInfo::exists(folder.filePath(folder.entryList({QStringLiteral("s01-*")}, QDir::Dirs)[0] +
                                                                       QStringLiteral("/jepa-latest.pth.tar"))),
                                 120000);
        dialog->stop();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QCOMPARE(finished[0][1].toInt(), 130);
        QVERIFY2(dialog->status().startsWith(QStringLiteral("Stopped")), qPrintable(dialog->status()));
        QVERIFY(dialog->start()); // continues the same sweep
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 240000);
        QCOMPARE(finished[1][1].toInt(), 0);
        QVERIFY2(dialog->results().contains(QStringLiteral("lr=0.003")), qPrintable(dialog->results()));
        QVERIFY(QFileInfo::exists(folder.filePath(QStringLiteral("results.tsv"))));
        QTRY_VERIFY_WITH_TIMEOUT(std::count_if(window.runsPanel()->runs().begin(), window.runsPanel()->runs().end(),
                                               [&](const RunRecord& r) {
                                                   return QString::fromStdString(r.folder).startsWith(dialog->folder()) && r.stepsDone == 6;
                                               }) == 4,
                                 30000);
        qunsetenv("IJEPA_PROGRAM");
    }

    // A checkpoint that cannot be written pauses the run with the message instead of ending it;
    // once space is free, Resume writes it again and training goes on.
    void checkpointFailurePausesTheRun()
    {
        QTemporaryDir runs;
        WorkbenchOptions o = smallRun(runs.path(), 32);
        o.limit = 256;
        o.run.checkpoints.every = 2;
        o.run.diagnostics.every = 0;
        MainWindow window(o);
        window.show();
        QSignalSpy failed(window.worker(), &TrainingWorker::checkpointFailed);
        QSignalSpy ended(&window, &MainWindow::trainingEnded);
        window.startTraining();
        QTRY_VERIFY_WITH_TIMEOUT(window.worker()->iteration() >= 3, 120000); // checkpoint 2 is on disk

        // From now on the disk is "full": writes past 100 kB fail (the file-size limit, EFBIG).
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit old{};
        QCOMPARE(::getrlimit(RLIMIT_FSIZE, &old), 0);
        rlimit small = old;
        small.rlim_cur = 100000;
        QCOMPARE(::setrlimit(RLIMIT_FSIZE, &small), 0);
        QTRY_VERIFY_WITH_TIMEOUT(failed.count() == 1, 60000);
        QVERIFY(window.worker()->isRunning());
        QVERIFY(window.worker()->isPaused());
        QTRY_VERIFY(window.lastError().contains(QString::fromLatin1(std::strerror(EFBIG))));
        const qint64 at = window.worker()->iteration();
        QTest::qWait(500);
        QCOMPARE(window.worker()->iteration(), at); // paused, not training on without checkpoints

        ::setrlimit(RLIMIT_FSIZE, &old); // space is free again
        window.togglePause();
        QTRY_VERIFY_WITH_TIMEOUT(window.worker()->iteration() > at + 2, 60000);
        QCOMPARE(failed.count(), 1);
        window.stopTraining();
        QTRY_VERIFY_WITH_TIMEOUT(ended.count() == 1, 60000);
        const auto result = ended[0][0].value<TrainResult>();
        QCOMPARE(result.status, TrainStatus::Stopped);
        QVERIFY(std::filesystem::exists(result.checkpoint));
    }
};

QTEST_MAIN(TestWorkbench)
#include "test_workbench.moc"
