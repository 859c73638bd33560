// ijepa bench data: the training data path's throughput (listing, decode, RandomResizedCrop,
// normalisation, masks, batching) without a model, on the loader the trainer uses.
#include "app/ijepa/commands.h"
#include "core/data/data_loader.h"
#include "core/errors.h"
#include "core/eval/embeddings.h"
#include "core/imageio/data_spec.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

namespace ijepa::cli {
namespace {

struct DataBenchOptions {
    ConfigOptions config;
    std::string data;
    int threads = 0;
    int batches = 20;
    int warmup = 2;
    bool eval = false;
};

// Resident memory of this process in MB (/proc/self/status), 0 where it cannot be read.
double residentMb()
{
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stod(line.substr(6)) / 1024.0;
    return 0.0;
}

// The evaluation decode (ijepa eval and embed, the online probe): centre views of the first
// batches x batch images, decoded on every thread in batches into one buffer, as embedImages runs it.
void runEvalDecodeBench(const DataBenchOptions& o, const Config& config, std::shared_ptr<ImageSource> source, int threads)
{
    const auto count = std::min<std::int64_t>(source->size(), static_cast<std::int64_t>(o.batches) * config.data.batch_size);
    const auto subset = limitSource(std::move(source), count);
    std::cout << "bench data --eval: centre views at crop " << config.data.crop_size << " of " << count << " images, "
              << threads << " threads\n";
    const auto start = std::chrono::steady_clock::now();
    const auto views = evalViewsStreamed(*subset, config.data.crop_size);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto decoded = static_cast<double>(views.indices.size());
    std::cout << "eval views " << decoded << " in " << seconds << " s: " << decoded / seconds << " img/s\n";
}

void runDataBench(const DataBenchOptions& o)
{
    using Clock = std::chrono::steady_clock;
    const Config config = o.config.load();
    const int threads = threadsOrAll(o.threads);
    at::set_num_threads(threads);
    const double before = residentMb();
    const auto listStart = Clock::now();
    const auto data = openDataSpec(o.data);
    const double listSeconds = std::chrono::duration<double>(Clock::now() - listStart).count();
    std::cout << "data: " << data.train->description() << ": listed in " << listSeconds << " s, +"
              << residentMb() - before << " MB resident\n";
    if (o.eval) {
        runEvalDecodeBench(o, config, data.named, threads);
        return;
    }
    LoaderOptions lo = loaderOptions(config);
    lo.workers = threads;
    DataLoader loader(data.train, lo, config.mask);
    std::cout << "bench data: crop " << lo.cropSize << ", scale " << lo.cropScale[0] << "-" << lo.cropScale[1] << ", batch "
              << lo.batchSize << ", patch " << config.mask.patch_size << ", " << threads << " loader threads\n";
    loader.start(0);
    Clock::time_point start;
    const int total = o.warmup + o.batches;
    for (int i = 0; i < total; ++i) {
        if (i == o.warmup)
            start = Clock::now();
        loader.next();
        std::cerr << "\r  batch " << i + 1 << "/" << total << (i < o.warmup ? " (warm-up)" : "          ") << std::flush;
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::cerr << "\n";
    loader.stop();
    for (const auto& skipped : loader.takeSkipped())
        std::cerr << "skipped: " << skipped << "\n";
    std::cout << "batches " << o.batches << " in " << seconds << " s: " << o.batches * lo.batchSize / seconds << " img/s\n";
}

} // namespace

void addDataBench(CLI::App& bench)
{
    auto* cmd = bench.add_subcommand("data", "Training data-path throughput: decode, crop, normalise, masks, batching");
    auto o = std::make_shared<DataBenchOptions>();
    addConfigOptions(*cmd, o->config, /*required=*/false);
    cmd->add_option("--data", o->data, "image folder, shards or fashion-mnist")->required();
    cmd->add_option("--threads", o->threads, "loader threads (0: every logical CPU)")
        ->capture_default_str()
        ->check(CLI::Range(0, kMaxThreads));
    cmd->add_option("--batches", o->batches, "timed batches")->capture_default_str()->check(CLI::Range(1, 1000000));
    cmd->add_flag("--eval", o->eval, "time the evaluation decode instead (centre views, as eval/embed/the probe)");
    cmd->add_option("--warmup", o->warmup, "untimed batches first")->capture_default_str()->check(CLI::Range(0, 1000));
    cmd->callback([o] { runDataBench(*o); });
}

} // namespace ijepa::cli
