#pragma once

#include "core/config.h"

#include <torch/types.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ijepa {

// Patch indices of one batch, raster order (row * gridW + col), int64.
struct MaskBatch {
    torch::Tensor enc;  // [num_enc, B, K]: context patches kept by the encoder
    torch::Tensor pred; // [num_pred, B, Kp]: patches of each target block
};

struct BlockSize {
    int h = 0;
    int w = 0;
};

// One batch as drawn, before truncation: per image, each mask's patch indices (raster order).
struct MaskDraw {
    std::vector<std::vector<std::vector<std::int64_t>>> enc;  // [B][num_enc][K_b]
    std::vector<std::vector<std::vector<std::int64_t>>> pred; // [B][num_pred][Kp_b]
    BlockSize target;                                         // the batch's block sizes
    BlockSize context;
};

// Samples context/target masks as the reference's MaskCollator (src/masks/multiblock.py), or one of
// the paper's ablation samplers, selected by MaskConfig::sampler:
//  - multiblock: num_pred_masks target blocks and one context block minus the targets. Block SIZES
//    are drawn once per batch from a generator seeded by the iteration counter (identical to the
//    reference for seed 0), positions per image.
//  - block: a single target block (num_pred_masks is ignored), context as multiblock.
//  - random: targets and context are random patch sets of the multiblock sizes.
//  - rasterized: the grid is cut into quadrants; one random quadrant is the context, the other
//    three are the targets (num_pred_masks is ignored).
// Position modes: "faithful" (the default, as the reference: a block never touches the last row or
// column because positions are drawn from [0, H - h)); "corrected" draws from [0, H - h].
// Truncation ("prefix", the default, as the reference): every mask of a batch is cut to the batch's
// shortest, keeping its first indices in raster order, so a cut context loses its bottom rows;
// "random" keeps a random subset of that size instead (still in raster order).
// Each batch depends only on (seed, iteration), so resuming needs only the iteration counter.
class MaskSampler {
public:
    MaskSampler(const MaskConfig& config, int gridH, int gridW, std::uint64_t seed = 0);

    // Returns the masks for one batch and advances the iteration counter; every row has the same
    // length (truncated to the batch minimum as mask.truncation says).
    MaskBatch sample(int batchSize);
    // The masks `sample` returns at a given iteration, without touching the counter; thread-safe.
    MaskBatch sampleAt(std::int64_t iteration, int batchSize) const;
    // The same batch before truncation to the batch minimum (sampleAt truncates this).
    MaskDraw drawAt(std::int64_t iteration, int batchSize) const;
    // The masks of drawAt(iteration, ...) truncated to the batch minimum: sampleAt's result.
    MaskBatch truncate(const MaskDraw& draw, std::int64_t iteration) const;

    std::int64_t iteration() const { return m_iteration; }
    void setIteration(std::int64_t iteration) { m_iteration = iteration; }

    // The block sizes the multiblock sampler uses at a given iteration: {target, context}.
    std::pair<BlockSize, BlockSize> blockSizes(std::int64_t iteration) const;

private:
    using Indices = std::vector<std::int64_t>;
    using Rng = std::mt19937_64;

    BlockSize sampleBlockSize(double rand, std::array<double, 2> scale, std::array<double, 2> aspect) const;
    // One block at a random position, restricted to `allowed` (relaxed after 20 failed tries).
    Indices sampleBlock(BlockSize size, const std::vector<std::vector<uint8_t>>& allowed, Rng& rng,
                        std::vector<uint8_t>* complement) const;
    Indices randomPatches(int count, const std::vector<uint8_t>* forbidden, Rng& rng) const;
    void sampleImage(BlockSize pSize, BlockSize eSize, Rng& rng, std::vector<Indices>& pred,
                     std::vector<Indices>& enc) const;

    MaskConfig m_config;
    int m_gridH;
    int m_gridW;
    std::uint64_t m_seed;
    std::int64_t m_iteration = 0;
};

// Rejects settings under which sampling could never finish (the reference loops forever), with a
// message naming the keys to change. Throws ConfigError.
void validateMaskSettings(const MaskConfig& config, int gridSize);

// The block sizes (h x w patches) the multiblock draw can give on a grid, over the whole range of
// each scale: "context 7x7 (one size over enc_mask_scale [0.85, 1]); target 3x3, 4x3, ...
// (pred_mask_scale [0.15, 0.2], aspect [0.75, 1.5])". On a small grid a range can collapse to one size (enc_mask_scale
// [0.7, 1.0] on 8x8 draws exactly the blocks of [0.85, 1.0]); this line says so before a run.
std::string blockSizeSummary(const MaskConfig& config, int gridSize);

} // namespace ijepa
