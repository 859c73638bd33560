#include "core/eval/embeddings.h"

#include "core/data/augment.h"
#include "core/io/checkpoint.h"
#include "core/errors.h"
#include "core/model/ijepa_model.h"

#include <torch/torch.h>

#include <algorithm>

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

} // namespace

torch::Tensor evalTransform(const torch::Tensor& imageHwc, int crop)
{
    const int h = static_cast<int>(imageHwc.size(0)), w = static_cast<int>(imageHwc.size(1));
    const int side = std::min(h, w);
    // Centre square of the image, resized to crop x crop: the same as resize-shorter-side + centre crop.
    return cropResizeNormalize(imageHwc, {(h - side) / 2, (w - side) / 2, side, side}, crop);
}

Embeddings embedImages(VisionTransformer& encoder, const ImageSource& source, int crop, bool keepPatches,
                       int batchSize, const EmbedProgress& progress)
{
    torch::NoGradGuard noGrad;
    encoder->eval();
    const auto device = encoder->parameters().front().device();
    std::vector<torch::Tensor> pooled, patches;
    auto out = embedBatches(source, crop, batchSize, progress, [&](const torch::Tensor& images, Embeddings&) {
        const auto tokens = encoder->forward(images.to(device)).to(torch::kCPU, torch::kFloat32);
        pooled.push_back(tokens.mean(1));
        if (keepPatches)
            patches.push_back(tokens);
    });
    out.features = torch::cat(pooled);
    if (keepPatches)
        out.patches = torch::cat(patches);
    return out;
}

Embeddings pixelEmbeddings(const ImageSource& source, int crop, const EmbedProgress& progress)
{
    std::vector<torch::Tensor> rows;
    auto out = embedBatches(source, crop, 1024, progress,
                            [&](const torch::Tensor& images, Embeddings&) { rows.push_back(images.flatten(1)); });
    out.features = torch::cat(rows);
    return out;
}

LoadedEncoder loadEncoder(const std::string& checkpoint, const Config* config, bool contextEncoder, torch::Device device)
{
    LoadedEncoder r;
    const auto file = readTorchFile(checkpoint);
    if (config) {
        r.config = *config;
    } else {
        const auto meta = checkpointMeta(file, checkpoint);
        if (!meta.config)
            throw CheckpointError(checkpoint + ": carries no config (a reference checkpoint?): pass --config with its "
                                               "params-ijepa.yaml");
        r.config = parseConfig(*meta.config, checkpoint + " (embedded config)");
    }
    IJepaModel model(r.config, device);
    loadCheckpoint(file, checkpoint, model, nullptr);
    r.encoder = contextEncoder ? model.encoder : model.targetEncoder;
    r.encoder->eval();
    return r;
}

} // namespace ijepa
