#pragma once

#include "core/config.h"
#include "core/data/image_source.h"
#include "core/model/ijepa_model.h"
#include "core/model/vision_transformer.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ijepa {

// Features of every image of a source, in source order; unreadable images are left out and named.
struct Embeddings {
    torch::Tensor features;          // [N, D] float32: average-pooled patch tokens (or pixels)
    torch::Tensor patches;           // [N, P, D] patch tokens, when asked for
    torch::Tensor labels;            // [N] int64
    std::vector<std::string> names;  // N file names
    std::vector<std::int64_t> indices; // N source indices
    std::vector<std::string> skipped;
};

using EmbedProgress = std::function<void(std::int64_t done, std::int64_t total)>;

// The evaluation view of an [H, W, 3] uint8 image: shorter side resized to `crop`, centre crop,
// ImageNet normalisation: [3, crop, crop] float.
torch::Tensor evalTransform(const torch::Tensor& imageHwc, int crop);
// Its box: the centred square of an image (ImageSource::view with it gives the same view, decoded
// as the source decodes views: embedImages, embedViews and the probes decode on every thread).
CropBox evalBox(int height, int width);

// Images per forward batch of embedImages and embedViews (and so of the online probe).
constexpr int kEmbedBatch = 256;

// Runs `encoder` (no masks) over every image; features are the mean over patch tokens (the
// paper's protocol for frozen evaluation), patch tokens kept when `keepPatches`. layers > 1: the
// tokens are the mean of the last `layers` blocks' outputs, each through the final norm.
Embeddings embedImages(VisionTransformer& encoder, const ImageSource& source, int crop, bool keepPatches = false,
                       int batchSize = kEmbedBatch, const EmbedProgress& progress = {}, int layers = 1);

// The evaluation views of every readable image of a source, decoded once: [N, 3, crop, crop]
// float and [N] labels (for a probe set that is embedded again and again).
struct EvalViews {
    torch::Tensor images;
    torch::Tensor labels;
    std::vector<std::int64_t> indices; // the source index of each view
    std::vector<std::string> skipped;
};
EvalViews evalViews(const ImageSource& source, int crop);
// The same decode as embedImages runs it, in batches of kEmbedBatch into one reused buffer, with
// the views dropped (images undefined): the evaluation decode's own speed (ijepa bench data --eval).
EvalViews evalViewsStreamed(const ImageSource& source, int crop, const EmbedProgress& progress = {});
// Mean-pooled features [N, D] of decoded views, in batches of `batchSize` as embedImages: the same
// numbers embedImages gives for the same images. bf16: the forward under bf16 autocast, as a bf16
// training step runs it (precision.h; the online probe of a bf16 run), features returned in fp32.
torch::Tensor embedViews(VisionTransformer& encoder, const torch::Tensor& views, int batchSize = kEmbedBatch,
                         bool bf16 = false);

// The raw-pixel baseline: the evaluation view itself, flattened ([N, 3 * crop * crop]).
Embeddings pixelEmbeddings(const ImageSource& source, int crop, const EmbedProgress& progress = {});

// An encoder from a checkpoint: the target encoder (default) or the context encoder. The
// architecture comes from `config`, or from the config a project checkpoint carries when null.
// Returns the config used. Throws CheckpointError naming the file.
struct LoadedEncoder {
    VisionTransformer encoder{nullptr};
    Config config;
};
LoadedEncoder loadEncoder(const std::string& checkpoint, const Config* config, bool contextEncoder = false,
                          torch::Device device = torch::kCPU);

// All three networks of a checkpoint, in eval mode. The config: `config` when given, else the one
// a project checkpoint carries, else the params-ijepa.yaml the reference writes beside its
// checkpoints. Throws CheckpointError naming the file when none of these exists. An export
// (encoder_export.h: a .safetensors file or a Hugging Face folder) gives its encoder to both
// encoders, and its predictor when it holds one.
struct LoadedModel {
    std::shared_ptr<IJepaModel> model;
    Config config;
};
LoadedModel loadModel(const std::string& checkpoint, const Config* config, torch::Device device = torch::kCPU);

} // namespace ijepa
