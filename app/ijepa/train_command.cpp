#include "app/ijepa/commands.h"
#include "core/allocator.h"
#include "core/cpu_blas.h"
#include "core/compat.h"
#include "core/errors.h"
#include "core/imageio/heatmap_render.h"
#include "core/imageio/mask_render.h"
#include "core/dist/distributed.h"
#include "core/imageio/data_spec.h"
#include "core/io/checkpoint.h"
#include "core/masks/multiblock_masks.h"
#include "core/runs/run_folder.h"
#include "core/train/run.h"

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
#include <limits>

namespace ijepa::cli {
namespace {

std::atomic_bool g_stop{false};

extern "C" void onSignal(int sig)
{
    g_stop.store(true);
    std::signal(sig, SIG_DFL); // a second Ctrl-C ends the process at once
}

// The command's own options; every run setting binds into RunSettings (core/train/run.h), which
// holds its default.
struct TrainCliOptions {
    ConfigOptions config;
    RunSettings run;
    std::string data;
    std::int64_t limit = 0;
    bool quiet = false;
    bool finalKnn = true;
    int nproc = 0;
    std::string branchFrom; // a checkpoint: a new run in --out from its weights, with changed settings
    std::string replayHistory; // a config_history.jsonl whose changes this run applies at their steps
};

// --branch-from CKPT: the parent run's config (the checkpoint's, or its folder's params-ijepa.yaml;
// --config replaces it) with the overrides on top; weights, optimiser and step from the checkpoint.
Config branchConfig(const TrainCliOptions& o, std::string* name)
{
    const auto file = readTorchFile(o.branchFrom);
    Config config = o.config.path.empty() ? checkpointConfig(file, o.branchFrom) : loadConfig(o.config.path);
    // The parent's steering up to the checkpoint was in force there: the branch starts from it.
    const auto step = checkpointMeta(file, o.branchFrom).iteration;
    for (const auto& change : readConfigHistory(configHistoryPath(std::filesystem::path(o.branchFrom).parent_path().string())))
        if (change.step <= step)
            applyChange(config, change);
    const Config parent = config;
    for (const auto& assignment : o.config.overrides)
        applyOverride(config, assignment);
    validateConfig(config);
    if (name->empty())
        *name = branchName(runName(std::filesystem::path(o.branchFrom).parent_path().string()), step, parent, config);
    return config;
}

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
        const std::string blas = blasDescription();
        if (!m_quiet)
            std::cerr << "train: iterations " << s.firstIteration << " -> " << s.totalIterations << " ("
                      << s.iterationsPerEpoch << " per epoch, " << s.epochs << " epochs); Ctrl-C stops with a checkpoint\n"
                      << "train: " << s.precision << "; " << at::get_num_threads() << " CPU threads"
                      << (blas.empty() ? "" : "; " + blas) << "; " << allocatorName() << "\n"
                      << "train: mask blocks: " << blockSizeSummary(s.config.mask, s.config.gridSize()) << "\n";
        const LossConfig& loss = s.config.loss;
        if (!m_quiet && loss.sigreg_weight > 0)
            std::cerr << "train: loss = (1 - w) * JEPA + w * SIGReg, w = " << loss.sigreg_weight << " (SIGReg on "
                      << loss.sigreg_on << ", " << loss.sigreg_slices << " projections, " << loss.sigreg_knots
                      << " knots)\n";
    }

    void stepDone(const Step& step) override
    {
        const StepReport& r = step.report;
        if (m_quiet)
            return;
        if (r.signals && !r.signals->verdict.empty())
            printVerdict(r);
        const auto now = std::chrono::steady_clock::now();
        const bool last = r.iteration == r.totalIterations || r.stepInEpoch == r.iterationsPerEpoch;
        const double since = std::chrono::duration<double>(now - m_lastDraw).count();
        if (!last && since < (m_tty ? 0.1 : 10.0))
            return;
        m_lastDraw = now;
        char line[256];
        std::snprintf(line, sizeof(line), "loss %.4f  lr %.2e  m %.4f  %.1f img/s  ETA %s", r.loss, r.lr, r.momentum,
                      r.imagesPerSecond, formatClock(r.etaSeconds).c_str());
        if (std::isfinite(r.sigregLoss)) // the loss split: (1 - w) * JEPA + w * SIGReg
            std::snprintf(line + std::strlen(line), sizeof(line) - std::strlen(line), "  (JEPA %.4f, SIGReg %.3f)",
                          r.jepaLoss, r.sigregLoss);
        if (std::isfinite(m_probe))
            std::snprintf(line + std::strlen(line), sizeof(line) - std::strlen(line), "  k-NN %.1f%%", 100.0 * m_probe);
        if (std::isfinite(m_probe) && std::isfinite(m_contextProbe)) // the online encoder's, beside the EMA's
            std::snprintf(line + std::strlen(line), sizeof(line) - std::strlen(line), " (context %.1f%%)",
                          100.0 * m_contextProbe);
        if (std::isfinite(r.gpuMemoryMb)) // CUDA: memory held by tensors, peak in brackets
            std::snprintf(line + std::strlen(line), sizeof(line) - std::strlen(line), "  GPU %.0f MiB (peak %.0f)",
                          r.gpuMemoryMb, r.gpuPeakMemoryMb);
        std::string epoch = "epoch " + std::to_string(r.epoch) + "/" + std::to_string(m_epochs);
        std::string steps = std::to_string(r.stepInEpoch) + "/" + std::to_string(r.iterationsPerEpoch);
        if (m_tty) {
            drawBar(epoch, static_cast<double>(r.stepInEpoch) / static_cast<double>(std::max<std::int64_t>(1, r.iterationsPerEpoch)),
                    steps + "  " + line);
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

    // The health verdict of a diagnostic step: one line, then a hint for each warning.
    void printVerdict(const StepReport& r)
    {
        if (std::isfinite(r.probeAccuracy))
            m_probe = r.probeAccuracy;
        if (std::isfinite(r.contextProbeAccuracy))
            m_contextProbe = r.contextProbeAccuracy;
        clearBar();
        std::fprintf(stderr, "train: step %lld (diagnostics %.1f s): %s\n", static_cast<long long>(r.iteration),
                     r.signals->seconds, describeVerdict(r.signals->verdict).c_str());
        for (const auto& line : r.signals->verdict)
            if (line.warning && !line.hint.empty())
                std::cerr << "train:   " << line.state << ": " << line.hint << "\n";
    }

    // The end-of-run k-NN (minutes over a whole split): a bar with its own ETA, or a line every 10 s.
    void workProgress(const std::string& what, std::int64_t done, std::int64_t total) override
    {
        const auto now = std::chrono::steady_clock::now();
        if (what != m_work || done == 0) {
            m_work = what;
            m_workStart = now;
        }
        const bool last = done >= total;
        if (m_quiet || (!last && std::chrono::duration<double>(now - m_lastDraw).count() < (m_tty ? 0.1 : 10.0)))
            return;
        m_lastDraw = now;
        const double elapsed = std::chrono::duration<double>(now - m_workStart).count();
        const double fraction = static_cast<double>(done) / static_cast<double>(std::max<std::int64_t>(1, total));
        const std::string right = std::to_string(done) + "/" + std::to_string(total) + " images  ETA " +
                                  (done > 0 ? formatClock(elapsed * (1 - fraction) / fraction) : std::string("?"));
        if (!m_tty) {
            std::cerr << "train: " << what << " " << right << "\n";
            return;
        }
        drawBar(what, fraction, right);
        if (last)
            clearBar();
    }

    void drawBar(const std::string& label, double fraction, const std::string& right)
    {
        constexpr int width = 24;
        const int filled = std::clamp(static_cast<int>(width * fraction), 0, width);
        std::string bar(static_cast<size_t>(filled), '#');
        bar.append(static_cast<size_t>(width - filled), '.');
        std::cerr << "\r\033[K" << label << " [" << bar << "] " << right << std::flush;
        m_barShown = true;
    }

    void settingsChanged(const SettingsChange& change, const TrainStart& now, bool) override
    {
        m_epochs = now.epochs;
        if (m_quiet)
            return;
        clearBar();
        std::cerr << "train: from step " << change.step + 1 << ": " << describeChange(change) << " (now "
                  << now.totalIterations << " iterations)\n";
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
    double m_probe = std::numeric_limits<double>::quiet_NaN();
    double m_contextProbe = std::numeric_limits<double>::quiet_NaN();
    std::chrono::steady_clock::time_point m_lastDraw{}, m_workStart{};
    std::string m_work;
};

// --data, else data.root_path/data.image_folder of the config.
std::string dataSpec(const TrainCliOptions& o, const Config& config)
{
    if (!o.data.empty())
        return o.data;
    if (config.data.image_folder.empty() && config.data.root_path.empty())
        throw ConfigError("no training data: pass --data DIR or --data fashion-mnist, or set data.root_path / "
                          "data.image_folder in the config");
    return (std::filesystem::path(config.data.root_path) / config.data.image_folder).string();
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
    RunSettings s = o.run;
    TrainerOptions& t = s.trainer;
    t.config = o.branchFrom.empty() ? o.config.load() : branchConfig(o, &s.log.name);
    if (!o.branchFrom.empty()) {
        if (t.outDir.empty() || t.resume || !t.resumeFrom.empty())
            throw ConfigError("--branch-from: give the new run's folder with --out (and no --resume / --resume-from)");
        namespace fs = std::filesystem;
        if (fs::exists(fs::path(t.outDir)) && fs::exists(fs::path(o.branchFrom).parent_path()) &&
            fs::equivalent(fs::path(t.outDir), fs::path(o.branchFrom).parent_path()))
            throw ConfigError("--branch-from: --out " + t.outDir + " is the parent run's folder; a branch needs its own");
        t.resumeFrom = o.branchFrom;
        s.log.parent = o.branchFrom;
    }
    if (!o.replayHistory.empty())
        t.replay = readConfigHistory(o.replayHistory);
    const auto env = distributedEnvFromEnvironment();
    const bool quiet = o.quiet || (env && env->rank != 0); // rank 0 reports for all
    if (t.device.rfind("cuda", 0) == 0 && !torch::cuda::is_available())
        throw Error("--device " + t.device + ": no CUDA device is available to this LibTorch (" +
                    std::string(compat::torchVersion()) + "); use --device cpu");
    if (t.device != "cpu" && t.device.rfind("cuda", 0) != 0)
        throw Error("--device " + t.device + ": use cpu, cuda or cuda:N");
    const std::string spec = dataSpec(o, t.config);
    const OpenedData data = openDataSpec(spec, 0.0, o.limit);
    t.data = data.train;
    const std::string device = t.device;
    if (env && env->worldSize > 1) {
        if (t.device == "cuda") // one GPU per rank
            t.device = "cuda:" + std::to_string(env->localRank);
        t.group = std::make_shared<ProcessGroup>(*env, torch::Device(t.device));
    }
    useProbeSet(s.diagnostics, spec, data, o.finalKnn);
    s.log.renderHeatmap = heatmapRenderer();
    s.log.renderMasks = batchMaskRenderer(t.config.gridSize());
    if (t.threads > 0)
        at::set_num_threads(t.threads);

    const auto size = t.config.encoderSize();
    if (!quiet)
        std::cerr << "train: " << t.data->description() << "\n"
                  << "train: " << t.config.meta.model_name << " (" << size.embed_dim << "/" << size.depth << "/"
                  << size.num_heads << "), crop " << t.config.data.crop_size << ", patch " << t.config.mask.patch_size
                  << ", batch " << t.config.data.batch_size << ", " << device << ", output " << (t.outDir.empty() ? t.config.logging.folder : t.outDir) << "\n";

    g_stop.store(false);
    for (const int sig : kStopSignals)
        std::signal(sig, onSignal);
    ProgressPrinter printer(quiet);
    const TrainResult r = [&] {
        try {
            return runTraining(s, printer, g_stop);
        } catch (const WriteError& e) {
            throw WriteError(std::string(e.what()) + " (free some space, then train --resume continues from the last checkpoint)");
        }
    }();
    for (const int sig : kStopSignals)
        std::signal(sig, SIG_DFL);
    printer.clearBar();

    exitCode = r.status == TrainStatus::Stopped ? 130 : r.status == TrainStatus::Diverged ? 4 : 0;
    if (env && env->rank != 0)
        return;
    std::cerr << "train: " << describeResult(r) << "\n";
    if (!r.checkpoint.empty())
        std::cerr << "train: checkpoint " << r.checkpoint << "\n";
}

} // namespace

void addTrainCommand(CLI::App& app)
{
    auto* cmd = app.add_subcommand("train", "Pretrain I-JEPA on an image folder or Fashion-MNIST");
    auto o = std::make_shared<TrainCliOptions>();
    TrainerOptions& t = o->run.trainer;
    addConfigOptions(*cmd, o->config, /*required=*/false);
    cmd->add_option("--data", o->data, "image folder, tar shards (train-{000000..000127}.tar), fashion-mnist or fashion-mnist:test (default: data.root_path/data.image_folder)");
    cmd->add_option("--limit", o->limit, "use only the first N images (0: all)")->capture_default_str()->check(kCountRange);
    cmd->add_option("--out", t.outDir, "folder for logs and checkpoints (default: logging.folder)")->check(kOutputFolder);
    cmd->add_option("--device", t.device, "cpu, cuda or cuda:N")->capture_default_str();
    cmd->add_option("--threads", t.threads, "CPU threads for LibTorch (0: every logical CPU)")->capture_default_str()->check(CLI::Range(0, kMaxThreads));
    cmd->add_flag("--resume", t.resume, "continue from <out>/<tag>-latest.pth.tar");
    cmd->add_flag("--resume-if-any", t.resumeIfAny,
                  "continue from <out>/<tag>-latest.pth.tar when it exists, else start fresh: the same line runs again after "
                  "a kill or a scheduler's retry (ijepa sweep --print-commands)");
    cmd->add_option("--resume-from", t.resumeFrom, "continue from this checkpoint (the reference's too)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--init-from", t.initFrom,
                    "start from exported weights (ijepa export: .safetensors, timm's or a Hugging Face folder): "
                    "encoder and target encoder, the predictor too when the file holds one")
        ->check(CLI::ExistingPath);
    cmd->add_option("--name", o->run.log.name,
                    "the run's name for people (run.json; the workbench's Runs tab shows it instead of the folder's; "
                    "a branch is named after its parent and what it changes)");
    cmd->add_option("--branch-from", o->branchFrom,
                    "start a new run in --out from this checkpoint's weights, optimiser and step, with its run's "
                    "config and the key=value changes given (recorded as the branch's parent)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--replay-history", o->replayHistory,
                    "apply a run's settings changes (its config_history.jsonl) at their steps: re-runs a steered run")
        ->check(CLI::ExistingFile);
    cmd->add_option("--max-steps", t.maxSteps, "stop after this global iteration, with a checkpoint (0: all epochs)")
        ->capture_default_str()->check(kStepRange);
    cmd->add_option("--checkpoint-every", o->run.checkpoints.every, "steps between checkpoints (also at an epoch end when the last one is a minute old, at the last step and on stop)")
        ->capture_default_str()->check(kStepRange);
    cmd->add_option("--snapshot-every", o->run.checkpoints.snapshotEvery, "epochs between numbered snapshots <tag>-epN (0: none)")
        ->capture_default_str()->check(CLI::Range(0, 1000000));
    cmd->add_option("--log-every", o->run.log.logEvery, "steps between TensorBoard scalars")
        ->capture_default_str()->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000000000}));
    cmd->add_option("--image-every", o->run.log.imageEvery, "steps between mask images in TensorBoard (0: none)")
        ->capture_default_str()->check(kStepRange);
    cmd->add_option("--diagnostics-every", o->run.diagnostics.every,
                    "steps between RankMe / feature-std diagnostics on fixed held-out images (0: none)")
        ->capture_default_str()->check(kStepRange);
    cmd->add_option("--diagnostics-images", o->run.diagnostics.images,
                    "held-out probe queries: their spectrum, RankMe, feature std and k-NN")
        ->capture_default_str()->check(CLI::Range(1, 100000));
    cmd->add_option("--probe-database", o->run.diagnostics.databaseImages, "labelled images the online k-NN probe votes with")
        ->capture_default_str()->check(CLI::Range(1, 1000000));
    cmd->add_option("--context-probe", o->run.diagnostics.contextProbe,
                    "the online k-NN probe of the context encoder too (its lead shows the EMA's lag; doubles the probe's cost)")
        ->capture_default_str();
    cmd->add_option("--final-knn", o->finalKnn,
                    "after a run that finished: the full k-NN evaluation of ijepa eval knn (all of the split)")
        ->capture_default_str();
    cmd->add_flag("--quiet,-q", o->quiet, "no progress output (warnings and the summary only)");
    cmd->add_option("--nproc", o->nproc,
                    "data parallel on this machine: start N processes (c10d Gloo on CPU, NCCL on CUDA); also runs "
                    "under torchrun's RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT")
        ->capture_default_str()->check(CLI::Range(0, 256));
    cmd->callback([o] { runTrain(*o); });
}

} // namespace ijepa::cli
