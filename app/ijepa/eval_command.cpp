#include "app/ijepa/commands.h"
#include "core/eval/embeddings.h"
#include "core/imageio/projector.h"
#include "core/errors.h"
#include "core/model/memory_estimate.h"
#include "core/eval/evaluation.h"
#include "core/model/ijepa_model.h"
#include "core/imageio/data_spec.h"
#include "core/eval/nn_index.h"
#include "core/io/npy.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace ijepa::cli {
namespace {

EmbedProgress progressBar(const std::string& what, bool quiet)
{
    if (quiet)
        return {};
    return [what](std::int64_t done, std::int64_t total) {
        std::cerr << "\r" << what << ": " << done << "/" << total << " images" << (done == total ? "\n" : "") << std::flush;
    };
}

// Which features to evaluate: a checkpoint's encoder, a randomly initialised one, or raw pixels.
struct FeatureOptions {
    std::string checkpoint;
    ConfigOptions config;
    bool context = false;
    bool pixels = false;
    bool randomInit = false;
    int threads = 0;
    bool quiet = false;
    int crop = 0; // for --pixels without a config: 0 means data.crop_size of the config
    int layers = 1;
};

void addFeatureOptions(CLI::App& cmd, FeatureOptions& o)
{
    cmd.add_option("--checkpoint", o.checkpoint, "checkpoint (ours, the reference's with --config) or an export (.safetensors, Hugging Face folder)")->check(CLI::ExistingPath);
    cmd.add_option("--config,-c", o.config.path, "config of the checkpoint (default: the one it carries)")->check(CLI::ExistingFile);
    cmd.add_flag("--context", o.context, "the context encoder instead of the target encoder");
    cmd.add_flag("--pixels", o.pixels, "baseline: raw pixels of the evaluation view");
    cmd.add_flag("--random-init", o.randomInit, "baseline: a randomly initialised encoder of the config's size");
    cmd.add_option("--layers", o.layers, "features: the mean of the last N blocks' normed tokens (1: the output)")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    cmd.add_option("--threads", o.threads, "CPU threads for decoding and the encoder (0: every logical CPU)")
        ->capture_default_str()
        ->check(CLI::Range(0, kMaxThreads));
    cmd.add_flag("--quiet,-q", o.quiet, "no progress output");
}

struct Featurizer {
    std::function<Embeddings(const ImageSource&, const std::string&)> embed;
    std::string what;
};

// keepPatches: also the patch tokens (encoders only).
Featurizer makeFeaturizer(const FeatureOptions& o, bool keepPatches = false)
{
    // Every logical CPU by default, as ijepa train (LibTorch's own default can be 1 on a 2-core VM):
    // the images are decoded on these threads too.
    at::set_num_threads(threadsOrAll(o.threads));
    const int modes = !o.checkpoint.empty() + o.pixels + o.randomInit;
    if (modes != 1)
        throw ConfigError("choose exactly one of --checkpoint, --pixels, --random-init");
    Config config = o.config.path.empty() ? Config{} : o.config.load();
    if (o.pixels) {
        if (keepPatches || o.layers > 1)
            throw ConfigError(std::string(keepPatches ? "--patches" : "--layers") +
                              " needs an encoder: --checkpoint or --random-init");
        const int crop = o.config.path.empty() ? 32 : config.data.crop_size;
        return {[crop, q = o.quiet](const ImageSource& s, const std::string& name) {
                    return pixelEmbeddings(s, crop, progressBar("pixels " + name, q));
                },
                "raw pixels (" + std::to_string(crop) + "x" + std::to_string(crop) + " RGB)"};
    }
    VisionTransformer encoder{nullptr};
    std::string what;
    if (o.randomInit) {
        if (o.config.path.empty())
            throw ConfigError("--random-init needs --config for the encoder size");
        torch::manual_seed(static_cast<std::uint64_t>(config.meta.seed));
        encoder = IJepaModel(config, torch::kCPU).targetEncoder;
        what = "randomly initialised encoder";
    } else {
        auto loaded = loadEncoder(o.checkpoint, o.config.path.empty() ? nullptr : &config, o.context);
        encoder = loaded.encoder;
        config = loaded.config;
        what = std::string(o.context ? "context" : "target") + " encoder of " + o.checkpoint;
    }
    if (o.layers > static_cast<int>(encoder->blocks->size()))
        throw ConfigError("--layers " + std::to_string(o.layers) + ": the encoder has only " +
                          std::to_string(encoder->blocks->size()) + " blocks");
    if (o.layers > 1)
        what += ", mean of the last " + std::to_string(o.layers) + " layers";
    const int crop = config.data.crop_size;
    return {[encoder, crop, keepPatches, q = o.quiet, layers = o.layers](const ImageSource& s, const std::string& name) mutable {
                return embedImages(encoder, s, crop, keepPatches, 256, progressBar("embed " + name, q), layers);
            },
            what};
}

struct EvalOptions {
    FeatureOptions features;
    std::string train = "fashion-mnist";
    std::string test = "fashion-mnist:test";
    double split = 0.0;
    std::int64_t limitTrain = 0, limitTest = 0;
    KnnOptions knn;
    LinearProbeOptions linear;
};

void reportSkipped(const Embeddings& e)
{
    for (const auto& s : e.skipped)
        std::cerr << "eval: skipped unreadable image: " << s << "\n";
}

std::pair<Embeddings, Embeddings> evalEmbeddings(const EvalOptions& o, std::string& what)
{
    const auto f = makeFeaturizer(o.features);
    what = f.what;
    const OpenedData data = openDataSpec(o.train, o.split, o.limitTrain);
    const auto train = data.train;
    const auto test = limitSource(o.split > 0 ? data.heldOut : openDataSpec(o.test).train, o.limitTest);
    auto a = f.embed(*train, "train");
    auto b = f.embed(*test, "test");
    reportSkipped(a);
    reportSkipped(b);
    if (a.labels.min().item<int64_t>() < 0 || b.labels.min().item<int64_t>() < 0)
        throw DataError("evaluation needs labels: put the images in class sub-folders");
    std::cout << "features: " << what << ", " << a.features.size(1) << " dims; train " << a.features.size(0)
              << " images (" << train->description() << "), test " << b.features.size(0) << " images\n";
    return {std::move(a), std::move(b)};
}

void addEvalOptions(CLI::App& cmd, EvalOptions& o)
{
    addFeatureOptions(cmd, o.features);
    cmd.add_option("--train", o.train, "training split: fashion-mnist, fashion-mnist:test, a folder or tar shards")->capture_default_str();
    cmd.add_option("--test", o.test, "test split")->capture_default_str();
    cmd.add_option("--split", o.split, "split --train itself: this fraction trains, the rest tests (0: use --test)")->check(CLI::Range(0.0, 0.99));
    cmd.add_option("--limit-train", o.limitTrain, "first N training images only")->check(kCountRange);
    cmd.add_option("--limit-test", o.limitTest, "first N test images only")->check(kCountRange);
}

struct EmbedOptions {
    FeatureOptions features;
    std::string data = "fashion-mnist";
    std::string out;
    std::int64_t limit = 0;
    bool patches = false;
    std::string projector;
};

void runEmbed(const EmbedOptions& o)
{
    auto source = openDataSpec(o.data, 0.0, o.limit).train;
    const Embeddings e = makeFeaturizer(o.features, o.patches).embed(*source, "");
    if (o.patches)
        writeNpy(e.patches, o.out + ".patches.npy");
    reportSkipped(e);
    writeNpy(e.features, o.out + ".npy");
    writeNpy(e.labels, o.out + ".labels.npy");
    std::ofstream names(o.out + ".files.txt");
    for (const auto& n : e.names) // one per line; a newline, tab or backslash in a name escaped (oneLine)
        names << oneLine(n) << "\n";
    if (!names.flush())
        throw WriteError(o.out + ".files.txt: cannot write");
    std::cout << "embed: " << e.features.size(0) << " x " << e.features.size(1) << " -> " << o.out << ".npy, "
              << o.out << ".labels.npy, " << o.out << ".files.txt" << (o.patches ? ", " + o.out + ".patches.npy" : "")
              << "\n";
    if (!o.projector.empty()) {
        const int thumb = writeProjector(o.projector, e, *source);
        std::cout << "embed: Embedding Projector files in " << o.projector << " (sprite " << thumb << " px per image; "
                  << "tensorboard --logdir " << o.projector << ")\n";
    }
}

struct IndexBenchOptions {
    std::int64_t n = 60000;
    std::int64_t dim = 192;
    int queries = 200;
    int k = 20;
    int threads = 0;
};

void runIndexBench(const IndexBenchOptions& o)
{
    if (o.k > o.n)
        throw ConfigError("--k " + std::to_string(o.k) + ": more neighbours than --n " + std::to_string(o.n) + " embeddings");
    requireMemory(8.0 * static_cast<double>(o.n) * static_cast<double>(o.dim), "bench index: --n " + std::to_string(o.n) +
                  " x --dim " + std::to_string(o.dim), "lower --n or --dim");
    if (o.threads > 0)
        at::set_num_threads(o.threads);
    const auto gen = at::detail::createCPUGenerator(0);
    const CosineIndex index(torch::randn({o.n, o.dim}, gen));
    std::vector<double> ms;
    for (int q = 0; q < o.queries + 5; ++q) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto hits = index.queryItem(q % o.n, o.k);
        const double dt = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        if (q >= 5) // warm-up
            ms.push_back(dt);
    }
    std::sort(ms.begin(), ms.end());
    double mean = 0;
    for (double m : ms)
        mean += m / static_cast<double>(ms.size());
    std::cout << "index: " << o.n << " x " << o.dim << ", top-" << o.k << ", " << at::get_num_threads() << " threads, "
              << o.queries << " queries: mean " << mean << " ms, median " << ms[ms.size() / 2] << " ms, p99 "
              << ms[std::min(ms.size() - 1, ms.size() * 99 / 100)] << " ms, max " << ms.back() << " ms\n";
}

} // namespace

void addEvalCommands(CLI::App& app)
{
    auto* embed = app.add_subcommand("embed", "Write embeddings (.npy) of a data set: encoder features or pixels");
    auto eo = std::make_shared<EmbedOptions>();
    addFeatureOptions(*embed, eo->features);
    embed->add_option("--data", eo->data, "fashion-mnist, fashion-mnist:test, a folder or tar shards (train-{000000..000127}.tar)")->capture_default_str();
    embed->add_option("--out", eo->out, "output prefix: PREFIX.npy, PREFIX.labels.npy, PREFIX.files.txt")->required()->check(kOutputFile);
    embed->add_option("--limit", eo->limit, "first N images only")->check(kCountRange);
    embed->add_flag("--patches", eo->patches, "also PREFIX.patches.npy with every patch token [N, P, D]");
    embed->add_option("--projector", eo->projector,
                      "also write a TensorBoard Embedding Projector folder (tensors.tsv, metadata.tsv, sprite.png, "
                      "projector_config.pbtxt)");
    embed->callback([eo] { runEmbed(*eo); });

    auto* eval = app.add_subcommand("eval", "Evaluate frozen features: k-NN or a linear probe");
    eval->require_subcommand(1);
    auto* knn = eval->add_subcommand("knn", "cosine k-NN with temperature-weighted votes (DINO)");
    auto ko = std::make_shared<EvalOptions>();
    addEvalOptions(*knn, *ko);
    knn->add_option("--k", ko->knn.k, "neighbours")->capture_default_str()->check(CLI::Range(1, 10000));
    knn->add_option("--temperature", ko->knn.temperature, "vote temperature")->capture_default_str()->check(CLI::Range(1e-4, 1e4));
    knn->callback([ko] {
        std::string what;
        const auto [a, b] = evalEmbeddings(*ko, what);
        const double acc = knnAccuracy(a.features, a.labels, b.features, b.labels, ko->knn);
        std::cout << "knn: k=" << ko->knn.k << " T=" << ko->knn.temperature << " top-1 " << 100.0 * acc << "%\n";
        std::cout << "rankme (test): " << rankMe(b.features.slice(0, 0, 4096)) << ", feature std (normalised): "
                  << normalisedFeatureStd(b.features) << "\n";
    });
    auto* linear = eval->add_subcommand("linear", "linear probe on standardised features (L-BFGS, weight-decay sweep)");
    auto lo = std::make_shared<EvalOptions>();
    addEvalOptions(*linear, *lo);
    linear->add_option("--iterations", lo->linear.epochs, "L-BFGS iterations")->capture_default_str()->check(CLI::Range(1, 100000));
    linear->callback([lo] {
        std::string what;
        const auto [a, b] = evalEmbeddings(*lo, what);
        const auto r = linearProbe(a.features, a.labels, b.features, b.labels, lo->linear);
        std::cout << "linear: held-out accuracy per weight decay:";
        for (size_t i = 0; i < r.heldOutAccuracy.size(); ++i)
            std::cout << " " << lo->linear.weightDecays[i] << "=" << 100.0 * r.heldOutAccuracy[i] << "%";
        std::cout << "\nlinear: weight decay " << r.bestWeightDecay << ", top-1 " << 100.0 * r.accuracy << "%\n";
    });
}

void addIndexBench(CLI::App& bench)
{
    auto* cmd = bench.add_subcommand("index", "Query latency of the exact cosine index (random embeddings)");
    auto o = std::make_shared<IndexBenchOptions>();
    cmd->add_option("--n", o->n, "embeddings")->capture_default_str()->check(CLI::Range(std::int64_t{1}, std::int64_t{100000000}));
    cmd->add_option("--dim", o->dim, "width")->capture_default_str()->check(CLI::Range(std::int64_t{1}, std::int64_t{65536}));
    cmd->add_option("--queries", o->queries, "timed queries")->capture_default_str()->check(CLI::Range(1, 1000000));
    cmd->add_option("--k", o->k, "neighbours")->capture_default_str()->check(CLI::Range(1, 10000));
    cmd->add_option("--threads", o->threads, "CPU threads (0: LibTorch default)")->capture_default_str()->check(CLI::Range(0, kMaxThreads));
    cmd->callback([o] { runIndexBench(*o); });
}

} // namespace ijepa::cli
