// The Runs panel on real runs: two short Fashion-MNIST runs with different learning rates, the
// reference's layout, and a run still being written on another thread; overlay, diff, hparams.
#include "widgets/curve_plot.h"
#include "widgets/runs_panel.h"
#include "widgets/qcustomplot_include.h"

#include "core/train/run.h"
#include "tests/repeatable.h"

#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace ijepa;
using namespace ijepa::widgets;

namespace {

struct Slow : TrainObserver { // a run that takes a while, so that it is seen running
    int ms = 0;
    void stepDone(const Step&) override { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
};

RunSettings tinyRun(const std::string& dir, double lr, std::int64_t steps, std::int64_t seed = 0)
{
    Config c;
    c.data.batch_size = 16;
    c.data.crop_size = 32;
    c.mask.patch_size = 4;
    c.mask.min_keep = 4;
    c.meta.model_name = "vit_tiny";
    c.meta.embed_dim = 64;
    c.meta.depth = 2;
    c.meta.num_heads = 2;
    c.meta.pred_emb_dim = 32;
    c.meta.pred_depth = 1;
    c.optimization.epochs = 10;
    c.optimization.warmup = 1;
    c.optimization.lr = lr;
    c.meta.seed = seed;
    RunSettings o;
    o.trainer.config = c;
    o.trainer.data = limitSource(openFashionMnist("train"), 64);
    o.trainer.outDir = dir;
    o.trainer.maxSteps = steps;
    o.log.imageEvery = 0;
    o.diagnostics.every = 0;
    return o;
}

// Shows the panel on `root` and waits for its first scan.
bool showAndScan(RunsPanel& panel, const QString& root)
{
    panel.resize(1400, 900);
    panel.show();
    QSignalSpy scanned(&panel, &RunsPanel::scanned);
    panel.addRoot(root);
    return QTest::qWaitFor([&] { return scanned.count() >= 1 && !panel.busy(); }, 30000);
}

} // namespace

class TestRunsPanel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { test::makeTestsRepeatable(); }

    void listsOverlaysDiffsAndFollowsALiveRun()
    {
        QTemporaryDir root;
        const std::string base = root.path().toStdString();
        Slow none; // (no delay needed here, but an observer of our own)
        std::atomic_bool stop{false};
        runTraining(tinyRun(base + "/a", 0.001, 6), none, stop);
        runTraining(tinyRun(base + "/b", 0.002, 8), none, stop);
        namespace fs = std::filesystem;
        fs::create_directories(base + "/reference/logs");
        fs::copy_file(IJEPA_SHARED_FIXTURES "/official-tiny/params-ijepa.yaml", base + "/reference/logs/params-ijepa.yaml");
        std::ofstream(base + "/reference/logs/jepa_r0.csv") << "epoch,itr,loss,mask-A,mask-B,time (ms)\n1,0,0.5,40,12,200\n1,1,0.4,40,12,200\n";

        RunsPanel panel;
        QVERIFY(showAndScan(panel, root.path()));
        QCOMPARE(panel.runs().size(), std::size_t(3));
        QCOMPARE(panel.table()->rowCount(), 3);
        const QString a = QString::fromStdString(base + "/a"), b = QString::fromStdString(base + "/b");
        QCOMPARE(panel.run(a)->stepsDone, std::int64_t(6));
        QCOMPARE(panel.run(b)->stepsDone, std::int64_t(8));
        QVERIFY(panel.run(QString::fromStdString(base + "/reference/logs"))->problems.size() == 1); // no checkpoint

        // Overlay: both runs on every plot, all their points.
        panel.setChecked(a, true);
        panel.setChecked(b, true);
        QTRY_COMPARE_WITH_TIMEOUT(panel.plot(0)->pointCount(1), 8, 10000); // one redraw for both, queued
        QCOMPARE(panel.plot(0)->pointCount(0), 6);
        QCOMPARE(panel.plot(0)->pointCount(1), 8);
        QCOMPARE(panel.plot(3)->pointCount(1), 8); // learning rate
        QCOMPARE(panel.plot(0)->plot()->graphCount(), 4); // raw and smoothed per run: two runs show their raw lines
        QVERIFY(panel.plot(0)->plot()->graph(0)->visible() && panel.plot(0)->plot()->graph(2)->visible());
        panel.setXAxis(RunsPanel::XAxis::Epoch);
        QCOMPARE(panel.plot(0)->pointCount(1), 8);
        // The diff: exactly the keys that differ.
        const QStringList diff = panel.diffLines();
        QVERIFY2(diff.size() == 1, qPrintable(diff.join(QStringLiteral(" / ")))); // logging.folder is no setting
        QCOMPARE(diff[0], QStringLiteral("optimization.lr: 0.001 | 0.002"));
        QCOMPARE(panel.hparamsTable()->rowCount(), 2);
        const QString csv = root.filePath(QStringLiteral("hparams.csv"));
        QVERIFY(panel.exportHparams(csv));
        QFile file(csv);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(file.readAll());
        QVERIFY(text.startsWith(QStringLiteral("run,optimization.lr,steps,last loss")));
        QCOMPARE(text.count(QLatin1Char('\n')), 3);
        // Whole keys and names in the comparison: no column narrower than its header.
        for (int col = 0; col < panel.hparamsTable()->columnCount(); ++col)
            QVERIFY(panel.hparamsTable()->columnWidth(col) >=
                    panel.hparamsTable()->fontMetrics().horizontalAdvance(panel.hparamsTable()->horizontalHeaderItem(col)->text()));

        // A name given in the table (double-click, type) is the run's name from then on (run.json).
        QTableWidgetItem* nameCell = nullptr;
        for (int row = 0; row < panel.table()->rowCount(); ++row)
            if (panel.table()->item(row, 0)->data(Qt::UserRole).toString() == a)
                nameCell = panel.table()->item(row, 0);
        QVERIFY(nameCell && (nameCell->flags() & Qt::ItemIsEditable));
        nameCell->setText(QStringLiteral("baseline lr 0.001"));
        QTRY_COMPARE_WITH_TIMEOUT(QString::fromStdString(panel.run(a)->name), QStringLiteral("baseline lr 0.001"), 30000);
        QCOMPARE(QString::fromStdString(readRunFolder(a.toStdString()).name), QStringLiteral("baseline lr 0.001"));

        // A run still being written shows as running and grows while the panel polls.
        Slow slow;
        slow.ms = 150;
        std::thread live([&] { runTraining(tinyRun(base + "/live", 0.001, 40), slow, stop); });
        const QString c = QString::fromStdString(base + "/live");
        QTRY_VERIFY_WITH_TIMEOUT(panel.run(c) && panel.run(c)->state == RunState::Running && panel.run(c)->stepsDone > 0, 60000);
        const auto seen = panel.run(c)->stepsDone;
        panel.setChecked(c, true);
        QTRY_VERIFY_WITH_TIMEOUT(panel.run(c)->stepsDone > seen + 3, 60000);
        QTRY_VERIFY_WITH_TIMEOUT(panel.plot(0)->pointCount(2) > static_cast<int>(seen) + 3, 30000);
        live.join();
        QTRY_VERIFY_WITH_TIMEOUT(panel.run(c)->state == RunState::Finished && panel.run(c)->stepsDone == 40, 30000);
    }

    // Runs that differ only in their seed (a sweep's trials of one setting) are one line, their
    // mean, with a band of +-1 sd, and one hparams row of mean ± sd; untick "Seeds as one" for each.
    void seedsOfOneSettingAreDrawnAsTheirMean()
    {
        QTemporaryDir root;
        const std::string base = root.path().toStdString();
        Slow none;
        std::atomic_bool stop{false};
        runTraining(tinyRun(base + "/s0", 0.001, 5, 0), none, stop);
        runTraining(tinyRun(base + "/s1", 0.001, 5, 1), none, stop);
        runTraining(tinyRun(base + "/other", 0.002, 5, 0), none, stop);
        RunsPanel panel;
        QVERIFY(showAndScan(panel, root.path()));
        for (const char* name : {"/s0", "/s1", "/other"})
            panel.setChecked(QString::fromStdString(base + name), true);
        QVERIFY(panel.groupSeeds());
        QTRY_COMPARE_WITH_TIMEOUT(panel.hparamsTable()->rowCount(), 2, 10000);
        // Plots: two lines; the group's is the mean of its seeds at each step, with a band.
        const RunRecord a = readRunFolder(base + "/s0"), b = readRunFolder(base + "/s1");
        int group = -1;
        for (int i = 0; i < 2; ++i)
            if (panel.plot(0)->hasBand(i))
                group = i;
        QVERIFY(group >= 0);
        QCOMPARE(panel.plot(0)->pointCount(group), 5);
        panel.plot(0)->setSmoothing(0.0);
        const auto mean = panel.plot(0)->smoothedValues(group);
        for (int i = 0; i < 5; ++i)
            QVERIFY(std::abs(mean[i] - (a.points[i].loss + b.points[i].loss) / 2) < 1e-9);
        // Hparams: one row per group, mean ± sd, no seed column.
        QStringList headers;
        for (int c = 0; c < panel.hparamsTable()->columnCount(); ++c)
            headers << panel.hparamsTable()->horizontalHeaderItem(c)->text();
        QVERIFY2(!headers.contains(QStringLiteral("meta.seed")) && headers.contains(QStringLiteral("optimization.lr")),
                 qPrintable(headers.join(QLatin1Char(','))));
        bool found = false;
        for (int row = 0; row < 2; ++row)
            if (panel.hparamsTable()->item(row, 0)->text().endsWith(QStringLiteral("(2 seeds)"))) {
                found = true;
                const QString loss = panel.hparamsTable()->item(row, headers.indexOf(QStringLiteral("last loss")))->text();
                QVERIFY2(loss.contains(QStringLiteral(" ± ")), qPrintable(loss));
                const double m = (a.lastLoss + b.lastLoss) / 2;
                QVERIFY(std::abs(loss.section(QStringLiteral(" ± "), 0, 0).toDouble() - m) < 1e-5);
                QCOMPARE(panel.hparamsTable()->item(row, headers.indexOf(QStringLiteral("steps")))->text(), QStringLiteral("5"));
            }
        QVERIFY(found);
        // Each run on its own again.
        panel.setGroupSeeds(false);
        QCOMPARE(panel.hparamsTable()->rowCount(), 3);
        QCOMPARE(panel.plot(0)->pointCount(2), 5);
        QVERIFY(!panel.plot(0)->hasBand(0) && !panel.plot(0)->hasBand(1));
    }
};

QTEST_MAIN(TestRunsPanel)
#include "test_runs_panel.moc"
