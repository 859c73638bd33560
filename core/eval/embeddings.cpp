#include "core/eval/embeddings.h"

#include "core/compat.h"
#include "core/data/augment.h"
#include "core/io/checkpoint.h"
#include "core/errors.h"
#include "core/model/ijepa_model.h"
#include "core/parallel.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>

namespace ijepa {
namespace {

// Decodes the source in batches of eval views and hands each batch to `run`.
Embeddings embedBatches(const ImageSource& source, int crop, int batchSize, const EmbedProgress& progress,
                        const std::function<void(const torch::Tensor&, Embeddings&)>& run)
{
    Embeddings out;
    std::vector<int64_t> labels;
    const int64_t n = source.size();
    for (int64_t start = 0; start < n; start += batchSize) {
        std::vector<torch::Tensor> views;
        for (int64_t i = start; i < std::min(n, start + batchSize); ++i) {
            try {
                views.push_back(evalTransform(source.image(i), crop));
            } catch (const DataError& e) {
                out.skipped.push_back(e.what());
                continue;
            }
            labels.push_back(source.label(i));
            out.names.push_back(source.name(i));
        }
        if (!views.empty())
            run(torch::stack(views), out);
        if (progress)
            progress(std::min(n, start + batchSize), n);
    }
    if (labels.empty())
        throw DataError(source.description() + ": no readable images");
    out.labels = torch::tensor(labels, torch::kInt64);
    return out;
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

torch::Tensor evalTransform(const torch::Tensor& imageHwc, int crop)
{
    const int h = static_cast<int>(imageHwc.size(0)), w = static_cast<int>(imageHwc.size(1));
    const int side = std::min(h, w);
    // Centre square of the image, resized to crop x crop: the same as resize-shorter-side + centre crop.
    return cropResizeNormalize(imageHwc, {(h - side) / 2, (w - side) / 2, side, side}, crop);
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
    torch::NoGradGuard noGrad;
    const EvalMode evalMode(encoder);
    const auto device = encoder->parameters().front().device();
    std::vector<torch::Tensor> pooled, patches;
    auto out = embedBatches(source, crop, batchSize, progress, [&](const torch::Tensor& images, Embeddings&) {
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
    EvalViews v;
    std::vector<torch::Tensor> images;
    const auto e = embedBatches(source, crop, 1024, {}, [&](const torch::Tensor& batch, Embeddings&) { images.push_back(batch); });
    v.images = torch::cat(images);
    v.labels = e.labels;
    v.skipped = e.skipped;
    return v;
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
    std::vector<torch::Tensor> rows;
    auto out = embedBatches(source, crop, 1024, progress,
                            [&](const torch::Tensor& images, Embeddings&) { rows.push_back(images.flatten(1)); });
    out.features = torch::cat(rows);
    return out;
}

LoadedModel loadModel(const std::string& checkpoint, const Config* config, torch::Device device)
{
    LoadedModel r;
    const auto file = readTorchFile(checkpoint);
    r.config = config ? *config : checkpointConfig(file, checkpoint);
    r.model = std::make_shared<IJepaModel>(r.config, device);
    loadCheckpoint(file, checkpoint, *r.model, nullptr);
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
