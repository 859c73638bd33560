#include "core/masks/mask_stats.h"

#include "core/masks/multiblock_masks.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace ijepa {
namespace {

// Marks the cells of image b's masks ([num_masks, B, K] indices) in `cells`.
void markCells(const torch::Tensor& masks, int64_t b, std::vector<uint8_t>& cells)
{
    const auto acc = masks.accessor<int64_t, 3>();
    for (int64_t m = 0; m < masks.size(0); ++m)
        for (int64_t k = 0; k < masks.size(2); ++k)
            cells[static_cast<size_t>(acc[m][b][k])] = 1;
}

// One batch as drawn and as truncated (which cells the step really sees).
void addBatch(const MaskDraw& draw, const MaskBatch& kept, MaskStats& s, double& contextTotal, double& targetTotal)
{
    const size_t cells = s.context.size();
    const size_t keepEnc = static_cast<size_t>(kept.enc.size(2)), keepPred = static_cast<size_t>(kept.pred.size(2));
    for (size_t b = 0; b < draw.enc.size(); ++b) {
        std::vector<uint8_t> ctx(cells, 0), tgt(cells, 0);
        markCells(kept.enc, static_cast<int64_t>(b), ctx);
        markCells(kept.pred, static_cast<int64_t>(b), tgt);
        for (size_t c = 0; c < cells; ++c) {
            s.context[c] += ctx[c];
            s.target[c] += tgt[c];
            s.excluded[c] += !ctx[c] && !tgt[c];
        }
        for (const auto& m : draw.enc[b]) {
            s.contextBlock.push_back(draw.context.h * draw.context.w);
            s.contextKept.push_back(static_cast<int>(m.size()));
            s.contextTruncated.push_back(static_cast<int>(keepEnc));
            contextTotal += static_cast<double>(m.size());
            s.contextDropped += static_cast<double>(m.size() - keepEnc);
        }
        for (const auto& m : draw.pred[b]) {
            s.targetBlock.push_back(static_cast<int>(m.size()));
            s.targetAspect.push_back(static_cast<double>(draw.target.h) / std::max(1, draw.target.w));
            targetTotal += static_cast<double>(m.size());
            s.targetDropped += static_cast<double>(m.size() - keepPred);
        }
        ++s.images;
    }
}

} // namespace

double MaskStats::mean(const std::vector<int>& values) const
{
    return values.empty() ? 0.0 : std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

MaskStats computeMaskStats(const Config& config, int batches, std::int64_t startIteration,
                           const MaskStatsProgress& progress)
{
    MaskStats s;
    s.grid = config.gridSize();
    s.blockSizes = blockSizeSummary(config.mask, s.grid);
    const MaskSampler sampler(config.mask, s.grid, s.grid, static_cast<std::uint64_t>(config.meta.seed));
    const size_t cells = static_cast<size_t>(s.grid) * static_cast<size_t>(s.grid);
    s.context.assign(cells, 0.0);
    s.target.assign(cells, 0.0);
    s.excluded.assign(cells, 0.0);
    double contextTotal = 0, targetTotal = 0;
    for (int i = 0; i < batches; ++i) {
        const MaskDraw draw = sampler.drawAt(startIteration + i, config.data.batch_size);
        addBatch(draw, sampler.truncate(draw, startIteration + i), s, contextTotal, targetTotal);
        if (progress && !progress(i + 1, batches))
            break;
    }
    const double n = std::max<double>(1.0, static_cast<double>(s.images));
    for (size_t c = 0; c < cells; ++c) {
        s.context[c] /= n;
        s.target[c] /= n;
        s.excluded[c] /= n;
    }
    s.contextDropped = contextTotal > 0 ? s.contextDropped / contextTotal : 0.0;
    s.targetDropped = targetTotal > 0 ? s.targetDropped / targetTotal : 0.0;
    return s;
}

std::string maskStatsTable(const std::vector<std::string>& names, const std::vector<MaskStats>& stats)
{
    std::string out;
    char line[256];
    // Columns as wide as the longest name (never cut); counts without decimals.
    int width = 12;
    for (const auto& n : names)
        width = std::max(width, static_cast<int>(std::min<size_t>(n.size(), 120)));
    const auto row = [&](const char* label, const auto& value, int decimals = 3) {
        std::snprintf(line, sizeof line, "%-44s", label);
        out += line;
        for (const auto& s : stats) {
            std::snprintf(line, sizeof line, " %*.*f", width, decimals, value(s));
            out += line;
        }
        out += "\n";
    };
    std::snprintf(line, sizeof line, "%-44s", "");
    out += line;
    for (const auto& n : names) {
        std::snprintf(line, sizeof line, " %*.*s", width, width, n.c_str());
        out += line;
    }
    out += "\n";
    const auto lastRowCol = [](const std::vector<double>& m, int grid) {
        double sum = 0;
        for (int i = 0; i < grid; ++i)
            sum += m[static_cast<size_t>((grid - 1) * grid + i)] + m[static_cast<size_t>(i * grid + grid - 1)];
        return sum / (2 * grid);
    };
    const auto meanOf = [](const std::vector<double>& v) {
        return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    };
    row("images", [](const MaskStats& s) { return static_cast<double>(s.images); }, 0);
    row("context block (patches, before targets)", [](const MaskStats& s) { return s.mean(s.contextBlock); });
    row("context after removing targets", [](const MaskStats& s) { return s.mean(s.contextKept); });
    row("context after truncation", [](const MaskStats& s) { return s.mean(s.contextTruncated); });
    row("target block (patches)", [](const MaskStats& s) { return s.mean(s.targetBlock); });
    row("target aspect ratio (h/w)", [&](const MaskStats& s) { return meanOf(s.targetAspect); });
    row("context dropped by truncation (share)", [](const MaskStats& s) { return s.contextDropped; });
    row("target dropped by truncation (share)", [](const MaskStats& s) { return s.targetDropped; });
    row("cell is context (mean share)", [&](const MaskStats& s) { return meanOf(s.context); });
    row("cell is a target (mean share)", [&](const MaskStats& s) { return meanOf(s.target); });
    row("cell is neither (mean share)", [&](const MaskStats& s) { return meanOf(s.excluded); });
    row("last row/column is a target (share)", [&](const MaskStats& s) { return lastRowCol(s.target, s.grid); });
    for (size_t i = 0; i < stats.size(); ++i) {
        std::string sizes = stats[i].blockSizes;
        for (size_t at = sizes.find("; "); at != std::string::npos; at = sizes.find("; ", at))
            sizes.replace(at, 2, "\n  ");
        out += "block sizes (h x w patches) the draw can give, " + names[i] + ":\n  " + sizes + "\n";
    }
    return out;
}

} // namespace ijepa
