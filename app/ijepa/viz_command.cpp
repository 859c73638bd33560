// ijepa viz attention|predictor: what the encoder attends to and what the predictor predicts, as
// PNG figures for papers and reports (the workbench's Inspect views, headless).
#include "app/ijepa/commands.h"
#include "core/data/augment.h"
#include "core/errors.h"
#include "core/eval/attention_maps.h"
#include "core/eval/embeddings.h"
#include "core/eval/predictor_probe.h"
#include "core/imageio/data_spec.h"
#include "core/imageio/image_folder.h"
#include "core/imageio/viz_render.h"
#include "core/masks/multiblock_masks.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace ijepa::cli {
namespace {

namespace fs = std::filesystem;

struct VizOptions {
    std::string checkpoint;
    ConfigOptions config;
    std::string image; // a file, or DATA#N (image N of a data spec)
    std::string out;
    // attention
    int layer = -1;    // -1: the last block
    int head = -1;     // -1: mean over heads
    int query = -1;    // -1: the centre patch
    std::string encoder = "target";
    // predictor
    std::string bank;  // data spec; default: the image's data (its folder for a file)
    int bankImages = 500;
    std::int64_t maskIteration = 0;
    std::vector<int> contextBlock; // top,left,height,width in patches (replaces the sampled context)
    std::vector<int> targetBlock;  // top,left,height,width, repeatable (replaces the sampled targets)
};

// The image a --image names and where it came from: the data spec (or folder) and its index there.
struct NamedImage {
    torch::Tensor hwc;
    std::string spec;       // the data it belongs to
    std::int64_t index = -1; // its index in that data's named images; -1 for a file
    std::string file;
};

NamedImage openNamedImage(const std::string& name)
{
    NamedImage img;
    const auto hash = name.rfind('#');
    if (hash != std::string::npos && !fs::exists(name)) {
        img.spec = name.substr(0, hash);
        try {
            img.index = std::stoll(name.substr(hash + 1));
        } catch (const std::exception&) {
            throw DataError("--image " + name + ": expected DATA#N with N an image index");
        }
        const auto data = openDataSpec(img.spec).named;
        if (img.index < 0 || img.index >= data->size())
            throw DataError("--image " + name + ": " + data->description() + " has no image " + std::to_string(img.index));
        img.hwc = data->image(img.index);
        return img;
    }
    img.file = name;
    img.hwc = readImageFile(name);
    img.spec = fs::path(name).parent_path().string();
    if (img.spec.empty())
        img.spec = ".";
    return img;
}

struct Prepared {
    std::shared_ptr<IJepaModel> model;
    Config config;
    NamedImage image;
    torch::Tensor view; // [3, crop, crop] normalised
    torch::Tensor viewHwc; // [crop, crop, 3] uint8
};

Prepared prepare(const VizOptions& o)
{
    Prepared p;
    const Config cfg = o.config.path.empty() && o.config.overrides.empty() ? Config{} : o.config.load();
    auto loaded = loadModel(o.checkpoint, o.config.path.empty() && o.config.overrides.empty() ? nullptr : &cfg);
    p.model = loaded.model;
    p.config = loaded.config;
    p.image = openNamedImage(o.image);
    p.view = evalTransform(p.image.hwc, p.config.data.crop_size);
    p.viewHwc = denormalizeToUint8(p.view.unsqueeze(0))[0].permute({1, 2, 0}).contiguous();
    return p;
}

std::string describe(const VizOptions& o, const Prepared& p)
{
    return fs::path(o.checkpoint).filename().string() + " on " + (p.image.file.empty() ? o.image : fs::path(o.image).filename().string());
}

void runAttention(const VizOptions& o)
{
    const Prepared p = prepare(o);
    auto encoder = o.encoder == "context" ? p.model->encoder : p.model->targetEncoder;
    const int depth = static_cast<int>(encoder->blocks->size());
    const int layer = o.layer < 0 ? depth + o.layer : o.layer;
    const auto maps = attentionMaps(encoder, p.view.unsqueeze(0), layer)[0];
    const int heads = static_cast<int>(maps.size(0));
    if (o.head >= heads)
        throw ConfigError("--head " + std::to_string(o.head) + ": the encoder has " + std::to_string(heads) + " heads (0.." +
                          std::to_string(heads - 1) + ", or -1 for their mean)");
    const int grid = p.config.gridSize();
    const int query = o.query < 0 ? (grid / 2) * grid + grid / 2 : o.query;
    if (query >= grid * grid)
        throw ConfigError("--query " + std::to_string(query) + ": the patch grid has " + std::to_string(grid * grid) + " patches");
    const std::string title = "attention, " + o.encoder + " encoder, block " + std::to_string(layer) + " of " +
                              std::to_string(depth) + ": " + describe(o, p);
    writeAttentionPng(p.viewHwc, maps, grid, query, o.head, title, o.out);
    const auto row = attentionRow(maps, o.head, query);
    std::cout << "attention of patch " << query << " (block " << layer << ", " << (o.head < 0 ? "mean of heads" : "head " + std::to_string(o.head))
              << "): strongest at patch " << row.argmax().item<int64_t>() << " (" << row.max().item<float>() << ")\n"
              << "wrote " << o.out << "\n";
}

std::vector<std::int64_t> blockPatches(const std::vector<int>& b, int grid, const char* option)
{
    if (b.size() != 4 || b[0] < 0 || b[1] < 0 || b[2] < 1 || b[3] < 1 || b[0] + b[2] > grid || b[1] + b[3] > grid)
        throw ConfigError(std::string(option) + ": expected top,left,height,width inside the " + std::to_string(grid) + "x" +
                          std::to_string(grid) + " patch grid");
    std::vector<std::int64_t> out;
    for (int r = b[0]; r < b[0] + b[2]; ++r)
        for (int c = b[1]; c < b[1] + b[3]; ++c)
            out.push_back(r * grid + c);
    return out;
}

// The context and target blocks: drawn by hand with --context/--target, else the first image of the
// config's mask sample at --mask-iteration (targets removed from a hand-drawn context).
void chooseMasks(const VizOptions& o, const Config& config, std::vector<std::int64_t>& context,
                 std::vector<std::vector<std::int64_t>>& targets)
{
    const int grid = config.gridSize();
    const MaskDraw draw = MaskSampler(config.mask, grid, grid, static_cast<std::uint64_t>(config.meta.seed)).drawAt(o.maskIteration, 1);
    targets = draw.pred.front();
    context = draw.enc.front().front();
    if (!o.targetBlock.empty()) {
        if (o.targetBlock.size() % 4 != 0)
            throw ConfigError("--target: expected top,left,height,width (four numbers a block)");
        targets.clear();
        for (size_t i = 0; i < o.targetBlock.size(); i += 4)
            targets.push_back(blockPatches({o.targetBlock.begin() + static_cast<long>(i), o.targetBlock.begin() + static_cast<long>(i) + 4}, grid, "--target"));
    }
    if (!o.contextBlock.empty())
        context = blockPatches(o.contextBlock, grid, "--context");
    removeTargetPatches(context, targets);
    if (context.empty())
        throw ConfigError("--context: every context patch lies in a target block");
}

void runPredictor(const VizOptions& o)
{
    const Prepared p = prepare(o);
    const std::string bankSpec = o.bank.empty() ? p.image.spec : o.bank;
    auto bankSource = openDataSpec(bankSpec).heldOut;
    std::vector<std::int64_t> keep;
    for (std::int64_t i = 0; i < bankSource->size() && static_cast<int>(keep.size()) < o.bankImages; ++i)
        if (!(bankSource->name(i) == p.image.file || (bankSpec == p.image.spec && i == p.image.index && o.bank.empty())))
            keep.push_back(i);
    const auto views = evalViews(*subsetSource(bankSource, keep, "patch bank"), p.config.data.crop_size);
    auto target = p.model->targetEncoder;
    const PatchBank bank = buildPatchBank(target, views.images);
    std::vector<std::int64_t> context;
    std::vector<std::vector<std::int64_t>> targets;
    chooseMasks(o, p.config, context, targets);
    const auto probe = probePredictor(*p.model, p.view, context, targets, bank);
    const auto bankHwc = denormalizeToUint8(views.images).permute({0, 2, 3, 1}).contiguous();
    const std::string title = "predictor: " + describe(o, p) + ", bank of " + std::to_string(bank.images) + " images (" + bankSpec + ")";
    writePredictorPng(p.viewHwc, p.config.gridSize(), context, probe, bankHwc, title, o.out);
    std::cout << "context " << context.size() << " patches, " << targets.size() << " target blocks; mean cos(prediction, target) "
              << probe.meanCosine << "\nwrote " << o.out << "\n";
}

void addShared(CLI::App& cmd, VizOptions& o)
{
    cmd.add_option("--checkpoint", o.checkpoint, "checkpoint (.pth.tar, ours or the reference's) or an export (.safetensors, Hugging Face folder)")->required()->check(CLI::ExistingPath);
    addConfigOptions(cmd, o.config, /*required=*/false);
    cmd.add_option("--image", o.image, "an image file, or DATA#N: image N of a data spec (e.g. fashion-mnist:test#0)")->required();
    cmd.add_option("--out", o.out, "the PNG to write")->required()->check(kOutputFile);
}

} // namespace

void addVizCommand(CLI::App& app)
{
    auto* viz = app.add_subcommand("viz", "Figures of what a checkpoint learned: attention maps, predictor retrievals");
    viz->require_subcommand(1);
    auto o = std::make_shared<VizOptions>();
    auto* attn = viz->add_subcommand("attention", "Attention of one query patch, of all queries, and per head, over an image");
    addShared(*attn, *o);
    attn->add_option("--layer", o->layer, "encoder block, 0-based (negative: from the end; default the last)")->capture_default_str()->check(CLI::Range(-64, 63));
    attn->add_option("--head", o->head, "attention head (-1: the mean over heads)")->capture_default_str()->check(CLI::Range(-1, 255));
    attn->add_option("--query", o->query, "query patch index, raster order (default: the centre patch)")->check(CLI::Range(-1, 100000000));
    attn->add_option("--encoder", o->encoder, "target or context")->check(CLI::IsMember({"target", "context"}))->capture_default_str();
    attn->callback([o] { runAttention(*o); });

    auto* pred = viz->add_subcommand("predictor", "What the predictor predicts behind the mask, by retrieval from a patch bank");
    addShared(*pred, *o);
    pred->add_option("--bank", o->bank, "data spec of the bank images (default: the image's data or folder, the image left out)");
    pred->add_option("--bank-images", o->bankImages, "images in the bank")->capture_default_str()->check(CLI::Range(1, 100000));
    pred->add_option("--mask-iteration", o->maskIteration, "iteration of the mask sample to use")->capture_default_str()->check(kStepRange);
    pred->add_option("--context", o->contextBlock, "context block top,left,height,width in patches (default: sampled)")
        ->delimiter(',')->expected(4);
    pred->add_option("--target", o->targetBlock, "a target block top,left,height,width (repeatable; default: sampled)")
        ->delimiter(',')->allow_extra_args(false);
    pred->callback([o] { runPredictor(*o); });
}

} // namespace ijepa::cli
