// ijepa-workbench: the desktop workbench. Also renders screenshots (--screenshots) and measures
// UI responsiveness while training (--bench-ui), both driving the real window (automation.h).
#include "app/workbench/automation.h"
#include "app/workbench/main_window.h"
#include "core/cpu_blas.h"


#include <ATen/Parallel.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QPainter>

#include <csignal>
#include <cstdio>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <string>
#include <type_traits>

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

} // namespace

int main(int argc, char* argv[])
{
    ijepa::restartWithBetterBlasKernels(argv);
    std::signal(SIGXFSZ, SIG_IGN); // past a file-size limit a write fails (EFBIG: a message, a pause) instead of killing us
    QApplication app(argc, argv);
    // LibTorch work on the UI thread (the browser's nearest neighbours, small views) stays on this
    // thread: an OpenMP team of its own would only compete with the training threads for the cores.
    // (The UI bench's long stalls turned out to be Qt's thread pool, see widgets::jobPool().) ATen
    // reads the thread's OpenMP setting (initialised on first use), so this leaves the training and
    // job threads as they are.
    at::get_num_threads();
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    QApplication::setApplicationName(QStringLiteral("ijepa-workbench"));
    QApplication::setApplicationVersion(QStringLiteral(IJEPA_VERSION));
    QApplication::setWindowIcon(appIcon());

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("I-JEPA Workbench: train and inspect I-JEPA models"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption data({"d", "data"}, "fashion-mnist (default), an image folder or tar shards (train-{000000..000127}.tar)", "DATA", "fashion-mnist");
    const QCommandLineOption config({"c", "config"}, "YAML config (default: the shipped Fashion-MNIST config)", "FILE");
    const QCommandLineOption out("runs", "folder for runs (one time-stamped folder per run)", "DIR", "runs/workbench");
    const QCommandLineOption limit("limit", "use only the first N training images", "N", "0");
    // Run settings: the defaults are the core's (RunSettings), the same as ijepa train's.
    const ijepa::RunSettings defaults;
    // A run setting's option: its help text ends with the default it takes from RunSettings.
    const auto setting = [](const char* name, const char* help, auto value) {
        const QString v = QString::fromStdString([&] {
            if constexpr (std::is_arithmetic_v<decltype(value)>)
                return std::to_string(value);
            else
                return std::string(value);
        }());
        return QCommandLineOption(QString::fromLatin1(name), QStringLiteral("%1 (default %2)").arg(QLatin1String(help), v),
                                  QStringLiteral("VALUE"), v);
    };
    const auto maxSteps = setting("max-steps", "stop each run after N steps (0: the whole schedule)", defaults.trainer.maxSteps);
    const auto threads = setting("threads", "torch threads for training (0: all cores)", defaults.trainer.threads);
    const auto device = setting("device", "cpu, cuda or cuda:N", defaults.trainer.device);
    const auto checkpointEvery =
        setting("checkpoint-every", "steps between checkpoints (also at every epoch end)", defaults.checkpoints.every);
    const auto diagnosticsEvery =
        setting("diagnostics-every", "steps between the learning signals: probe, spectrum, loss map (0: none)",
                defaults.diagnostics.every);
    const QCommandLineOption set("set", "config override section.key=value (repeatable)", "KEY=VALUE");
    const QCommandLineOption start("start", "start training at once");
    const QCommandLineOption checkpoint("checkpoint", "open a checkpoint at start", "FILE");
    const QCommandLineOption shots("screenshots", "train, save screenshots of the window and each view to DIR, quit", "DIR");
    const QCommandLineOption shotSteps("screenshot-steps", "steps to train before the screenshots", "N", "40");
    const QCommandLineOption benchUi("bench-ui", "train for S seconds, print the largest UI event-loop delay, quit", "S");
    const QCommandLineOption benchPlot("bench-plot", "time redraws of a loss curve with N points (NxS: S curves of N points, as the runs overlay draws them), quit",
                                       "N[xS]");
    parser.addOptions({data, config, out, limit, maxSteps, threads, device, checkpointEvery, diagnosticsEvery, set, start, checkpoint, shots, shotSteps, benchUi, benchPlot});
    parser.process(app);
    if (parser.isSet(benchPlot)) {
        const QStringList parts = parser.value(benchPlot).split(QLatin1Char('x'));
        return runPlotBench(parts.value(0).toInt(), std::max(1, parts.value(1, QStringLiteral("1")).toInt()));
    }

    WorkbenchOptions options;
    options.data = parser.value(data);
    options.config = parser.value(config);
    options.runsDir = parser.value(out);
    options.limit = parser.value(limit).toLongLong();
    options.run.trainer.maxSteps = parser.value(maxSteps).toLongLong();
    options.run.trainer.threads = parser.value(threads).toInt();
    options.run.trainer.device = parser.value(device).toStdString();
    options.run.checkpoints.every = parser.value(checkpointEvery).toLongLong();
    options.run.diagnostics.every = parser.value(diagnosticsEvery).toLongLong();
    options.overrides = parser.values(set);
    const bool automated = parser.isSet(shots) || parser.isSet(benchUi);
    options.askOnClose = !automated;

    MainWindow window(options);
    window.show();
    if (parser.isSet(checkpoint))
        window.openCheckpoint(parser.value(checkpoint));
    if (parser.isSet(shots))
        runScreenshots(window, parser.value(shots), parser.value(shotSteps).toLongLong());
    if (parser.isSet(benchUi))
        runUiBench(window, parser.value(benchUi).toDouble());
    if (parser.isSet(start) || automated) {
        window.startTraining();
        if (automated && !window.worker()->isRunning()) {
            std::fprintf(stderr, "ijepa-workbench: could not start training: %s\n", qPrintable(window.lastError()));
            return 2;
        }
    }
    return app.exec();
}
