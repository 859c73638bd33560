// ijepa-workbench: the desktop workbench. Also renders screenshots (--screenshots) and measures
// UI responsiveness while training (--bench-ui), both driving the real window.
#include "main_window.h"

#include <qcustomplot_include.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QPainter>
#include <QTabWidget>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

using namespace ijepa::workbench;

namespace {

// The application icon: a patch grid with a context block and target blocks, as in the mask view.
QIcon appIcon()
{
    QPixmap pixmap(64, 64);
    pixmap.fill(Qt::transparent);
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    p.setBrush(QColor(40, 44, 52));
    p.setPen(Qt::NoPen);
    p.drawRoundedRect(0, 0, 64, 64, 10, 10);
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) {
            QColor color = QColor(66, 133, 244);
            if (r < 2 && c >= 2)
                color = QColor(230, 25, 75);
            else if (r == 3 && c < 2)
                color = QColor(255, 200, 25);
            p.setBrush(color);
            p.drawRoundedRect(6 + c * 13, 6 + r * 13, 11, 11, 2, 2);
        }
    return QIcon(pixmap);
}

void saveShot(QWidget* w, const QString& dir, const QString& name)
{
    const QString path = QDir(dir).filePath(name + QStringLiteral(".png"));
    if (w->grab().save(path))
        std::printf("screenshot: %s\n", qPrintable(path));
    else
        std::fprintf(stderr, "screenshot: cannot write %s\n", qPrintable(path));
}

// Trains until `steps` steps and a mask sample have arrived, embeds with the current weights,
// then saves the window on each tab and the individual widgets.
void runScreenshots(MainWindow& window, const QString& dir, qint64 steps)
{
    QDir().mkpath(dir);
    auto* poll = new QTimer(&window);
    auto state = std::make_shared<int>(0);
    QObject::connect(poll, &QTimer::timeout, &window, [&window, dir, steps, poll, state] {
        if (*state == 0 && window.stepsSeen() >= steps && window.maskSamplesSeen() > 0 && window.worker()->isRunning()) {
            *state = 1;
            window.useCurrentWeights();
        } else if (*state == 1 && !window.embeddingsBusy() && window.browser()->embeddings().features.defined()) {
            *state = 2;
            window.browser()->selectImage(3);
            window.browser()->selectPatch(window.browser()->embeddings().gridW * 3 + 3);
            const char* names[] = {"masks", "loss", "collapse", "schedules", "throughput", "embeddings"};
            for (int i = 0; i < 6; ++i) {
                window.tabs()->setCurrentIndex(i);
                QApplication::processEvents();
                if (i == 0)
                    saveShot(&window, dir, QStringLiteral("main-window"));
                saveShot(window.tabs()->currentWidget(), dir, QString::fromLatin1(names[i]));
            }
            window.tabs()->setCurrentIndex(0);
            saveShot(window.configEditor(), dir, QStringLiteral("config-editor"));
            window.stopTraining();
        } else if (*state == 2 && !window.worker()->isRunning()) {
            poll->stop();
            QApplication::quit();
        }
    });
    poll->start(100);
}

// Measures how late a 5 ms timer fires while training runs: the UI thread's worst stall.
void runUiBench(MainWindow& window, double seconds)
{
    auto* tick = new QTimer(&window);
    tick->setTimerType(Qt::PreciseTimer);
    auto clock = std::make_shared<QElapsedTimer>();
    auto delays = std::make_shared<std::vector<double>>();
    auto last = std::make_shared<qint64>(-1);
    auto startSteps = std::make_shared<qint64>(-1);
    QObject::connect(tick, &QTimer::timeout, &window, [=, &window] {
        const qint64 now = clock->nsecsElapsed();
        if (window.stepsSeen() == 0) // warm-up: measure from the first reported step
            return void(*last = now);
        if (*startSteps < 0)
            *startSteps = window.stepsSeen();
        if (*last >= 0)
            delays->push_back(std::max(0.0, (now - *last) / 1e6 - 5.0));
        *last = now;
        if (now / 1e9 > seconds && !delays->empty() && window.worker()->isRunning() && *startSteps >= 0) {
            tick->stop();
            std::vector<double> d = *delays;
            std::sort(d.begin(), d.end());
            std::printf("ui-bench: %zu timer ticks over %.0f s while training (%lld steps), event-loop delay: "
                        "max %.1f ms, p99 %.1f ms, median %.2f ms\n",
                        d.size(), seconds, static_cast<long long>(window.stepsSeen() - *startSteps), d.back(),
                        d[d.size() * 99 / 100], d[d.size() / 2]);
            std::fflush(stdout);
            window.stopTraining();
            QObject::connect(&window, &MainWindow::trainingEnded, qApp, &QApplication::quit);
        }
    });
    clock->start();
    tick->start(5);
}

// Replot time of a loss curve with `points` points (raw + smoothed), as the window redraws it.
int runPlotBench(int points)
{
    ijepa::widgets::CurvePlot plot(QStringLiteral("loss"));
    const int s = plot.addSeries(QStringLiteral("loss"), Qt::blue);
    plot.resize(1000, 500);
    plot.show();
    for (int i = 1; i <= points; ++i)
        plot.append(s, i, 1.0 / std::sqrt(static_cast<double>(i)) + 0.02 * std::sin(0.01 * i));
    plot.refresh();
    QApplication::processEvents();
    std::vector<double> ms;
    QElapsedTimer timer;
    for (int i = 0; i < 20; ++i) {
        plot.append(s, points + i + 1, 0.01); // new data arrives, the view follows it
        plot.fit();
        timer.start();
        plot.plot()->replot(QCustomPlot::rpImmediateRefresh);
        ms.push_back(timer.nsecsElapsed() / 1e6);
    }
    std::sort(ms.begin(), ms.end());
    std::printf("plot-bench: %d points (raw + smoothed), replot: median %.1f ms, max %.1f ms over 20 redraws\n", points,
                ms[ms.size() / 2], ms.back());
    return 0;
}

} // namespace

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("ijepa-workbench"));
    QApplication::setApplicationVersion(QStringLiteral(IJEPA_VERSION));
    QApplication::setWindowIcon(appIcon());

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("I-JEPA Workbench: train and inspect I-JEPA models"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption data({"d", "data"}, "fashion-mnist (default) or an image folder", "DATA", "fashion-mnist");
    const QCommandLineOption config({"c", "config"}, "YAML config (default: the shipped Fashion-MNIST config)", "FILE");
    const QCommandLineOption out("runs", "folder for runs (one time-stamped folder per run)", "DIR", "runs/workbench");
    const QCommandLineOption limit("limit", "use only the first N training images", "N", "0");
    const QCommandLineOption maxSteps("max-steps", "stop each run after N steps", "N", "0");
    const QCommandLineOption threads("threads", "torch threads for training (default: all cores)", "N", "0");
    const QCommandLineOption device("device", "cpu, cuda or cuda:N", "DEVICE", "cpu");
    const QCommandLineOption set("set", "config override section.key=value (repeatable)", "KEY=VALUE");
    const QCommandLineOption start("start", "start training at once");
    const QCommandLineOption checkpoint("checkpoint", "open a checkpoint at start", "FILE");
    const QCommandLineOption shots("screenshots", "train, save screenshots of the window and each view to DIR, quit", "DIR");
    const QCommandLineOption shotSteps("screenshot-steps", "steps to train before the screenshots", "N", "40");
    const QCommandLineOption benchUi("bench-ui", "train for S seconds, print the largest UI event-loop delay, quit", "S");
    const QCommandLineOption benchPlot("bench-plot", "time redraws of a loss curve with N points, quit", "N");
    parser.addOptions({data, config, out, limit, maxSteps, threads, device, set, start, checkpoint, shots, shotSteps, benchUi, benchPlot});
    parser.process(app);
    if (parser.isSet(benchPlot))
        return runPlotBench(parser.value(benchPlot).toInt());

    WorkbenchOptions options;
    options.data = parser.value(data);
    options.config = parser.value(config);
    options.runsDir = parser.value(out);
    options.limit = parser.value(limit).toLongLong();
    options.maxSteps = parser.value(maxSteps).toLongLong();
    options.threads = parser.value(threads).toInt();
    options.device = parser.value(device);
    options.overrides = parser.values(set);
    const bool automated = parser.isSet(shots) || parser.isSet(benchUi);
    options.askOnClose = !automated;

    MainWindow window(options);
    window.show();
    if (parser.isSet(checkpoint))
        window.openCheckpoint(parser.value(checkpoint));
    if (parser.isSet(shots))
        runScreenshots(window, parser.value(shots), parser.value(shotSteps).toLongLong());
    if (parser.isSet(benchUi)) {
        window.tabs()->setCurrentWidget(window.lossPlot());
        runUiBench(window, parser.value(benchUi).toDouble());
    }
    if (parser.isSet(start) || automated) {
        window.startTraining();
        if (automated && !window.worker()->isRunning()) {
            std::fprintf(stderr, "ijepa-workbench: could not start training: %s\n", qPrintable(window.lastError()));
            return 2;
        }
    }
    return app.exec();
}
