#include "app/workbench/automation.h"

#include "app/workbench/main_window.h"
#include "widgets/qcustomplot_include.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QTabWidget>
#include <QScopeGuard>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

#include <unistd.h>

namespace ijepa::workbench {
namespace {

// Where the UI thread's time went, in ms since boot (Linux; zeros elsewhere): running, and waiting
// for a core (/proc/thread-self/schedstat), and the time the hypervisor gave no core to this
// machine (steal, /proc/stat, summed over cores). A stall that is none of these was a wait on a
// lock or on I/O.
struct CpuClock {
    double run = 0, queued = 0, steal = 0;
};

CpuClock cpuClock()
{
    CpuClock c;
    if (std::FILE* f = std::fopen("/proc/thread-self/schedstat", "r")) {
        unsigned long long run = 0, queued = 0;
        if (std::fscanf(f, "%llu %llu", &run, &queued) == 2)
            c.run = run / 1e6, c.queued = queued / 1e6;
        std::fclose(f);
    }
    if (std::FILE* f = std::fopen("/proc/stat", "r")) {
        unsigned long long v[8] = {};
        if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
            c.steal = v[7] * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
        std::fclose(f);
    }
    return c;
}

void saveShot(QWidget* w, const QString& dir, const QString& name)
{
    const QString path = QDir(dir).filePath(name + QStringLiteral(".png"));
    if (w->grab().save(path))
        std::printf("screenshot: %s\n", qPrintable(path));
    else
        std::fprintf(stderr, "screenshot: cannot write %s\n", qPrintable(path));
}

} // namespace

namespace {

// Saves the Seeing-inside views once each has its result: the mask statistics (faithful beside
// corrected), the attention maps and the predictor view of the selected image.
bool saveInspectShots(MainWindow& window, const QString& dir)
{
    auto* inspect = window.embeddingsTab();
    if (window.maskStats()->busy() || window.maskStats()->stats().empty() || inspect->attentionView()->busy() ||
        !inspect->attentionView()->maps().defined() || inspect->predictorView()->busy() ||
        inspect->predictorView()->probe().blocks.empty())
        return false;
    window.tabs()->setCurrentIndex(0);
    window.showMaskPage(1);
    QApplication::processEvents();
    saveShot(window.tabs()->currentWidget(), dir, QStringLiteral("mask-stats"));
    window.showMaskPage(0);
    window.tabs()->setCurrentWidget(inspect);
    const char* pages[] = {"embeddings", "attention", "predictor"};
    for (int page = 1; page < 3; ++page) {
        inspect->showPage(page);
        QApplication::processEvents();
        saveShot(inspect, dir, QString::fromLatin1(pages[page]));
    }
    inspect->showPage(0);
    // The Runs tab with every run of the runs folder overlaid (the one training included).
    auto* runs = window.runsPanel();
    for (const auto& r : runs->runs())
        runs->setChecked(QString::fromStdString(r.folder), true);
    window.tabs()->setCurrentWidget(runs);
    runs->showPlot(1);
    runs->showComparison(0);
    const auto settle = [] { // the overlay's redraw and the plot's replot are queued: let them run
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 300)
            QApplication::processEvents(QEventLoop::AllEvents, 50);
    };
    settle();
    saveShot(runs, dir, QStringLiteral("runs"));
    runs->showPlot(0);
    runs->showComparison(1);
    settle();
    saveShot(runs, dir, QStringLiteral("runs-hparams"));
    return true;
}

} // namespace

// Trains until `steps` steps and a mask sample have arrived, embeds with the current weights,
// then saves the window on each tab, the individual widgets and the Seeing-inside views.
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
            const char* names[] = {"masks", "loss", "signals", "collapse", "schedules", "throughput", "embeddings"};
            for (int i = 0; i < 7; ++i) {
                window.tabs()->setCurrentIndex(i);
                QApplication::processEvents();
                if (i == 0)
                    saveShot(&window, dir, QStringLiteral("main-window"));
                saveShot(window.tabs()->currentWidget(), dir, QString::fromLatin1(names[i]));
            }
            window.tabs()->setCurrentIndex(0);
            saveShot(window.configEditor(), dir, QStringLiteral("config-editor"));
        } else if (*state == 2 && saveInspectShots(window, dir)) {
            *state = 3;
            window.stopTraining();
        } else if (*state == 3 && !window.worker()->isRunning()) {
            poll->stop();
            QApplication::quit();
        }
    });
    poll->start(100);
}

// Measures how late a 5 ms timer fires while training runs: the UI thread's worst stall, over the
// whole run and minute by minute (so a soak run shows whether the bound still holds at its end).
void runUiBench(MainWindow& window, double seconds, double restartEvery)
{
    struct State {
        QElapsedTimer clock;
        std::vector<double> delays;
        qint64 last = -1, startSteps = -1;
        CpuClock lastCpu;
        int minute = 0;
        double minuteMax = 0.0, lastMinuteMax = 0.0;
    };
    auto* tick = new QTimer(&window);
    tick->setTimerType(Qt::PreciseTimer);
    auto* cycle = new QTimer(&window);
    auto st = std::make_shared<State>();
    QObject::connect(tick, &QTimer::timeout, &window, [=, &window] {
        const qint64 now = st->clock.nsecsElapsed();
        if (window.stepsSeen() == 0) // warm-up: measure from the first reported step
            return void(st->last = now);
        if (st->startSteps < 0)
            st->startSteps = window.stepsSeen();
        if (st->last >= 0) {
            st->delays.push_back(std::max(0.0, (now - st->last) / 1e6 - 5.0));
            st->minuteMax = std::max(st->minuteMax, st->delays.back());
            if (st->delays.back() > 50.0) { // name where it happened, to find what held the UI thread
                const CpuClock cpu = cpuClock();
                std::printf("ui-bench: stall %.1f ms on tab %s at %.1f s (the UI thread ran %.1f ms, waited for a core "
                            "%.1f ms; steal %.0f ms)\n",
                            st->delays.back(), qPrintable(window.tabs()->tabText(window.tabs()->currentIndex())), now / 1e9,
                            cpu.run - st->lastCpu.run, cpu.queued - st->lastCpu.queued, cpu.steal - st->lastCpu.steal);
            }
        }
        st->last = now;
        st->lastCpu = cpuClock();
        if (now / 60e9 >= st->minute + 1) {
            std::printf("ui-bench: minute %d: max delay %.1f ms, %lld steps so far\n", ++st->minute, st->minuteMax,
                        static_cast<long long>(window.stepsSeen()));
            std::fflush(stdout);
            st->lastMinuteMax = std::exchange(st->minuteMax, 0.0);
        }
        if (now / 1e9 > seconds && !st->delays.empty() && window.worker()->isRunning()) {
            tick->stop();
            cycle->stop();
            std::vector<double> d = st->delays;
            std::sort(d.begin(), d.end());
            std::printf("ui-bench: %zu timer ticks over %.0f s while training (%lld steps), event-loop delay: "
                        "max %.1f ms, p99 %.1f ms, median %.2f ms; last minute max %.1f ms\n",
                        d.size(), seconds, static_cast<long long>(window.stepsSeen() - st->startSteps), d.back(),
                        d[d.size() * 99 / 100], d[d.size() / 2], std::max(st->minuteMax, st->lastMinuteMax));
            std::fflush(stdout);
            window.stopTraining();
            QObject::connect(&window, &MainWindow::trainingEnded, qApp, &QApplication::quit);
        }
    });
    // Every view takes its turn on screen (2 s each), so each one's redraws are measured; the
    // Seeing-inside views update meanwhile: new weights every 30 s (embeddings, attention maps,
    // predictor view), a new mask sample, query patch and block every 2 s, the mask statistics
    // recomputed for the other comparison every 20 s.
    auto turn = std::make_shared<int>(0);
    QObject::connect(cycle, &QTimer::timeout, &window, [&window, turn] {
        QElapsedTimer took;
        took.start();
        window.tabs()->setCurrentIndex((window.tabs()->currentIndex() + 1) % window.tabs()->count());
        const double tabMs = took.nsecsElapsed() / 1e6;
        auto* inspect = window.embeddingsTab();
        const int t = ++*turn;
        const auto report = qScopeGuard([&] {
            if (took.nsecsElapsed() / 1e6 > 50.0)
                std::printf("ui-bench: turn %d took %.1f ms (showing tab %s: %.1f ms)\n", t, took.nsecsElapsed() / 1e6,
                            qPrintable(window.tabs()->tabText(window.tabs()->currentIndex())), tabMs);
        });
        inspect->showPage(t % 3);
        if (t % 15 == 1 && !window.embeddingsBusy() && window.worker()->isRunning())
            window.useCurrentWeights();
        if (window.browser()->embeddings().features.defined()) {
            QElapsedTimer part;
            part.start();
            double ms[4];
            inspect->predictorView()->sampleMasks(t);
            ms[0] = part.nsecsElapsed() / 1e6;
            const auto& set = window.browser()->embeddings();
            inspect->attentionView()->setQuery((t * 7) % (set.gridH * set.gridW));
            ms[1] = part.nsecsElapsed() / 1e6;
            inspect->attentionView()->setLayer(t % std::max<int>(1, window.configEditor()->config().encoderSize().depth));
            ms[2] = part.nsecsElapsed() / 1e6;
            window.browser()->selectImage(t % static_cast<int>(set.features.size(0)));
            ms[3] = part.nsecsElapsed() / 1e6;
            if (ms[3] > 50)
                std::printf("ui-bench: turn %d: sample masks %.1f, query %.1f, layer %.1f, select image %.1f ms (cumulative)\n",
                            t, ms[0], ms[1], ms[2], ms[3]);
        }
        if (t % 10 == 5)
            window.maskStats()->setComparison(1 + t / 10 % 2);
        if (t == 1) // every run found under the runs folder overlaid (the bench script puts ten there)
            for (const auto& r : window.runsPanel()->runs())
                window.runsPanel()->setChecked(QString::fromStdString(r.folder), true);
    });
    if (restartEvery > 0) {
        auto* restart = new QTimer(&window);
        QObject::connect(restart, &QTimer::timeout, &window, [&window, st, seconds] {
            if (!window.worker()->isRunning() || st->clock.nsecsElapsed() / 1e9 > seconds - 30)
                return;
            auto once = std::make_shared<QMetaObject::Connection>();
            *once = QObject::connect(&window, &MainWindow::trainingEnded, &window, [&window, once](const ijepa::TrainResult& r) {
                QObject::disconnect(*once);
                if (r.checkpoint.empty())
                    return window.startTraining();
                const auto step = static_cast<long long>(r.iteration);
                window.openCheckpoint(QString::fromStdString(r.checkpoint), CheckpointUse::Continue, [&window, step] {
                    std::printf("ui-bench: run stopped at step %lld, its checkpoint opened, training again\n", step);
                    std::fflush(stdout);
                    window.startTraining();
                });
            });
            window.stopTraining();
        });
        restart->start(static_cast<int>(restartEvery * 1000));
    }
    st->clock.start();
    tick->start(5);
    cycle->start(2000);
}

// Replot time of `series` loss curves of `points` points each (raw + smoothed, one legend entry
// each, as the Loss tab and the runs overlay draw them).
int runPlotBench(int points, int series)
{
    ijepa::widgets::CurvePlot plot(QStringLiteral("loss"));
    std::vector<int> ids;
    for (int k = 0; k < series; ++k)
        ids.push_back(plot.addSeries(QStringLiteral("run %1").arg(k + 1), QColor::fromHsv(k * 360 / series, 200, 200)));
    plot.resize(1000, 500);
    plot.show();
    for (int k = 0; k < series; ++k)
        for (int i = 1; i <= points; ++i)
            plot.append(ids[k], i, (1.0 + 0.1 * k) / std::sqrt(static_cast<double>(i)) + 0.02 * std::sin(0.01 * i));
    plot.refresh();
    QApplication::processEvents();
    std::vector<double> ms;
    QElapsedTimer timer;
    for (int i = 0; i < 20; ++i) {
        plot.append(ids[0], points + i + 1, 0.01); // new data arrives, the view follows it
        plot.fit();
        timer.start();
        plot.plot()->replot(QCustomPlot::rpImmediateRefresh);
        ms.push_back(timer.nsecsElapsed() / 1e6);
    }
    std::sort(ms.begin(), ms.end());
    std::printf("plot-bench: %d curve%s of %d points (raw + smoothed), replot: median %.1f ms, max %.1f ms over 20 redraws\n",
                series, series > 1 ? "s" : "", points, ms[ms.size() / 2], ms.back());
    return 0;
}

} // namespace ijepa::workbench
