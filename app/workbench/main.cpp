// ijepa-workbench: the desktop workbench. Also renders screenshots (--screenshots) and measures
// UI responsiveness while training (--bench-ui), both driving the real window (automation.h).
#include "app/workbench/automation.h"
#include "app/workbench/main_window.h"
#include "core/cpu_blas.h"

#include <ATen/Parallel.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QPainter>
#include <QSocketNotifier>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <cmath>
#include <optional>
#include <string>

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

// Stop signals (a closed terminal, kill, a scheduler's warning) reach the event loop through a pipe:
// the window then stops training after the current step, writes its checkpoint and quits.
int g_stopPipe[2] = {-1, -1};

extern "C" void onStopSignal(int sig)
{
    const char byte = static_cast<char>(sig);
    [[maybe_unused]] const auto written = ::write(g_stopPipe[1], &byte, 1);
    std::signal(sig, SIG_DFL); // a second one ends the program at once
}

void stopOnSignals(QApplication& app, MainWindow& window)
{
    if (::pipe2(g_stopPipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return;
    auto* notifier = new QSocketNotifier(g_stopPipe[0], QSocketNotifier::Read, &app);
    QObject::connect(notifier, &QSocketNotifier::activated, &window, [&window] {
        char byte = 0;
        while (::read(g_stopPipe[0], &byte, 1) > 0) {
        }
        std::fprintf(stderr, "ijepa-workbench: %s: stopping after this step (a checkpoint is written), then quitting\n",
                     strsignal(static_cast<unsigned char>(byte)));
        window.closeAfterCheckpoint();
    });
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGXCPU})
        std::signal(sig, onStopSignal);
}

// The command line, parsed before any window exists: --help and a bad value need no display.
struct CommandLine {
    WorkbenchOptions options;
    QString checkpoint, screenshots, benchPlot;
    std::int64_t screenshotSteps = 40;
    double benchUiSeconds = 0, benchUiRestart = 0;
    bool start = false;
};

// A number option's value within [lo, hi], or an error naming the option and its range.
std::optional<double> numberIn(const QCommandLineParser& parser, const QString& name, double lo, double hi, QString& error)
{
    bool ok = false;
    const double v = parser.value(name).toDouble(&ok);
    if (ok && v >= lo && v <= hi && std::floor(v) == v)
        return v;
    error = QStringLiteral("--%1 %2: expected a whole number in [%3, %4]")
                .arg(name, parser.value(name), QString::number(lo, 'g', 15), QString::number(hi, 'g', 15));
    return std::nullopt;
}

// Parses argv; returns an exit code when the program should end here (help, version, an error).
std::optional<int> parseCommandLine(const QStringList& args, CommandLine& cl)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("I-JEPA Workbench: train and inspect I-JEPA models"));
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    const ijepa::RunSettings defaults; // the core's defaults, the same as ijepa train's
    const auto setting = [](const char* name, const char* help, const std::string& value) {
        return QCommandLineOption(QString::fromLatin1(name), QStringLiteral("%1 (default %2)").arg(QLatin1String(help), QString::fromStdString(value)),
                                  QStringLiteral("VALUE"), QString::fromStdString(value));
    };
    parser.addOptions({
        {{"d", "data"}, "fashion-mnist (default), an image folder or tar shards (train-{000000..000127}.tar)", "DATA", "fashion-mnist"},
        {{"c", "config"}, "YAML config (default: the shipped Fashion-MNIST config)", "FILE"},
        {"runs", "folder for runs (one time-stamped folder per run)", "DIR", "runs/workbench"},
        {"limit", "use only the first N training images, 0..1e9 (0: all)", "N", "0"},
        setting("max-steps", "stop each run after N steps, 0..1e12 (0: the whole schedule)", std::to_string(defaults.trainer.maxSteps)),
        setting("threads", "torch threads for training, 0..256 (0: all cores)", std::to_string(defaults.trainer.threads)),
        setting("device", "cpu, cuda or cuda:N", defaults.trainer.device),
        setting("checkpoint-every", "steps between checkpoints, 0..1e12 (also at an epoch end when the last one is a minute old, and at the end)", std::to_string(defaults.checkpoints.every)),
        setting("diagnostics-every", "steps between the learning signals: probe, spectrum, loss map, 0..1e12 (0: none)",
                std::to_string(defaults.diagnostics.every)),
        {"set", "config override section.key=value (repeatable)", "KEY=VALUE"},
        {"start", "start training at once"},
        {"checkpoint", "continue from a checkpoint: its settings, and Start (or --start) continues its run", "FILE"},
        {"screenshots", "train, save screenshots of the window and each view to DIR, quit", "DIR"},
        {"screenshot-steps", "steps to train before the screenshots, 1..1e6", "N", "40"},
        {"bench-ui", "train for S seconds, print the largest UI event-loop delay, quit (1..86400)", "S"},
        {"bench-ui-restart", "with --bench-ui: every S seconds stop, open the run's checkpoint and train on (0: never)", "S", "0"},
        {"bench-plot", "time redraws of a loss curve with N points (NxS: S curves of N points, as the runs overlay draws them), quit",
         "N[xS]"},
    });
    if (!parser.parse(args)) {
        std::fprintf(stderr, "ijepa-workbench: %s (see --help)\n", qPrintable(parser.errorText()));
        return 1;
    }
    if (parser.isSet(help) || parser.isSet(QStringLiteral("help-all"))) { // no QApplication yet: our own name
        std::fputs(qPrintable(parser.helpText().replace(QStringLiteral("<executable_name>"), QStringLiteral("ijepa-workbench"))), stdout);
        return 0;
    }
    if (parser.isSet(version)) {
        std::printf("ijepa-workbench %s\n", IJEPA_VERSION);
        return 0;
    }
    QString error;
    const auto count = [&](const char* name, double hi) { return numberIn(parser, QLatin1String(name), 0, hi, error); };
    const auto limit = count("limit", 1e9), maxSteps = count("max-steps", 1e12), threads = count("threads", 256),
               checkpointEvery = count("checkpoint-every", 1e12), diagnosticsEvery = count("diagnostics-every", 1e12),
               shotSteps = numberIn(parser, QStringLiteral("screenshot-steps"), 1, 1e6, error),
               restart = count("bench-ui-restart", 86400);
    if (!limit || !maxSteps || !threads || !checkpointEvery || !diagnosticsEvery || !shotSteps || !restart) {
        std::fprintf(stderr, "ijepa-workbench: %s\n", qPrintable(error));
        return 1;
    }
    if (parser.isSet(QStringLiteral("bench-ui"))) {
        bool ok = false;
        cl.benchUiSeconds = parser.value(QStringLiteral("bench-ui")).toDouble(&ok);
        if (!ok || cl.benchUiSeconds < 1 || cl.benchUiSeconds > 86400) {
            std::fprintf(stderr, "ijepa-workbench: --bench-ui %s: expected seconds in [1, 86400]\n", qPrintable(parser.value(QStringLiteral("bench-ui"))));
            return 1;
        }
    }
    WorkbenchOptions& o = cl.options;
    o.data = parser.value(QStringLiteral("data"));
    o.config = parser.value(QStringLiteral("config"));
    o.runsDir = parser.value(QStringLiteral("runs"));
    o.limit = static_cast<std::int64_t>(*limit);
    o.run.trainer.maxSteps = static_cast<std::int64_t>(*maxSteps);
    o.run.trainer.threads = static_cast<int>(*threads);
    o.run.trainer.device = parser.value(QStringLiteral("device")).toStdString();
    o.run.checkpoints.every = static_cast<std::int64_t>(*checkpointEvery);
    o.run.diagnostics.every = static_cast<std::int64_t>(*diagnosticsEvery);
    o.overrides = parser.values(QStringLiteral("set"));
    cl.checkpoint = parser.value(QStringLiteral("checkpoint"));
    cl.screenshots = parser.value(QStringLiteral("screenshots"));
    cl.screenshotSteps = static_cast<std::int64_t>(*shotSteps);
    cl.benchPlot = parser.value(QStringLiteral("bench-plot"));
    cl.benchUiRestart = *restart;
    cl.start = parser.isSet(QStringLiteral("start"));
    o.askOnClose = cl.screenshots.isEmpty() && cl.benchUiSeconds == 0;
    return std::nullopt;
}

} // namespace

int main(int argc, char* argv[])
{
    ijepa::restartWithBetterBlasKernels(argv);
    std::signal(SIGXFSZ, SIG_IGN); // past a file-size limit a write fails (EFBIG: a message, a pause) instead of killing us
    QStringList args;
    for (int i = 0; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    CommandLine cl;
    if (const auto exit = parseCommandLine(args, cl))
        return *exit;
    if (std::getenv("IJEPA_PARSE_ONLY")) // the docs test: the command line parses; nothing opens
        return 0;

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
    QApplication::setOrganizationName(QStringLiteral("ijepa")); // QSettings: ~/.config/ijepa/ijepa-workbench.conf
    QApplication::setApplicationName(QStringLiteral("ijepa-workbench"));
    QApplication::setApplicationVersion(QStringLiteral(IJEPA_VERSION));
    QApplication::setWindowIcon(appIcon());
    if (!cl.benchPlot.isEmpty()) {
        const QStringList parts = cl.benchPlot.split(QLatin1Char('x'));
        return runPlotBench(parts.value(0).toInt(), std::max(1, parts.value(1, QStringLiteral("1")).toInt()));
    }

    const bool automated = !cl.screenshots.isEmpty() || cl.benchUiSeconds > 0;
    MainWindow window(cl.options);
    window.show();
    stopOnSignals(app, window);
    if (!cl.screenshots.isEmpty())
        runScreenshots(window, cl.screenshots, cl.screenshotSteps);
    if (cl.benchUiSeconds > 0)
        runUiBench(window, cl.benchUiSeconds, cl.benchUiRestart);
    const auto start = [&window, automated] {
        window.startTraining();
        if (automated && !window.worker()->isRunning()) {
            std::fprintf(stderr, "ijepa-workbench: could not start training: %s\n", qPrintable(window.lastError()));
            QApplication::exit(2);
        }
    };
    if (!cl.checkpoint.isEmpty()) // opened off the UI thread; a start continues from it
        window.openCheckpoint(cl.checkpoint, CheckpointUse::Continue, cl.start || automated ? std::function<void()>(start) : std::function<void()>());
    else if (cl.start || automated)
        start();
    return app.exec();
}
