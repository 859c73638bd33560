#include "commands.h"
#include "compat.h"
#include "errors.h"
#include "image_folder.h"
#include "mask_render.h"
#include "distributed.h"
#include "trainer.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace ijepa::cli {
namespace {

std::atomic_bool g_stop{false};

extern "C" void onSignal(int sig)
{
    g_stop.store(true);
    std::signal(sig, SIG_DFL); // a second Ctrl-C ends the process at once
}

struct TrainCliOptions {
    ConfigOptions config;
    std::string data;
    std::int64_t limit = 0;
    std::string out;
    std::string device = "cpu";
    int threads = 0;
    bool resume = false;
    std::string resumeFrom;
    std::int64_t maxSteps = 0;
    std::int64_t checkpointEvery = 200;
    int snapshotEvery = 0;
    std::int64_t imageEvery = 200;
    std::int64_t diagnosticsEvery = 100;
    bool quiet = false;
    int nproc = 0;
};

std::string formatClock(double seconds)
{
    const auto s = static_cast<long long>(std::max(0.0, seconds));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof(buf), "%02lld:%02lld", s / 60, s % 60);
    return buf;
}

// A progress bar on a terminal (redrawn at most 10 times a second), a line every 10 s otherwise,
// nothing but warnings in quiet mode.
class ProgressPrinter final : public TrainObserver {
public:
    ProgressPrinter(bool quiet) : m_quiet(quiet), m_tty(::isatty(STDERR_FILENO) == 1) {}

    void started(const TrainStart& s) override
    {
        m_epochs = s.epochs;
        if (!m_quiet)
            std::cerr << "train: iterations " << s.firstIteration << " -> " << s.totalIterations << " ("
                      << s.iterationsPerEpoch << " per epoch, " << s.epochs << " epochs); Ctrl-C stops with a checkpoint\n";
    }

    void stepDone(const StepReport& r) override
    {
        if (m_quiet)
            return;
        const auto now = std::chrono::steady_clock::now();
        const bool last = r.iteration == r.totalIterations || r.stepInEpoch == r.iterationsPerEpoch;
        const double since = std::chrono::duration<double>(now - m_lastDraw).count();
        if (!last && since < (m_tty ? 0.1 : 10.0))
            return;
        m_lastDraw = now;
        char line[256];
        std::snprintf(line, sizeof(line), "loss %.4f  lr %.2e  m %.4f  %.1f img/s  ETA %s", r.loss, r.lr, r.momentum,
                      r.imagesPerSecond, formatClock(r.etaSeconds).c_str());
        if (std::isfinite(r.gpuMemoryMb)) // CUDA: memory held by tensors, peak in brackets
            std::snprintf(line + std::strlen(line), sizeof(line) - std::strlen(line), "  GPU %.0f MiB (peak %.0f)",
                          r.gpuMemoryMb, r.gpuPeakMemoryMb);
        std::string epoch = "epoch " + std::to_string(r.epoch) + "/" + std::to_string(m_epochs);
        std::string steps = std::to_string(r.stepInEpoch) + "/" + std::to_string(r.iterationsPerEpoch);
        if (m_tty) {
            constexpr int width = 24;
            const int filled = static_cast<int>(width * r.stepInEpoch / std::max<std::int64_t>(1, r.iterationsPerEpoch));
            std::string bar(static_cast<size_t>(filled), '#');
            bar.append(static_cast<size_t>(width - filled), '.');
            std::cerr << "\r\033[K" << epoch << " [" << bar << "] " << steps << "  " << line << std::flush;
            m_barShown = true;
            if (r.stepInEpoch == r.iterationsPerEpoch) {
                std::cerr << "\n";
                m_barShown = false;
            }
        } else {
            std::cerr << epoch << " step " << steps << "  " << line << "\n";
        }
        if (g_stop.load() && !m_stopAnnounced) {
            clearBar();
            std::cerr << "train: stopping after this step and writing a checkpoint (Ctrl-C again to abort)\n";
            m_stopAnnounced = true;
        }
    }

    void message(const std::string& text) override
    {
        const bool routine = text.rfind("checkpoint ", 0) == 0;
        if (m_quiet && routine)
            return;
        if (routine && m_tty) // the bar already shows progress; keep the screen quiet
            return;
        clearBar();
        std::cerr << "train: " << text << "\n";
    }

    void clearBar()
    {
        if (m_barShown)
            std::cerr << "\r\033[K";
        m_barShown = false;
    }

private:
    bool m_quiet, m_tty;
    bool m_barShown = false, m_stopAnnounced = false;
    int m_epochs = 0;
    std::chrono::steady_clock::time_point m_lastDraw{};
};

std::shared_ptr<ImageSource> openData(const TrainCliOptions& o, const Config& config)
{
    std::string data = o.data;
    if (data.empty()) {
        if (config.data.image_folder.empty() && config.data.root_path.empty())
            throw ConfigError("no training data: pass --data DIR or --data fashion-mnist, or set data.root_path / "
                              "data.image_folder in the config");
        data = (std::filesystem::path(config.data.root_path) / config.data.image_folder).string();
    }
    auto source = data == "fashion-mnist" ? openFashionMnist("train") : openImageFolder(data);
    return limitSource(std::move(source), o.limit);
}

// The command line without --nproc N (what each rank runs).
std::vector<std::string> rankCommandLine()
{
    std::vector<std::string> args;
    for (std::size_t i = 0; i < programArgs.size(); ++i) {
        const std::string& a = programArgs[i];
        if (a == "--nproc") {
            ++i;
            continue;
        }
        if (a.rfind("--nproc=", 0) == 0)
            continue;
        args.push_back(a);
    }
    return args;
}

void runTrain(const TrainCliOptions& o)
{
    if (o.nproc > 1) {
        if (distributedEnvFromEnvironment())
            throw ConfigError("--nproc: already running under WORLD_SIZE (torchrun); drop --nproc");
        o.config.load(); // a bad config fails once here, not once per rank
        exitCode = launchLocalRanks(o.nproc, rankCommandLine());
        return;
    }
    TrainerOptions t;
    t.config = o.config.load();
    std::string device = o.device;
    const auto env = distributedEnvFromEnvironment();
    const bool quiet = o.quiet || (env && env->rank != 0); // rank 0 reports for all
    if (o.threads > 0)
        at::set_num_threads(o.threads);
    if (o.device.rfind("cuda", 0) == 0 && !torch::cuda::is_available())
        throw Error("--device " + o.device + ": no CUDA device is available to this LibTorch (" +
                    std::string(compat::torchVersion()) + "); use --device cpu");
    if (o.device != "cpu" && o.device.rfind("cuda", 0) != 0)
        throw Error("--device " + o.device + ": use cpu, cuda or cuda:N");
    const auto data = openData(o, t.config);
    t.data = data;
    if (env && env->worldSize > 1) {
        if (device == "cuda") // one GPU per rank
            device = "cuda:" + std::to_string(env->localRank);
        t.group = std::make_shared<ProcessGroup>(*env, torch::Device(device));
    }
    t.outDir = o.out;
    t.device = device;
    t.resume = o.resume;
    t.resumeFrom = o.resumeFrom;
    t.maxSteps = o.maxSteps;
    t.checkpointEvery = o.checkpointEvery;
    t.snapshotEvery = o.snapshotEvery;
    t.imageEvery = o.imageEvery;
    // Collapse diagnostics on 512 fixed images: Fashion-MNIST's test split (held out), or the
    // first images of the folder.
    t.diagnosticsEvery = o.diagnosticsEvery;
    t.diagnostics = limitSource(o.data == "fashion-mnist" ? openFashionMnist("test") : data, 512);
    t.renderMasks = batchMaskRenderer(t.config.gridSize());

    const auto size = t.config.encoderSize();
    if (!quiet)
        std::cerr << "train: " << t.data->description() << "\n"
                  << "train: " << t.config.meta.model_name << " (" << size.embed_dim << "/" << size.depth << "/"
                  << size.num_heads << "), crop " << t.config.data.crop_size << ", patch " << t.config.mask.patch_size
                  << ", batch " << t.config.data.batch_size << ", " << o.device << ", " << at::get_num_threads()
                  << " threads, output " << (o.out.empty() ? t.config.logging.folder : o.out) << "\n";

    g_stop.store(false);
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    ProgressPrinter printer(quiet);
    const TrainResult r = train(t, printer, g_stop);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    printer.clearBar();

    const char* how = r.status == TrainStatus::Finished   ? "finished"
                      : r.status == TrainStatus::MaxSteps ? "reached --max-steps"
                      : r.status == TrainStatus::Stopped  ? "stopped on request"
                                                          : "diverged (non-finite loss)";
    exitCode = r.status == TrainStatus::Stopped ? 130 : r.status == TrainStatus::Diverged ? 4 : 0;
    if (env && env->rank != 0)
        return;
    std::cerr << "train: " << how << " at iteration " << r.iteration << ", loss " << r.loss;
    if (r.imagesPerSecond > 0)
        std::cerr << ", " << r.imagesPerSecond << " img/s";
    if (r.skippedFiles > 0)
        std::cerr << ", " << r.skippedFiles << " unreadable files skipped";
    std::cerr << "\n";
    if (!r.checkpoint.empty())
        std::cerr << "train: checkpoint " << r.checkpoint << "\n";
    exitCode = r.status == TrainStatus::Stopped ? 130 : r.status == TrainStatus::Diverged ? 4 : 0;
}

} // namespace

void addTrainCommand(CLI::App& app)
{
    auto* cmd = app.add_subcommand("train", "Pretrain I-JEPA on an image folder or Fashion-MNIST");
    auto o = std::make_shared<TrainCliOptions>();
    addConfigOptions(*cmd, o->config, /*required=*/false);
    cmd->add_option("--data", o->data, "image folder, or 'fashion-mnist' (default: data.root_path/data.image_folder)");
    cmd->add_option("--limit", o->limit, "use only the first N images (0: all)")->capture_default_str();
    cmd->add_option("--out", o->out, "folder for logs and checkpoints (default: logging.folder)");
    cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--threads", o->threads, "CPU threads for LibTorch (0: its default)")->capture_default_str();
    cmd->add_flag("--resume", o->resume, "continue from <out>/<tag>-latest.pth.tar");
    cmd->add_option("--resume-from", o->resumeFrom, "continue from this checkpoint (the reference's too)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--max-steps", o->maxSteps, "stop after this global iteration, with a checkpoint (0: all epochs)")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--checkpoint-every", o->checkpointEvery, "steps between checkpoints (also at every epoch end)")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--snapshot-every", o->snapshotEvery, "epochs between numbered snapshots <tag>-epN (0: none)")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--image-every", o->imageEvery, "steps between mask images in TensorBoard (0: none)")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_option("--diagnostics-every", o->diagnosticsEvery,
                    "steps between RankMe / feature-std diagnostics on 512 fixed images (0: none)")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->add_flag("--quiet,-q", o->quiet, "no progress output (warnings and the summary only)");
    cmd->add_option("--nproc", o->nproc,
                    "data parallel on this machine: start N processes (c10d Gloo on CPU, NCCL on CUDA); also runs "
                    "under torchrun's RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT")
        ->capture_default_str()->check(CLI::NonNegativeNumber);
    cmd->callback([o] { runTrain(*o); });
}

} // namespace ijepa::cli
