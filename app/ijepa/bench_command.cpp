#include "app/ijepa/commands.h"
#include "core/compat_profiler.h"
#include "core/allocator.h"
#include "core/cpu_blas.h"
#include "core/errors.h"
#include "core/model/ijepa_model.h"
#include "core/train/precision.h"
#include "core/train/schedules.h"
#include "core/train/train_step.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

namespace ijepa::cli {
namespace {

struct BenchOptions {
    ConfigOptions config;
    int steps = 10;
    int warmup = 2;
    int threads = 0;
    std::string device = "cpu";
    std::string trace; // a profiler trace (Chrome trace JSON) of the timed steps
};

void runBench(const BenchOptions& o)
{
    const Config config = o.config.load();
    if (!o.trace.empty() && !std::ofstream(o.trace)) // before the steps, not after them
        throw Error("cannot write the --trace file " + o.trace);
    // As ijepa train: 0 is every logical CPU (LibTorch's own default can be 1 on a 2-core VM).
    at::set_num_threads(o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    const torch::Device device(o.device);
    torch::manual_seed(config.meta.seed);
    IJepaModel model(config, device);
    AdamW optimizer(model.paramGroups());
    const int grid = config.gridSize();
    MaskSampler sampler(config.mask, grid, grid, static_cast<uint64_t>(config.meta.seed));
    const int total = o.warmup + o.steps;
    std::vector<MaskBatch> masks;
    for (int i = 0; i < total; ++i) {
        auto b = sampler.sample(config.data.batch_size);
        masks.push_back({b.enc.to(device), b.pred.to(device)});
    }
    auto images = torch::randn({config.data.batch_size, 3, config.data.crop_size, config.data.crop_size},
                               torch::TensorOptions().device(device));
    const Precision precision = choosePrecision(device, config.meta); // as the trainer
    StepSettings settings;
    settings.lr = 1e-4;
    settings.weightDecay = 0.04;
    settings.momentum = 0.996;
    settings.bf16 = precision.bf16;
    const auto size = config.encoderSize();
    const std::string blas = blasDescription();
    std::cout << "bench: " << config.meta.model_name << " (" << size.embed_dim << "/" << size.depth << "/" << size.num_heads
              << "), crop " << config.data.crop_size << ", patch " << config.mask.patch_size << ", predictor "
              << config.meta.pred_emb_dim << "/" << config.meta.pred_depth << ", batch " << config.data.batch_size
              << ", " << at::get_num_threads() << " threads (batch in " << trainStepSlices(images) << " slices), " << device
              << ", " << precision.description << (blas.empty() ? "" : ", " + blas) << ", " << allocatorName() << "\n";
    using Clock = std::chrono::steady_clock;
    Clock::time_point start;
    std::optional<compat::ProfilerTrace> trace;
    double loss = 0;
    for (int i = 0; i < total; ++i) {
        if (i == o.warmup) {
            if (!o.trace.empty())
                trace.emplace(o.trace, device);
            start = Clock::now();
        }
        loss = trainStep(model, optimizer, images, masks[i], settings).loss;
        if (device.is_cuda())
            torch::cuda::synchronize();
        std::cerr << "\r  step " << i + 1 << "/" << total << (i < o.warmup ? " (warm-up)" : "          ") << std::flush;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::cerr << "\n";
    if (trace) {
        trace->save();
        std::cout << "trace of the timed steps (with the profiler's own overhead): " << o.trace << "\n";
    }
    const double ips = o.steps * config.data.batch_size / seconds;
    std::cout << "steps " << o.steps << " in " << seconds << " s: " << seconds / o.steps * 1000 << " ms/step, " << ips
              << " img/s (final loss " << loss << ")\n";
}

} // namespace

void addBenchCommand(CLI::App& app)
{
    auto* cmd = app.add_subcommand("bench", "Training-step throughput on synthetic images (warm-up excluded)");
    auto o = std::make_shared<BenchOptions>();
    addConfigOptions(*cmd, o->config, /*required=*/false);
    cmd->add_option("--steps", o->steps, "timed steps")->capture_default_str()->check(CLI::Range(1, 1000000));
    cmd->add_option("--warmup", o->warmup, "untimed warm-up steps")->capture_default_str()->check(CLI::Range(0, 100000));
    cmd->add_option("--threads", o->threads, "CPU threads (0: every logical CPU)")->capture_default_str()->check(CLI::Range(0, kMaxThreads));
    cmd->add_option("--device", o->device, "cpu or cuda")->capture_default_str();
    cmd->add_option("--trace", o->trace, "write a profiler trace of the timed steps (Chrome trace JSON)")->check(kOutputFile);
    addIndexBench(*cmd);
    addDataBench(*cmd);
    cmd->callback([o, cmd] {
        if (cmd->get_subcommands().empty())
            runBench(*o);
    });
}

} // namespace ijepa::cli
