#include "core/masks/multiblock_masks.h"

#include "core/errors.h"
#include "core/model/memory_estimate.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <tuple>

namespace ijepa {
namespace {

constexpr int kTriesBeforeRelaxing = 20;

// Python's round() (half to even), as the reference computes block sides.
int pyRound(double x) { return static_cast<int>(std::nearbyint(x)); }

// The block a size draw of `rand` in [0, 1) gives, as the reference's _sample_block_size: one
// number sets both the scale and the aspect ratio; each side is capped one below the grid.
BlockSize blockSizeAt(int gridH, int gridW, double rand, std::array<double, 2> scale, std::array<double, 2> aspect)
{
    const int maxKeep = static_cast<int>(gridH * gridW * (scale[0] + rand * (scale[1] - scale[0])));
    const double ar = aspect[0] + rand * (aspect[1] - aspect[0]);
    return {std::min(pyRound(std::sqrt(maxKeep * ar)), gridH - 1), std::min(pyRound(std::sqrt(maxKeep / ar)), gridW - 1)};
}

// Every block size the draw can give over the whole range of a scale (and aspect), in draw order.
std::vector<BlockSize> blockSizesOverRange(int gridH, int gridW, std::array<double, 2> scale,
                                           std::array<double, 2> aspect)
{
    std::vector<BlockSize> sizes;
    for (int i = 0; i <= 10000; ++i) {
        const BlockSize size = blockSizeAt(gridH, gridW, std::min(i / 10000.0, 1.0 - 1e-12), scale, aspect);
        if (std::none_of(sizes.begin(), sizes.end(), [&](BlockSize b) { return b.h == size.h && b.w == size.w; }))
            sizes.push_back(size);
    }
    return sizes;
}

// Smallest block area over the whole range of the size draw.
int smallestBlockArea(int gridH, int gridW, std::array<double, 2> scale, std::array<double, 2> aspect, BlockSize* at)
{
    int best = gridH * gridW + 1;
    for (const BlockSize size : blockSizesOverRange(gridH, gridW, scale, aspect))
        if (size.h * size.w < best) {
            best = size.h * size.w;
            *at = size;
        }
    return best;
}

// Every mask cut to the batch minimum length: its first indices, or with `rng` a random subset of
// them (kept in raster order).
torch::Tensor stackTruncated(const std::vector<std::vector<std::vector<std::int64_t>>>& perImage, int numMasks,
                             std::mt19937_64* rng)
{
    const int64_t batch = static_cast<int64_t>(perImage.size());
    size_t keep = SIZE_MAX;
    for (const auto& masks : perImage)
        for (const auto& m : masks)
            keep = std::min(keep, m.size());
    auto out = torch::empty({numMasks, batch, static_cast<int64_t>(keep)}, torch::kLong);
    auto acc = out.accessor<int64_t, 3>();
    for (int64_t b = 0; b < batch; ++b)
        for (int m = 0; m < numMasks; ++m) {
            const auto& drawn = perImage[static_cast<size_t>(b)][static_cast<size_t>(m)];
            std::vector<std::int64_t> subset; // only when a random subset is kept
            if (rng && drawn.size() > keep) {
                subset = drawn;
                std::shuffle(subset.begin(), subset.end(), *rng);
                std::sort(subset.begin(), subset.begin() + static_cast<std::ptrdiff_t>(keep));
            }
            const auto& kept = subset.empty() ? drawn : subset;
            for (size_t k = 0; k < keep; ++k)
                acc[m][b][static_cast<int64_t>(k)] = kept[k];
        }
    return out;
}

} // namespace

MaskSampler::MaskSampler(const MaskConfig& config, int gridH, int gridW, std::uint64_t seed)
    : m_config(config), m_gridH(gridH), m_gridW(gridW), m_seed(seed)
{
    validateMaskSettings(config, std::min(gridH, gridW));
}

BlockSize MaskSampler::sampleBlockSize(double rand, std::array<double, 2> scale, std::array<double, 2> aspect) const
{
    return blockSizeAt(m_gridH, m_gridW, rand, scale, aspect);
}

std::pair<BlockSize, BlockSize> MaskSampler::blockSizes(std::int64_t iteration) const
{
    auto gen = at::make_generator<at::CPUGeneratorImpl>(m_seed * (std::uint64_t{1} << 32) + iteration);
    const double rp = torch::rand({1}, gen).item<float>();
    const double re = torch::rand({1}, gen).item<float>();
    return {sampleBlockSize(rp, m_config.pred_mask_scale, m_config.aspect_ratio),
            sampleBlockSize(re, m_config.enc_mask_scale, {1.0, 1.0})};
}

MaskSampler::Indices MaskSampler::sampleBlock(BlockSize size, const std::vector<std::vector<uint8_t>>& allowed,
                                              Rng& rng, std::vector<uint8_t>* complement) const
{
    const int slack = m_config.position_mode == "corrected" ? 1 : 0;
    std::uniform_int_distribution<int> topDist(0, m_gridH - size.h - 1 + slack);
    std::uniform_int_distribution<int> leftDist(0, m_gridW - size.w - 1 + slack);
    int relaxed = 0;
    int timeout = kTriesBeforeRelaxing;
    for (;;) {
        const int top = topDist(rng);
        const int left = leftDist(rng);
        const size_t constraints = static_cast<size_t>(std::max<int>(static_cast<int>(allowed.size()) - relaxed, 0));
        Indices mask;
        for (int r = top; r < top + size.h; ++r)
            for (int c = left; c < left + size.w; ++c) {
                const int idx = r * m_gridW + c;
                bool ok = true;
                for (size_t k = 0; k < constraints && ok; ++k)
                    ok = allowed[k][idx] != 0;
                if (ok)
                    mask.push_back(idx);
            }
        if (static_cast<int>(mask.size()) > m_config.min_keep) {
            if (complement) {
                complement->assign(static_cast<size_t>(m_gridH * m_gridW), 1);
                for (int r = top; r < top + size.h; ++r)
                    for (int c = left; c < left + size.w; ++c)
                        (*complement)[r * m_gridW + c] = 0;
            }
            return mask;
        }
        if (--timeout == 0) {
            ++relaxed;
            timeout = kTriesBeforeRelaxing;
        }
    }
}

MaskSampler::Indices MaskSampler::randomPatches(int count, const std::vector<uint8_t>* forbidden, Rng& rng) const
{
    Indices candidates;
    for (int i = 0; i < m_gridH * m_gridW; ++i)
        if (!forbidden || !(*forbidden)[i])
            candidates.push_back(i);
    std::shuffle(candidates.begin(), candidates.end(), rng);
    candidates.resize(std::min<size_t>(candidates.size(), static_cast<size_t>(count)));
    std::sort(candidates.begin(), candidates.end());
    return candidates;
}

void MaskSampler::sampleImage(BlockSize pSize, BlockSize eSize, Rng& rng, std::vector<Indices>& pred,
                              std::vector<Indices>& enc) const
{
    const std::string& kind = m_config.sampler;
    const int n = m_gridH * m_gridW;
    if (kind == "rasterized") {
        const int hh = m_gridH / 2, hw = m_gridW / 2;
        const int ctx = std::uniform_int_distribution<int>(0, 3)(rng);
        for (int q = 0; q < 4; ++q) {
            Indices quad;
            for (int r = 0; r < m_gridH; ++r)
                for (int c = 0; c < m_gridW; ++c)
                    if ((r >= hh) * 2 + (c >= hw) == q)
                        quad.push_back(r * m_gridW + c);
            (q == ctx ? enc : pred).push_back(std::move(quad));
        }
        for (int e = 1; e < m_config.num_enc_masks; ++e)
            enc.push_back(enc.front());
        return;
    }
    const int numPred = kind == "block" ? 1 : m_config.num_pred_masks;
    std::vector<std::vector<uint8_t>> complements;
    std::vector<uint8_t> covered(static_cast<size_t>(n), 0);
    for (int p = 0; p < numPred; ++p) {
        if (kind == "random") {
            pred.push_back(randomPatches(pSize.h * pSize.w, nullptr, rng));
            for (auto idx : pred.back())
                covered[idx] = 1;
        } else {
            complements.emplace_back();
            pred.push_back(sampleBlock(pSize, {}, rng, &complements.back()));
        }
    }
    if (m_config.allow_overlap)
        complements.clear();
    for (int e = 0; e < m_config.num_enc_masks; ++e) {
        if (kind == "random")
            enc.push_back(randomPatches(eSize.h * eSize.w, m_config.allow_overlap ? nullptr : &covered, rng));
        else
            enc.push_back(sampleBlock(eSize, complements, rng, nullptr));
    }
}

MaskBatch MaskSampler::sample(int batchSize) { return sampleAt(m_iteration++, batchSize); }

MaskDraw MaskSampler::drawAt(std::int64_t iteration, int batchSize) const
{
    // Each mask is a list of patch indices (8 bytes), and truncation copies it once.
    const double patches = static_cast<double>(m_gridH) * m_gridW;
    requireMemory(16.0 * patches * batchSize * (m_config.num_enc_masks + m_config.num_pred_masks),
                  "mask.patch_size with data.crop_size gives a " + std::to_string(m_gridH) + "x" + std::to_string(m_gridW) +
                      " patch grid: sampling masks for data.batch_size " + std::to_string(batchSize),
                  "lower data.crop_size or data.batch_size, or raise mask.patch_size");
    MaskDraw draw;
    std::tie(draw.target, draw.context) = blockSizes(iteration);
    Rng rng(m_seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(iteration) * 0xBF58476D1CE4E5B9ULL + 1);
    draw.pred.resize(static_cast<size_t>(batchSize));
    draw.enc.resize(static_cast<size_t>(batchSize));
    for (int b = 0; b < batchSize; ++b)
        sampleImage(draw.target, draw.context, rng, draw.pred[b], draw.enc[b]);
    return draw;
}

MaskBatch MaskSampler::sampleAt(std::int64_t iteration, int batchSize) const
{
    return truncate(drawAt(iteration, batchSize), iteration);
}

MaskBatch MaskSampler::truncate(const MaskDraw& draw, std::int64_t iteration) const
{
    // A stream of its own, so that the prefix mode draws exactly what it always drew.
    Rng rng(m_seed * 0xD1B54A32D192ED03ULL + static_cast<std::uint64_t>(iteration) * 0x94D049BB133111EBULL + 2);
    Rng* random = m_config.truncation == "random" ? &rng : nullptr;
    MaskBatch batch;
    batch.enc = stackTruncated(draw.enc, static_cast<int>(draw.enc.front().size()), random);
    batch.pred = stackTruncated(draw.pred, static_cast<int>(draw.pred.front().size()), random);
    return batch;
}

void validateMaskSettings(const MaskConfig& c, int grid)
{
    const std::string samplers[] = {"multiblock", "block", "random", "rasterized"};
    if (std::find(std::begin(samplers), std::end(samplers), c.sampler) == std::end(samplers))
        throw ConfigError("key 'mask.sampler': unknown sampler '" + c.sampler +
                          "' (use multiblock, block, random or rasterized)");
    if (c.position_mode != "faithful" && c.position_mode != "corrected")
        throw ConfigError("key 'mask.position_mode': must be 'faithful' or 'corrected', got '" + c.position_mode + "'");
    if (c.truncation != "prefix" && c.truncation != "random")
        throw ConfigError("key 'mask.truncation': must be 'prefix' or 'random', got '" + c.truncation + "'");
    if (grid < 2)
        throw ConfigError("key 'mask.patch_size': the patch grid must be at least 2x2");
    if (c.sampler == "rasterized")
        return;
    const auto describe = [&](const char* what, const char* scaleKey, BlockSize at, int area) {
        return std::string("key 'mask.min_keep': a ") + what + " block must keep more than mask.min_keep=" +
               std::to_string(c.min_keep) + " patches, but on the " + std::to_string(grid) + "x" +
               std::to_string(grid) + " patch grid the smallest " + what + " block is " + std::to_string(at.h) +
               "x" + std::to_string(at.w) + "=" + std::to_string(area) + " patches; lower mask.min_keep below " +
               std::to_string(area) + ", raise " + scaleKey + "[0], or use a finer grid (smaller mask.patch_size)";
    };
    BlockSize at;
    const int predArea = smallestBlockArea(grid, grid, c.pred_mask_scale, c.aspect_ratio, &at);
    if (predArea <= c.min_keep)
        throw ConfigError(describe("target", "mask.pred_mask_scale", at, predArea));
    const int encArea = smallestBlockArea(grid, grid, c.enc_mask_scale, {1.0, 1.0}, &at);
    if (encArea <= c.min_keep)
        throw ConfigError(describe("context", "mask.enc_mask_scale", at, encArea));
}

std::string blockSizeSummary(const MaskConfig& c, int grid)
{
    if (c.sampler == "rasterized")
        return "context and targets are quadrants of the " + std::to_string(grid) + "x" + std::to_string(grid) + " grid";
    const auto list = [&](const char* what, const char* key, std::array<double, 2> scale, std::array<double, 2> aspect) {
        const auto sizes = blockSizesOverRange(grid, grid, scale, aspect);
        std::string text = what;
        for (size_t i = 0; i < sizes.size(); ++i)
            text += (i ? ", " : " ") + std::to_string(sizes[i].h) + "x" + std::to_string(sizes[i].w);
        char range[200];
        std::snprintf(range, sizeof range, " (%s%s [%g, %g]", sizes.size() == 1 && scale[0] != scale[1] ? "one size over " : "",
                      key, scale[0], scale[1]);
        return text + range;
    };
    char aspect[80];
    std::snprintf(aspect, sizeof aspect, ", aspect [%g, %g])", c.aspect_ratio[0], c.aspect_ratio[1]);
    return list("context", "enc_mask_scale", c.enc_mask_scale, {1.0, 1.0}) + "); " +
           list("target", "pred_mask_scale", c.pred_mask_scale, c.aspect_ratio) + aspect;
}

} // namespace ijepa
