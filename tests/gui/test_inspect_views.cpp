// Offscreen QTest tests of the Seeing-inside views driven with real data: the mask statistics view
// on the shipped config, the attention and predictor views on the reference's tiny checkpoint with
// Fashion-MNIST test images (each result checked against the core computed directly).
#include "widgets/attention_view.h"
#include "widgets/embedding_browser.h"
#include "widgets/inspect_support.h"
#include "widgets/mask_stats_view.h"
#include "widgets/predictor_view.h"
#include "widgets/qcustomplot_include.h"

#include "core/eval/attention_maps.h"
#include "core/eval/embeddings.h"
#include "core/eval/predictor_probe.h"
#include "tests/repeatable.h"

#include <QSignalSpy>
#include <QThreadPool>
#include <QtTest/QtTest>

#include <atomic>
#include <future>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace ijepa;
using namespace ijepa::widgets;

namespace {

const std::string kOfficial = IJEPA_SHARED_FIXTURES "/official-tiny/checkpoint.pth.tar";

// Where patch p's centre is on a canvas.
QPoint patchCentre(const PatchCanvas* canvas, int p, int grid)
{
    const int side = std::min(canvas->width(), canvas->height());
    const QPoint origin((canvas->width() - side) / 2, (canvas->height() - side) / 2);
    return origin + QPoint((p % grid) * side / grid + side / (2 * grid), (p / grid) * side / grid + side / (2 * grid));
}

} // namespace

class TestInspectViews : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { test::makeTestsRepeatable(); }

    void maskStatisticsShowBothSettings()
    {
        Config config = loadConfig(IJEPA_SOURCE_DIR "/configs/fashion_mnist.yaml");
        config.mask.position_mode = "faithful"; // the reference's, beside corrected (the shipped one)
        MaskStatsView view;
        view.resize(1400, 900);
        view.show();
        QSignalSpy computed(&view, &MaskStatsView::computed);
        view.setBatches(40);
        view.setComparison(1); // the other position mode
        view.setConfig(config);
        QTRY_VERIFY_WITH_TIMEOUT(computed.count() >= 1 && !view.busy(), 60000);
        QCOMPARE(view.stats().size(), std::size_t(2));
        const MaskStats direct = computeMaskStats(config, 40);
        QCOMPARE(view.stats()[0].target, direct.target);
        QCOMPARE(view.stats()[0].contextTruncated, direct.contextTruncated);
        const int g = direct.grid;
        double faithfulEdge = 0, correctedEdge = 0;
        for (int i = 0; i < g; ++i) {
            faithfulEdge += view.stats()[0].target[(g - 1) * g + i] + view.stats()[0].target[i * g + g - 1];
            correctedEdge += view.stats()[1].target[(g - 1) * g + i] + view.stats()[1].target[i * g + g - 1];
        }
        QCOMPARE(faithfulEdge, 0.0);
        QVERIFY(correctedEdge > 0.1);
        QVERIFY(view.tableText().contains(QStringLiteral("context after truncation")));
        // Counts are whole numbers; a distribution of a few values (two block sizes, two aspect
        // ratios) is bars side by side, a wide one lines; legends sit above the axes, never on the
        // data; axis labels fit.
        const QString images = QString::number(view.stats()[0].images);
        QVERIFY2(view.tableText().contains(QRegularExpression(QStringLiteral("images +%1 +%1\n").arg(images))), qPrintable(view.tableText()));
        view.grab(); // lays the plots out
        for (int i = 0; i < 3; ++i) {
            QCustomPlot* plot = view.histogramPlot(i);
            const bool few = i > 0; // block sizes 3x3 and 4x3; aspect ratios 1 and 4/3
            int bars = 0;
            for (int p = 0; p < plot->plottableCount(); ++p)
                bars += qobject_cast<QCPBars*>(plot->plottable(p)) != nullptr;
            QCOMPARE(bars, few ? 2 : 0);   // 2 settings compared
            QCOMPARE(plot->plottableCount(), few ? 2 : 4);
            QVERIFY(!plot->legend->outerRect().intersects(plot->axisRect()->rect()));
            const QFontMetrics metrics(plot->xAxis->labelFont());
            QVERIFY2(metrics.horizontalAdvance(plot->xAxis->label()) < plot->axisRect()->width(), qPrintable(plot->xAxis->label()));
        }
        // Changing the config recomputes (debounced, off the UI thread).
        config.mask.num_pred_masks = 2;
        view.setConfig(config);
        QTRY_VERIFY_WITH_TIMEOUT(computed.count() >= 2 && !view.busy(), 60000);
        QCOMPARE(view.stats()[0].targetBlock.size(), std::size_t(2 * 40 * config.data.batch_size));
    }

    void attentionAndPredictorViewsFollowTheirInputs()
    {
        const auto loaded = loadModel(kOfficial, nullptr);
        const auto set = computeEmbeddingSet(loaded.model->targetEncoder, limitSource(openFashionMnist("test"), 40),
                                             loaded.config.data.crop_size, loaded.config.mask.patch_size, 40);
        const int grid = set.gridW;
        QCOMPARE(grid, 8);

        AttentionView attention;
        attention.resize(900, 500);
        attention.show();
        QVERIFY(QTest::qWaitForWindowExposed(&attention));
        QSignalSpy attUpdated(&attention, &AttentionView::updated);
        attention.setModel(loaded.model, QStringLiteral("fixture"));
        attention.setImage(set.thumbnails[3], grid, grid, set.names[3]);
        QTRY_VERIFY_WITH_TIMEOUT(attUpdated.count() >= 1 && !attention.busy(), 30000);
        auto encoder = loaded.model->targetEncoder;
        const auto expected = attentionMaps(encoder, normalizedView(set.thumbnails[3]).unsqueeze(0), 1)[0];
        QVERIFY(torch::allclose(attention.maps(), expected, 1e-6, 1e-6)); // the last block by default
        QTest::mouseClick(attention.queryCanvas(), Qt::LeftButton, {}, patchCentre(attention.queryCanvas(), 19, grid));
        QCOMPARE(attention.query(), 19);
        // One colour scale from 0 to at least 4x uniform attention: a near-uniform map is not stretched.
        QVERIFY(attention.colourTop() >= 4.0 / (grid * grid) - 1e-12);
        attention.setLayer(0);
        attention.setHead(1);
        QTRY_VERIFY_WITH_TIMEOUT(!attention.busy() && torch::allclose(attention.maps(), attentionMaps(encoder, normalizedView(set.thumbnails[3]).unsqueeze(0), 0)[0], 1e-6, 1e-6), 30000);

        PredictorView predictor;
        predictor.resize(900, 900); // tall: 2 x 2 pictures fill it (a row of 4 left its lower half blank)
        predictor.show();
        QVERIFY(QTest::qWaitForWindowExposed(&predictor));
        QTRY_COMPARE(predictor.columns(), 2);
        QVERIFY(predictor.inputCanvas()->height() > 300);
        predictor.resize(1200, 450); // wide: a row of 4
        QTRY_COMPARE(predictor.columns(), 4);
        QSignalSpy predUpdated(&predictor, &PredictorView::updated);
        predictor.setEmbeddings(set);
        predictor.setModel(loaded.model, loaded.config);
        predictor.setImage(5);
        QTRY_VERIFY_WITH_TIMEOUT(predUpdated.count() >= 1 && !predictor.busy(), 30000);
        QVERIFY(!predictor.probe().blocks.empty());
        // Drag a context block (rows 0-3, columns 0-7) with the mouse: it re-runs at once.
        const int before = predUpdated.count();
        QTest::mousePress(predictor.inputCanvas(), Qt::LeftButton, {}, patchCentre(predictor.inputCanvas(), 0, grid));
        QTest::mouseRelease(predictor.inputCanvas(), Qt::LeftButton, {}, patchCentre(predictor.inputCanvas(), 31, grid));
        QTRY_VERIFY_WITH_TIMEOUT(predUpdated.count() > before && !predictor.busy(), 30000);
        for (auto p : predictor.context())
            QVERIFY(p < 32);
        // The view's numbers are the core's for the same masks, the selected image left out of the bank.
        std::vector<std::vector<std::int64_t>> targets;
        for (const auto& b : predictor.probe().blocks)
            targets.push_back(b.patches);
        const auto bank = patchBankFromTokens(set.patches);
        const auto direct = probePredictor(*loaded.model, normalizedView(set.thumbnails[5]), predictor.context(), targets, bank, 5);
        QVERIFY(std::abs(direct.meanCosine - predictor.probe().meanCosine) < 1e-6);
        for (size_t b = 0; b < direct.blocks.size(); ++b)
            for (size_t i = 0; i < direct.blocks[b].patches.size(); ++i) {
                QCOMPARE(predictor.probe().blocks[b].predictedHits[i].index, direct.blocks[b].predictedHits[i].index);
                QVERIFY(direct.blocks[b].targetHits[i].index / 64 != 5);
            }
    }

    // Jobs run on the workbench's own pool at a lower priority, never on Qt's global pool: the
    // raster painter waits on the UI thread for fills it hands to that pool (the UI bench's
    // seconds-long stalls), and the latest request wins.
    void jobsRunOffTheGlobalPoolBelowTheUiThread()
    {
        LatestJobRunner runner;
        std::atomic<int> ran{0}, delivered{0};
        std::atomic<bool> onGlobal{true}, onOwn{false};
        std::atomic<int> nice{-100};
        std::promise<void> release;
        auto gate = release.get_future().share();
        runner.run([&, gate]() -> LatestJobRunner::Done {
            gate.wait(); // holds the runner busy while two more requests arrive
            ++ran;
            return [&] { ++delivered; };
        });
        for (int i = 0; i < 2; ++i)
            runner.run([&]() -> LatestJobRunner::Done {
                onGlobal = QThreadPool::globalInstance()->contains(QThread::currentThread());
                onOwn = jobPool()->contains(QThread::currentThread());
                errno = 0;
                nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
                ++ran;
                return [&] { delivered += 10; };
            });
        QVERIFY(runner.busy());
        release.set_value();
        QTRY_VERIFY_WITH_TIMEOUT(!runner.busy(), 10000);
        QCOMPARE(ran.load(), 2); // the first, then only the latest of the two waiting
        QCOMPARE(delivered.load(), 10); // the first result was superseded by the newer request
        QVERIFY(!onGlobal.load());
        QVERIFY(onOwn.load());
        QCOMPARE(nice.load(), std::max(10, getpriority(PRIO_PROCESS, 0))); // the UI thread's own is left as it was
    }
};

QTEST_MAIN(TestInspectViews)
#include "test_inspect_views.moc"
