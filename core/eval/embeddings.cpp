#include "core/eval/embeddings.h"

#include "core/model/memory_estimate.h"

#include "core/compat.h"
#include "core/data/augment.h"
#include "core/io/checkpoint.h"
#include "core/io/encoder_export.h"
#include "core/errors.h"
#include "core/model/ijepa_model.h"
#include "core/parallel.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>

namespace ijepa {
namespace {

// Decodes images [first, first + views.size(0)) of a source as eval views into `views`, on every
// intra-op thread (each image on its own thread); `ok` says which decoded, `errors` why the others
// did not.
void decodeViews(const ImageSource& source, int64_t first, torch::Tensor& views, std::vector<char>& ok,
                 std::vector<std::string>& errors)
{
    const int64_t n = views.size(0);
    ok.assign(static_cast<size_t>(n), 0);
    errors.assign(static_cast<size_t>(n), "");
    parallelForOnOwnThreads(0, n, 1, [&](int64_t begin, int64_t end) {
        torch::NoGradGuard noGrad; // grad mode is per thread
        for (int64_t j = begin; j < end; ++j) {
            auto out = views[j];
            try {
                source.view(first + j, evalBox, out);
                ok[static_cast<size_t>(j)] = 1;
            } catch (const DataError& e) {
                errors[static_cast<size_t>(j)] = e.what();
            }
        }
    });
}

// Where a batch of views is decoded to: `slot(start, count)` gives a [count, 3, crop, crop] tensor.
using ViewSlot = std::function<torch::Tensor(int64_t start, int64_t count)>;

// Decodes the source in batches of eval views (each into its slot) and hands the readable views of
// each batch to `run` (when set).
Embeddings embedBatches(const ImageSource& source, int batchSize, const EmbedProgress& progress, const ViewSlot& slot,
                        const std::function<void(const torch::Tensor&)>& run)
{
    Embeddings out;
    std::vector<int64_t> labels;
    const int64_t n = source.size();
    std::vector<char> ok;
    std::vector<std::string> errors;
    for (int64_t start = 0; start < n; start += batchSize) {
        const int64_t stop = std::min(n, start + batchSize);
        auto views = slot(start, stop - start);
        decodeViews(source, start, views, ok, errors);
        std::vector<int64_t> kept;
        for (int64_t i = start; i < stop; ++i) {
            if (!ok[static_cast<size_t>(i - start)]) {
                out.skipped.push_back(errors[static_cast<size_t>(i - start)]);
                continue;
            }
            kept.push_back(i - start);
            labels.push_back(source.label(i));
            out.names.push_back(source.name(i));
            out.indices.push_back(i);
        }
        if (run && !kept.empty())
            run(kept.size() < static_cast<size_t>(stop - start) ? views.index_select(0, torch::tensor(kept, torch::kInt64)) : views);
        if (progress)
            progress(stop, n);
    }
    if (labels.empty())
        throw DataError(source.description() + ": no readable images");
    out.labels = torch::tensor(labels, torch::kInt64);
    return out;
}

// One reused buffer of batchSize views: each batch is decoded into the same memory (a fresh
// tensor per batch would fault every page of it in again).
ViewSlot reusedBuffer(const ImageSource& source, int crop, int batchSize)
{
    auto buffer = std::make_shared<torch::Tensor>(torch::empty({std::min<int64_t>(batchSize, source.size()), 3, crop, crop}));
    return [buffer](int64_t, int64_t count) { return buffer->slice(0, 0, count); };
}

// Every readable view of the source in one [N, 3, crop, crop] tensor, decoded in place.
std::pair<torch::Tensor, Embeddings> allViews(const ImageSource& source, int crop, const EmbedProgress& progress)
{
    auto all = torch::empty({source.size(), 3, crop, crop});
    auto e = embedBatches(source, 1024, progress, [&](int64_t start, int64_t count) { return all.slice(0, start, start + count); }, {});
    if (static_cast<int64_t>(e.indices.size()) < source.size())
        all = all.index_select(0, torch::tensor(e.indices, torch::kInt64));
    return {all, std::move(e)};
}

// The encoder's tokens [B, N, D] (the mean of the last `layers` blocks' normed tokens; 1: the
// output, as forward); on CPU the batch is split into one slice per intra-op thread, each run on its
// own thread (as the training step: many small ops scale better one sequence per core). bf16: under
// bf16 autocast, set on each slice's thread (autocast is per-thread state).
torch::Tensor forwardSplit(VisionTransformer& encoder, const torch::Tensor& images, int layers = 1, bool bf16 = false)
{
    const int64_t b = images.size(0);
    const int64_t slices = images.device().is_cpu() && sharesOpenMpWithTorch()
                               ? std::min<int64_t>(at::get_num_threads(), b)
                               : 1;
    if (slices <= 1) {
        const compat::AutocastGuard autocast(images.device().type(), bf16);
        return encoder->forwardLastLayers(images, layers);
    }
    std::vector<torch::Tensor> out(static_cast<size_t>(slices));
    parallelForOnOwnThreads(0, slices, 1, [&](int64_t first, int64_t last) {
        torch::NoGradGuard noGrad; // grad mode is per thread
        const compat::AutocastGuard autocast(images.device().type(), bf16);
        for (int64_t s = first; s < last; ++s)
            out[static_cast<size_t>(s)] =
                encoder->forwardLastLayers(images.slice(0, b * s / slices, b * (s + 1) / slices), layers);
    });
    return torch::cat(out);
}

} // namespace

CropBox evalBox(int height, int width)
{
    const int side = std::min(height, width);
    return {(height - side) / 2, (width - side) / 2, side, side};
}

torch::Tensor evalTransform(const torch::Tensor& imageHwc, int crop)
{
    // Centre square of the image, resized to crop x crop: the same as resize-shorter-side + centre crop.
    return cropResizeNormalize(imageHwc, evalBox(static_cast<int>(imageHwc.size(0)), static_cast<int>(imageHwc.size(1))), crop);
}

namespace {
// Eval mode while embedding; the mode it found comes back after (an encoder being trained stays in training mode).
struct EvalMode {
    VisionTransformer& encoder;
    const bool training = encoder->is_training();
    explicit EvalMode(VisionTransformer& e) : encoder(e) { encoder->eval(); }
    ~EvalMode() { encoder->train(training); }
};
} // namespace

Embeddings embedImages(VisionTransformer& encoder, const ImageSource& source, int crop, bool keepPatches,
                       int batchSize, const EmbedProgress& progress, int layers)
{
    const auto& shape = encoder->options;
    const std::int64_t tokens = static_cast<std::int64_t>(shape.gridSize()) * shape.gridSize();
    requireMemory(inferenceBytes(tokens, shape.embedDim, shape.depth, shape.numHeads, batchSize) +
                      4.0 * source.size() * shape.embedDim * (keepPatches ? tokens + 1.0 : 1.0) + 12.0 * batchSize * crop * crop,
                  "embedding " + std::to_string(source.size()) + " images at crop " + std::to_string(crop) + " (" +
                      std::to_string(tokens) + " patches an image) with a " + std::to_string(shape.embedDim) + "-wide encoder",
                  "lower data.crop_size, raise mask.patch_size or use fewer images");
    torch::NoGradGuard noGrad;
    const EvalMode evalMode(encoder);
    const auto device = encoder->parameters().front().device();
    std::vector<torch::Tensor> pooled, patches;
    auto out = embedBatches(source, batchSize, progress, reusedBuffer(source, crop, batchSize), [&](const torch::Tensor& images) {
        const auto tokens = forwardSplit(encoder, images.to(device), layers).to(torch::kCPU, torch::kFloat32);
        pooled.push_back(tokens.mean(1));
        if (keepPatches)
            patches.push_back(tokens);
    });
    out.features = torch::cat(pooled);
    if (keepPatches)
        out.patches = torch::cat(patches);
    return out;
}

EvalViews evalViews(const ImageSource& source, int crop)
{
    auto [images, e] = allViews(source, crop, {});
    return {images, e.labels, e.indices, e.skipped};
}

EvalViews evalViewsStreamed(const ImageSource& source, int crop, const EmbedProgress& progress)
{
    const auto e = embedBatches(source, kEmbedBatch, progress, reusedBuffer(source, crop, kEmbedBatch), {});
    return {torch::Tensor(), e.labels, e.indices, e.skipped};
}

torch::Tensor embedViews(VisionTransformer& encoder, const torch::Tensor& views, int batchSize, bool bf16)
{
    torch::NoGradGuard noGrad;
    const EvalMode evalMode(encoder);
    const auto device = encoder->parameters().front().device();
    std::vector<torch::Tensor> pooled;
    for (int64_t start = 0; start < views.size(0); start += batchSize)
        pooled.push_back(forwardSplit(encoder, views.slice(0, start, start + batchSize).to(device), 1, bf16)
                             .to(torch::kCPU, torch::kFloat32)
                             .mean(1));
    return torch::cat(pooled);
}

Embeddings pixelEmbeddings(const ImageSource& source, int crop, const EmbedProgress& progress)
{
    auto [images, out] = allViews(source, crop, progress);
    out.features = images.flatten(1);
    return out;
}

LoadedModel loadModel(const std::string& checkpoint, const Config* config, torch::Device device)
{
    LoadedModel r;
    if (isExportedWeights(checkpoint)) { // an export (safetensors, timm, Hugging Face): one encoder in both places
        const auto file = readExport(checkpoint); // read once: the config and the weights
        r.config = exportedConfig(checkpoint, file, config);
        r.model = std::make_shared<IJepaModel>(r.config, device);
        importWeights(checkpoint, file, *r.model);
    } else {
        const auto file = readTorchFile(checkpoint);
        r.config = config ? *config : checkpointConfig(file, checkpoint);
        r.model = std::make_shared<IJepaModel>(r.config, device);
        loadCheckpoint(file, checkpoint, *r.model, nullptr);
    }
    r.model->encoder->eval();
    r.model->predictor->eval();
    r.model->targetEncoder->eval();
    return r;
}

LoadedEncoder loadEncoder(const std::string& checkpoint, const Config* config, bool contextEncoder, torch::Device device)
{
    const LoadedModel loaded = loadModel(checkpoint, config, device);
    LoadedEncoder r{contextEncoder ? loaded.model->encoder : loaded.model->targetEncoder, loaded.config};
    return r;
}

} // namespace ijepa
