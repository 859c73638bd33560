#pragma once

#include "core/eval/nn_index.h"
#include "core/model/ijepa_model.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace ijepa {

// Target-encoder patch tokens of held-out images, as the training targets are (layer_norm without
// affine of the encoder's output), indexed for exact cosine retrieval. Row r is patch r % P of
// image r / P.
struct PatchBank {
    std::shared_ptr<CosineIndex> index;
    std::int64_t images = 0;
    std::int64_t patchesPerImage = 0;
};
// From patch tokens [M, P, D] of the target encoder (an EmbeddingSet's or Embeddings' patches).
PatchBank patchBankFromTokens(const torch::Tensor& patchTokens);
// Runs `targetEncoder` over views [M, 3, H, W] (normalised) and indexes their tokens.
PatchBank buildPatchBank(VisionTransformer& targetEncoder, const torch::Tensor& views, int batchSize = 64);

// What the predictor believes is behind the mask (the paper's Fig. 10, by retrieval instead of a
// generative decoder): for one image, a context (patch indices) and target blocks, the predictor's
// output for each target patch, the true target tokens, their cosine similarity, and for both the
// nearest bank patch.
struct PredictedBlock {
    std::vector<std::int64_t> patches;     // target patch indices (raster order)
    torch::Tensor predicted;               // [Kp, D] predictor output
    torch::Tensor target;                  // [Kp, D] layer-normed target-encoder tokens
    std::vector<float> cosine;             // per patch: cos(predicted, target)
    std::vector<CosineIndex::Hit> predictedHits; // nearest bank row of each prediction
    std::vector<CosineIndex::Hit> targetHits;    // nearest bank row of each true target token
};
struct PredictorProbe {
    std::vector<PredictedBlock> blocks;
    double meanCosine = 0;
};

// Removes from `context` every patch that lies in a target block (as the multi-block sampler's
// context never holds a target patch), for contexts drawn or chosen by hand.
void removeTargetPatches(std::vector<std::int64_t>& context, const std::vector<std::vector<std::int64_t>>& targets);

// image [3, H, W] normalised; context and each target block non-empty, indices < grid^2. Runs the
// context encoder on the context patches, the predictor once per block, the target encoder on the
// whole image. Retrieval skips the bank patches of image `excludeImage` (the query image itself
// when it is in the bank; -1: none). Without gradients; throws ConfigError for an empty or
// out-of-range mask.
PredictorProbe probePredictor(IJepaModel& model, const torch::Tensor& image, const std::vector<std::int64_t>& context,
                              const std::vector<std::vector<std::int64_t>>& targets, const PatchBank& bank,
                              std::int64_t excludeImage = -1);

// The image [H, W, 3] uint8 with every target patch replaced by the pixels of the bank patch its
// prediction (or, with `predicted` false, its true target token) retrieved; bankImages [M, H, W, 3]
// uint8 are the bank's images at the same size, on the same patch grid.
torch::Tensor assembleRetrieved(const torch::Tensor& imageHwc, int grid, const PredictorProbe& probe,
                                const torch::Tensor& bankImages, bool predicted);

} // namespace ijepa
