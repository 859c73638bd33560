// Offscreen QTest tests of each widget, driven with real data (Fashion-MNIST, real batches,
// the core's schedules and validation).
#include "widgets/config_editor.h"
#include "widgets/curve_plot.h"
#include "widgets/embedding_browser.h"
#include "widgets/mask_view.h"
#include "widgets/plot_tools.h"
#include "widgets/schedule_plot.h"

#include "widgets/qcustomplot_include.h"

#include "core/data/augment.h"
#include "core/data/data_loader.h"
#include "core/eval/embeddings.h"
#include "core/train/schedules.h"
#include "tests/repeatable.h"

#include <QClipboard>
#include <QComboBox>
#include <QMenu>
#include <QFile>
#include <QLineEdit>
#include <QListWidget>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>

using namespace ijepa;
using namespace ijepa::widgets;

namespace {

Config fashionConfig()
{
    return loadConfig(IJEPA_SOURCE_DIR "/configs/fashion_mnist.yaml");
}

// Expected colour after painting `over` with alpha a (0..255) on `base`, per channel.
int blend(int base, int over, int alpha)
{
    return (over * alpha + base * (255 - alpha) + 127) / 255;
}

} // namespace

class TestWidgets : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { test::makeTestsRepeatable(); }

    void curveSmoothingIsDebiasedEma()
    {
        CurvePlot plot(QStringLiteral("loss"));
        const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
        plot.setSmoothing(0.5);
        plot.append(s, 1, 1.0);
        plot.append(s, 2, 2.0);
        plot.append(s, 3, 3.0);
        plot.append(s, 4, std::nan("")); // skipped
        const auto smooth = plot.smoothedValues(s);
        QCOMPARE(smooth.size(), 3);
        // ema_n = 0.5 ema_{n-1} + 0.5 y_n, shown as ema_n / (1 - 0.5^n)
        QVERIFY(std::abs(smooth[0] - 1.0) < 1e-12);
        QVERIFY(std::abs(smooth[1] - 1.25 / 0.75) < 1e-12);
        QVERIFY(std::abs(smooth[2] - 2.125 / 0.875) < 1e-12);
        plot.setSmoothing(0.0); // raw
        QVERIFY(std::abs(plot.smoothedValues(s)[2] - 3.0) < 1e-12);
        QVERIFY(plot.readoutAt(2.2).contains(QStringLiteral("step 2: 2")));
    }

    void curveHandlesLargeSeriesAndExports()
    {
        CurvePlot plot(QStringLiteral("loss"));
        const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
        plot.resize(800, 400);
        plot.show();
        for (int i = 1; i <= 120000; ++i)
            plot.append(s, i, 1.0 / std::sqrt(static_cast<double>(i)) + 0.01 * std::sin(i));
        plot.refresh();
        plot.setLogScale(true);
        QVERIFY(plot.logScale());
        QCOMPARE(plot.pointCount(s), 120000);
        QTemporaryDir dir;
        QVERIFY(plot.savePng(dir.filePath("plot.png"), 640, 320));
        QImage png(dir.filePath("plot.png"));
        QCOMPARE(png.size(), QSize(640, 320));
        QVERIFY(plot.saveCsv(dir.filePath("plot.csv")));
        QFile csv(dir.filePath("plot.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csv.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), 120001);
        QCOMPARE(lines[0], QByteArray("series,step,value,smoothed"));
        QVERIFY(lines[1].startsWith("loss,1,1.0"));
    }

    // Every plot: the legend in a row above the axes (never on the data) and one right-click
    // menu that saves the picture (PNG, PDF) and the data (CSV), copies the data, resets the view.
    void plotsKeepLegendsOffTheDataAndExportFromTheirMenu()
    {
        CurvePlot curve(QStringLiteral("loss"));
        const int a = curve.addSeries(QStringLiteral("loss"), Qt::blue);
        const int b = curve.addSeries(QStringLiteral("JEPA"), Qt::red, false);
        curve.resize(500, 320);
        curve.show();
        QVERIFY(QTest::qWaitForWindowExposed(&curve));
        for (int i = 1; i <= 50; ++i) {
            curve.append(a, i, 1.0 / i);
            curve.append(b, i, 0.5 / i);
        }
        curve.refresh();
        curve.plot()->replot();
        QVERIFY(curve.plot()->legend->visible());
        QVERIFY(!curve.plot()->legend->outerRect().intersects(curve.plot()->axisRect()->rect()));
        QVERIFY(curve.plot()->legend->outerRect().bottom() <= curve.plot()->axisRect()->outerRect().top());

        QCOMPARE(curve.plot()->contextMenuPolicy(), Qt::CustomContextMenu);
        std::unique_ptr<QMenu> menu(plotMenu(curve.plot(), {.name = QStringLiteral("loss"), .csv = [&] { return curve.csv(); }, .resetView = {}}, &curve));
        QStringList texts;
        for (QAction* action : menu->actions())
            if (!action->isSeparator())
                texts << action->text();
        QCOMPARE(texts, (QStringList{QStringLiteral("Save image as PNG…"), QStringLiteral("Save image as PDF (vector)…"),
                                     QStringLiteral("Save data as CSV…"), QStringLiteral("Copy data as CSV"), QStringLiteral("Reset view")}));
        menu->actions()[3]->trigger();
        QCOMPARE(QApplication::clipboard()->text(), curve.csv());
        QCOMPARE(curve.csv().count(QLatin1Char('\n')), 1 + 100);

        QTemporaryDir dir;
        QVERIFY(savePlot(curve.plot(), dir.filePath("p.png")));
        QVERIFY(!QImage(dir.filePath("p.png")).isNull());
        QVERIFY(savePlot(curve.plot(), dir.filePath("p.pdf")));
        QFile pdf(dir.filePath("p.pdf"));
        QVERIFY(pdf.open(QIODevice::ReadOnly) && pdf.read(5) == "%PDF-");
        QVERIFY(!savePlot(curve.plot(), dir.filePath("p.txt"))); // an unknown kind writes nothing
        QVERIFY(!QFileInfo::exists(dir.filePath("p.txt")));
        QVERIFY(!savePlot(curve.plot(), dir.filePath("missing/p.csv")));

        // The generic CSV of any plot: graphs and bars, names with commas quoted.
        QCustomPlot plain;
        auto* g = plain.addGraph();
        g->setName(QStringLiteral("h / w, faithful"));
        g->setData({1.0, 2.0}, {0.25, 0.75});
        auto* bars = new QCPBars(plain.xAxis, plain.yAxis);
        bars->setName(QStringLiteral("block"));
        bars->setData({9.0, 12.0}, {0.5, 0.5});
        QCOMPARE(plotCsv(&plain), QStringLiteral("series,x,y\n\"h / w, faithful\",1,0.25\n\"h / w, faithful\",2,0.75\n"
                                                 "block,9,0.5\nblock,12,0.5\n"));
        QVERIFY(savePlot(&plain, dir.filePath("p.csv")));
        QFile csv(dir.filePath("p.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(csv.readAll()), plotCsv(&plain));
    }

    void curveLegendNamesOnlySeriesWithPoints()
    {
        CurvePlot plot(QStringLiteral("loss"));
        const int loss = plot.addSeries(QStringLiteral("loss"), Qt::blue);
        const int jepa = plot.addSeries(QStringLiteral("JEPA"), Qt::red);
        const int sigreg = plot.addSeries(QStringLiteral("SIGReg"), Qt::green);
        plot.resize(400, 300);
        plot.show();
        const auto legendNames = [&] {
            QStringList names;
            for (int i = 0; i < plot.plot()->legend->itemCount(); ++i)
                if (auto* item = qobject_cast<QCPPlottableLegendItem*>(plot.plot()->legend->item(i)))
                    names << item->plottable()->name();
            return names;
        };
        plot.append(loss, 1, 0.4);
        plot.refresh();
        QCOMPARE(legendNames(), QStringList{QStringLiteral("loss")});
        QVERIFY(!plot.plot()->legend->visible()); // one series: no legend
        plot.append(sigreg, 2, 0.1); // e.g. SIGReg switched on mid-run
        plot.append(jepa, 2, 0.3);
        plot.refresh();
        QCOMPARE(legendNames(), (QStringList{QStringLiteral("loss"), QStringLiteral("JEPA"), QStringLiteral("SIGReg")}));
        QVERIFY(plot.plot()->legend->visible());
        plot.clear();
        QVERIFY(legendNames().isEmpty());
    }

    // Before the first point a plot says so instead of drawing 0-5 axes; a lone point sits inside
    // the frame; steps tick at whole numbers; a cleared plot forgets the previous run's range.
    void curveEmptyLonePointAndIntegerSteps()
    {
        CurvePlot plot(QStringLiteral("probe"));
        const int probe = plot.addSeries(QStringLiteral("probe"), Qt::blue);
        plot.resize(400, 300);
        plot.show();
        QVERIFY(QTest::qWaitForWindowExposed(&plot));
        plot.refresh();
        QVERIFY(!plot.plot()->xAxis->tickLabels() && !plot.plot()->yAxis->tickLabels());
        plot.append(probe, 100, 0.5);
        plot.refresh();
        QVERIFY(plot.plot()->xAxis->tickLabels());
        const QCPRange x = plot.plot()->xAxis->range(), y = plot.plot()->yAxis->range();
        QVERIFY(x.lower < 100 && 100 < x.upper);
        QVERIFY(y.lower < 0.5 && 0.5 < y.upper);
        plot.append(probe, 105, 0.7);
        plot.refresh();
        QVERIFY(plot.plot()->yAxis->range().lower < 0.5 && plot.plot()->yAxis->range().upper > 0.7); // 5% room
        QVector<double> ticks;
        QVector<QString> labels;
        plot.plot()->xAxis->ticker()->generate(QCPRange(100, 105), QLocale(), QLatin1Char('g'), 6, ticks, nullptr, &labels);
        for (double t : ticks)
            QCOMPARE(t, std::round(t)); // no 102.5
        plot.clear();
        QVERIFY(!plot.plot()->xAxis->tickLabels());
        QCOMPARE(plot.plot()->xAxis->range().upper, 1.0); // not the previous run's 105
        // A plot whose series are all removed (the runs overlay with nothing ticked) keeps its width.
        plot.removeAllSeries();
        plot.setXLabel(QStringLiteral("step"));
        plot.plot()->replot();
        QVERIFY2(plot.plot()->axisRect()->width() > plot.plot()->width() * 3 / 4,
                 qPrintable(QStringLiteral("axis rect %1 of %2").arg(plot.plot()->axisRect()->width()).arg(plot.plot()->width())));
    }

    void schedulePlotMatchesCoreSchedules()
    {
        const Config config = fashionConfig();
        SchedulePlot plot;
        plot.setSchedule(config.optimization, 468);
        const Schedules reference(config.optimization, 468);
        QCOMPARE(plot.totalSteps(), static_cast<std::int64_t>(config.optimization.epochs) * 468);
        QVERIFY(plot.sampleCount() > 100 && plot.sampleCount() <= 2002);
        QCOMPARE(plot.sampleStep(plot.sampleCount() - 1), static_cast<double>(plot.totalSteps()));
        for (int i = 0; i < plot.sampleCount(); i += 37) {
            const auto step = static_cast<std::int64_t>(plot.sampleStep(i));
            QCOMPARE(plot.sampleValue(0, i), reference.learningRate(step));
            QCOMPARE(plot.sampleValue(1, i), reference.weightDecay(step));
            QCOMPARE(plot.sampleValue(2, i), reference.momentum(step - 1));
        }
        plot.setCursor(500);
        QVERIFY(plot.cursorText().contains(QStringLiteral("at step 500")));
    }

    void maskViewDrawsContextAndTargetsOverRealImages()
    {
        const Config config = fashionConfig();
        LoaderOptions lo;
        lo.batchSize = config.data.batch_size;
        lo.cropSize = config.data.crop_size;
        lo.workers = 0;
        DataLoader loader(limitSource(openFashionMnist("test"), 1024), lo, config.mask);
        const Batch batch = loader.makeBatch(3);
        const int grid = config.gridSize();
        const MaskSample sample = maskSampleFromBatch(batch, grid, grid, 8);
        QCOMPARE(sample.images.size(), 8);
        QCOMPARE(sample.context[0][0].size(), static_cast<int>(batch.masks.enc.size(2)));
        QCOMPARE(sample.targets[0].size(), config.mask.num_pred_masks);
        QCOMPARE(sample.iteration, static_cast<qint64>(3));

        MaskView view;
        view.setSample(sample);
        const int patchPx = 16, size = grid * patchPx;
        for (int img = 0; img < 4; ++img) {
            const QImage tile = view.renderTile(img, size);
            const QImage source = sample.images[img].scaled(size, size); // nearest, as drawImage
            std::set<int> context(sample.context[img][0].begin(), sample.context[img][0].end());
            // A patch of target block 0 only (never in the context: allow_overlap is false).
            int t = -1;
            for (int idx : sample.targets[img][0]) {
                bool other = false;
                for (int b = 1; b < sample.targets[img].size(); ++b)
                    other |= sample.targets[img][b].contains(idx);
                if (!other) {
                    t = idx;
                    break;
                }
            }
            if (t < 0)
                continue;
            QVERIFY(!context.count(t));
            const QPoint pt((t % grid) * patchPx + patchPx / 2, (t / grid) * patchPx + patchPx / 2);
            const QColor base = source.pixelColor(pt), got = tile.pixelColor(pt), c = targetColor(0);
            const auto dimmed = [&](int v) { return blend(v, 0, 110); };
            QVERIFY2(std::abs(got.red() - blend(dimmed(base.red()), c.red(), 150)) <= 3, "target colour (red)");
            QVERIFY2(std::abs(got.green() - blend(dimmed(base.green()), c.green(), 150)) <= 3, "target colour (green)");
            // A context patch: tinted blue.
            const int k = *context.begin();
            bool inTarget = false;
            for (const auto& block : sample.targets[img])
                inTarget |= block.contains(k);
            if (inTarget)
                continue;
            const QPoint pc((k % grid) * patchPx + patchPx / 2, (k / grid) * patchPx + patchPx / 2);
            const QColor b2 = source.pixelColor(pc), g2 = tile.pixelColor(pc);
            QVERIFY2(std::abs(g2.blue() - blend(b2.blue(), kContextColor.blue(), 70)) <= 3, "context tint (blue)");
            QVERIFY2(std::abs(g2.red() - blend(b2.red(), kContextColor.red(), 70)) <= 3, "context tint (red)");
        }
    }

    void maskPanelSwitchesSamplerAtOnce()
    {
        Config config = fashionConfig();
        MaskPanel panel;
        panel.setSource(openFashionMnist("test"));
        panel.setConfig(config);
        QCOMPARE(panel.view()->sample().images.size(), 8);
        QCOMPARE(panel.view()->sample().targets[0].size(), config.mask.num_pred_masks);
        QSignalSpy spy(&panel, &MaskPanel::maskSettingsChanged);
        auto* sampler = panel.findChildren<QComboBox*>().at(0);
        sampler->setCurrentText(QStringLiteral("rasterized"));
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy[0][0].toString(), QStringLiteral("rasterized"));
        // Rasterized on an 8x8 grid: one quadrant (16 patches) is the context, three are targets.
        const MaskSample& s = panel.view()->sample();
        QCOMPARE(s.targets[0].size(), 3);
        QCOMPARE(s.context[0][0].size(), 16);
        for (const auto& t : s.targets[0])
            QCOMPARE(t.size(), 16);
        QVERIFY(panel.sizesText().contains(QStringLiteral("context 16 patches")));
        // Sample again draws new masks.
        const auto before = panel.view()->sample().context;
        sampler->setCurrentText(QStringLiteral("multiblock"));
        const auto first = panel.view()->sample().targets;
        panel.sampleAgain();
        QVERIFY(panel.view()->sample().targets != first);
    }

    void configEditorValidatesAsYouType()
    {
        ConfigEditor editor;
        const Config config = fashionConfig();
        editor.setConfig(config);
        QVERIFY(editor.isValid());
        QCOMPARE(editor.value(QStringLiteral("data.crop_scale")), QStringLiteral("[0.3, 1.0]"));
        QSignalSpy changed(&editor, &ConfigEditor::configChanged);
        QSignalSpy validity(&editor, &ConfigEditor::validityChanged);

        // Typing into the field, as a user does.
        auto* patch = editor.findChild<QLineEdit*>(QStringLiteral("mask.patch_size"));
        QVERIFY(patch);
        patch->selectAll();
        QTest::keyClicks(patch, QStringLiteral("5"));
        QVERIFY(!editor.isValid());
        QCOMPARE(editor.errorKey(), QStringLiteral("mask.patch_size"));
        QVERIFY(editor.errorText().contains(QStringLiteral("must divide data.crop_size")));
        QCOMPARE(editor.config().mask.patch_size, config.mask.patch_size); // last valid config stays
        QCOMPARE(validity.count(), 1);
        QVERIFY(!patch->styleSheet().isEmpty());

        editor.setValue(QStringLiteral("mask.patch_size"), QStringLiteral("2"));
        QVERIFY2(editor.isValid(), qPrintable(editor.errorText()));
        QCOMPARE(editor.config().mask.patch_size, 2);
        QVERIFY(changed.count() >= 1);
        QVERIFY(patch->styleSheet().isEmpty());

        // A crop size the patch does not divide marks the field just edited (and shows it), and the
        // patch size the message names beside it; the message starts with the edited key.
        auto* crop = editor.findChild<QLineEdit*>(QStringLiteral("data.crop_size"));
        crop->selectAll();
        QTest::keyClicks(crop, QStringLiteral("31"));
        QVERIFY(!editor.isValid());
        QCOMPARE(editor.errorKey(), QStringLiteral("data.crop_size"));
        QCOMPARE(editor.markedKeys(), (QStringList{QStringLiteral("data.crop_size"), QStringLiteral("mask.patch_size")}));
        QVERIFY2(editor.errorText().startsWith(QStringLiteral("data.crop_size: key 'mask.patch_size'")), qPrintable(editor.errorText()));
        QVERIFY(!crop->styleSheet().isEmpty() && !patch->styleSheet().isEmpty());
        editor.setValue(QStringLiteral("data.crop_size"), QStringLiteral("32"));
        QVERIFY(editor.isValid());
        QVERIFY(crop->styleSheet().isEmpty() && patch->styleSheet().isEmpty());

        editor.setValue(QStringLiteral("data.batch_size"), QStringLiteral("abc"));
        QCOMPARE(editor.errorKey(), QStringLiteral("data.batch_size"));
        editor.setValue(QStringLiteral("data.batch_size"), QStringLiteral("64"));
        editor.setValue(QStringLiteral("mask.pred_mask_scale"), QStringLiteral("[0.3, 0.2]"));
        QCOMPARE(editor.errorKey(), QStringLiteral("mask.pred_mask_scale"));
        editor.setValue(QStringLiteral("mask.pred_mask_scale"), QStringLiteral("[0.15, 0.2]"));
        editor.setValue(QStringLiteral("logging.folder"), QStringLiteral("runs/with: colon"));
        QVERIFY2(editor.isValid(), qPrintable(editor.errorText()));
        QCOMPARE(editor.config().logging.folder, std::string("runs/with: colon"));

        // Save and load round trip; the reference's ViT-H config loads unchanged.
        QTemporaryDir dir;
        QVERIFY(editor.saveYaml(dir.filePath("c.yaml")));
        QCOMPARE(dumpConfig(loadConfig(dir.filePath("c.yaml").toStdString())), dumpConfig(editor.config()));
        QVERIFY(editor.loadYaml(IJEPA_TEST_FIXTURES "/in1k_vith14_ep300.yaml"));
        QCOMPARE(editor.config().meta.model_name, std::string("vit_huge"));
        QCOMPARE(editor.value(QStringLiteral("meta.model_name")), QStringLiteral("vit_huge"));
        QVERIFY(!editor.loadYaml(dir.filePath("missing.yaml")));
        QVERIFY(editor.errorText().contains(QStringLiteral("missing.yaml")));
        // A misspelt key in a loaded file is refused with the nearest name; the editor keeps its values.
        {
            QFile typo(dir.filePath("typo.yaml"));
            QVERIFY(typo.open(QIODevice::WriteOnly));
            typo.write("data:\n  batch_szie: 16\n");
        }
        QVERIFY(!editor.loadYaml(dir.filePath("typo.yaml")));
        QVERIFY2(editor.errorText().contains(QStringLiteral("did you mean data.batch_size?")), qPrintable(editor.errorText()));
        QCOMPARE(editor.config().meta.model_name, std::string("vit_huge"));
        // Each field's tooltip is the schema's meaning and range of its key (core/config_schema.h).
        auto* ipeScale = editor.findChild<QLineEdit*>(QStringLiteral("optimization.ipe_scale"));
        QVERIFY(ipeScale && ipeScale->toolTip().contains(QStringLiteral("the schedules span ipe_scale")));
    }

    void embeddingBrowserFindsNeighboursAndPatches()
    {
        // Pixel "embeddings" of real images: patches are the 4x4 pixel patches of a 28x28 view.
        const auto source = limitSource(openFashionMnist("test"), 300);
        EmbeddingSet set;
        std::vector<torch::Tensor> patches;
        for (std::int64_t i = 0; i < source->size(); ++i) {
            const auto view = evalTransform(source->image(i), 28); // [3, 28, 28]
            patches.push_back(view.reshape({3, 7, 4, 7, 4}).permute({1, 3, 0, 2, 4}).reshape({49, 48}));
            set.thumbnails.push_back(imageFromHwc(denormalizeToUint8(view.unsqueeze(0))[0].permute({1, 2, 0})));
            set.labels << static_cast<int>(source->label(i));
            set.names << QString::fromStdString(source->name(i));
        }
        set.patches = torch::stack(patches);
        set.features = set.patches.reshape({300, -1});
        set.gridH = set.gridW = 7;
        set.origin = QStringLiteral("pixels");

        EmbeddingBrowser browser;
        browser.resize(900, 700);
        browser.show();
        browser.setEmbeddings(set);
        browser.setK(5);
        browser.selectImage(7);
        QCOMPARE(browser.selectedImage(), 7);
        const auto& hits = browser.neighbours();
        QCOMPARE(hits.size(), std::size_t(5));
        QCOMPARE(browser.neighbourList()->count(), 5);
        // Brute force: cosine similarity of image 7's centred features to all others' (the mean over
        // the set taken out: raw pooled features are all near one direction).
        const auto centred = set.features - set.features.mean(0, true);
        const auto unit = torch::nn::functional::normalize(centred, torch::nn::functional::NormalizeFuncOptions().dim(1));
        auto sims = unit.matmul(unit[7]);
        sims[7] = -2;
        const auto top = sims.topk(5);
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(hits[i].index, std::get<1>(top)[i].item<std::int64_t>());
            QVERIFY(std::abs(hits[i].similarity - std::get<0>(top)[i].item<float>()) < 1e-5);
        }
        QVERIFY(browser.neighbourList()->item(0)->text().contains(QStringLiteral(" (raw ")));
        // The selected thumbnail is framed in the highlight colour (not a tick under it).
        QVERIFY(QTest::qWaitForWindowExposed(&browser));
        QTRY_VERIFY(browser.gallery()->count() == 300);
        const QRect cell = browser.gallery()->visualItemRect(browser.gallery()->item(7));
        const QImage shot = browser.gallery()->viewport()->grab().toImage();
        const QColor highlight = browser.gallery()->palette().color(QPalette::Highlight);
        const QColor edge = shot.pixelColor(cell.left() + 1, cell.center().y());
        QVERIFY2(std::abs(edge.red() - highlight.red()) + std::abs(edge.green() - highlight.green()) +
                         std::abs(edge.blue() - highlight.blue()) < 30,
                 qPrintable(edge.name() + QStringLiteral(" vs ") + highlight.name()));
        const QRect other = browser.gallery()->visualItemRect(browser.gallery()->item(8));
        QVERIFY(shot.pixelColor(other.left() + 1, other.center().y()) != edge); // unselected: no frame

        // Patch mode by clicking the canvas: the clicked patch is 1 with itself.
        browser.setMode(EmbeddingBrowser::Mode::Patches);
        PatchCanvas* canvas = browser.canvas();
        QVERIFY(QTest::qWaitForWindowExposed(&browser));
        const int side = std::min(canvas->width(), canvas->height());
        const QPoint origin((canvas->width() - side) / 2, (canvas->height() - side) / 2);
        const QPoint click = origin + QPoint(side * 5 / 7 + side / 14, side * 2 / 7 + side / 14); // row 2, col 5
        QCOMPARE(canvas->patchAt(click), 2 * 7 + 5);
        QTest::mouseClick(canvas, Qt::LeftButton, {}, click);
        const auto own = browser.patchSimilarities(7);
        QCOMPARE(own.size(0), 49);
        QVERIFY(std::abs(own[19].item<float>() - 1.0f) < 1e-5);
        QVERIFY(own.max().item<float>() <= 1.0f + 1e-5);
        QCOMPARE(browser.patchSimilarities(static_cast<int>(hits[0].index)).size(0), 49);

        browser.setMode(EmbeddingBrowser::Mode::Pca);
        const auto colours = browser.pcaColours(7);
        QCOMPARE(colours.size(), 49);
        QVERIFY(!browser.canvas()->rendered(140).isNull());
    }
};

QTEST_MAIN(TestWidgets)
#include "test_widgets.moc"
