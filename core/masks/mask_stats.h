#pragma once

#include "core/config.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ijepa {

// The mask sampler as a distribution: what `batches` batches of a config (from `startIteration`)
// put where, counted per image. Cell maps are over the patch grid (row-major) and hold the share
// of images in which the cell is context, a target, or neither, for the masks the model receives
// (after truncation to the batch minimum). Size lists hold one value per image (per target block
// for the target lists), for histograms.
struct MaskStats {
    int grid = 0;
    std::int64_t images = 0;
    std::vector<double> context;  // [grid * grid] share of images where the cell is context
    std::vector<double> target;   // ... is in some target block
    std::vector<double> excluded; // ... is neither (both-excluded)
    std::vector<int> contextBlock;     // context block area, before the targets are removed
    std::vector<int> contextKept;      // context patches after removing the targets
    std::vector<int> contextTruncated; // after truncation to the batch minimum
    std::vector<int> targetBlock;      // target block patches before truncation (per block)
    std::vector<double> targetAspect;  // target block height / width (per block)
    double contextDropped = 0; // share of context patches removed by truncation
    double targetDropped = 0;  // share of target patches removed by truncation
    std::string blockSizes;    // every block size the setting can draw (blockSizeSummary)

    double mean(const std::vector<int>& values) const;
};

// Progress: (batches done, total); returning false cancels (the statistics so far are returned).
using MaskStatsProgress = std::function<bool(int done, int total)>;

// Samples `batches` batches of data.batch_size with the config's sampler (meta.seed) and counts.
// Throws ConfigError for impossible mask settings.
MaskStats computeMaskStats(const Config& config, int batches, std::int64_t startIteration = 0,
                           const MaskStatsProgress& progress = {});

// A plain-text table of the statistics (one column per setting), for `ijepa masks --stats`.
std::string maskStatsTable(const std::vector<std::string>& names, const std::vector<MaskStats>& stats);

} // namespace ijepa
