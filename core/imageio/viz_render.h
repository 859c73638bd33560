#pragma once

#include "core/eval/predictor_probe.h"
#include "core/masks/mask_stats.h"

#include <string>
#include <vector>

namespace ijepa {

// Figures for papers and reports (`ijepa masks --stats`, `ijepa viz ...`), written as PNG; each
// throws DataError naming the file when it cannot be written.

// One row per setting (its name on the left), columns: context, target, neither; shares of images
// on one 0..1 viridis scale, a colour bar below.
void writeMaskStatsPng(const std::vector<std::string>& names, const std::vector<MaskStats>& stats,
                       const std::string& path);

// The image, the chosen query's attention (head `head`, or the mean over heads when < 0) over it,
// the mean over all queries, and one small map per head for the query. imageHwc [H, W, 3] uint8
// is the view the encoder saw; maps [heads, N, N] from attentionMaps.
void writeAttentionPng(const torch::Tensor& imageHwc, const torch::Tensor& maps, int grid, int query, int head,
                       const std::string& title, const std::string& path);

// The image with the context (blue) and target blocks (outlined); the image with every target
// patch replaced by the bank patch its prediction retrieved; the same for the true target tokens;
// the cosine of prediction and target per target patch as a heat map.
void writePredictorPng(const torch::Tensor& imageHwc, int grid, const std::vector<std::int64_t>& context,
                       const PredictorProbe& probe, const torch::Tensor& bankImages, const std::string& title,
                       const std::string& path);

} // namespace ijepa
