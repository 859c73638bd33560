#include "app/ijepa/commands.h"
#include "core/errors.h"
#include "core/imageio/mask_render.h"
#include "core/imageio/viz_render.h"
#include "core/masks/mask_stats.h"
#include "core/masks/multiblock_masks.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>

namespace ijepa::cli {
namespace {

struct MasksOptions {
    ConfigOptions config;
    int batches = 0; // 0: 1, or 200 with --stats
    std::string json;
    std::string png;
    int64_t startIteration = 0;
    bool stats = false;
    std::string heatmaps;
    std::vector<std::string> compare;
};

nlohmann::json toJson(const torch::Tensor& masks)
{
    nlohmann::json out = nlohmann::json::array();
    for (int64_t m = 0; m < masks.size(0); ++m) {
        nlohmann::json perImage = nlohmann::json::array();
        for (int64_t b = 0; b < masks.size(1); ++b) {
            auto row = masks[m][b].contiguous();
            perImage.push_back(std::vector<int64_t>(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel()));
        }
        out.push_back(perImage);
    }
    return out;
}

// The sampler as a distribution: a table of one or two settings, the heat maps as a PNG.
void runStats(const MasksOptions& o)
{
    const int batches = o.batches > 0 ? o.batches : 200;
    std::vector<std::string> names{o.config.path.empty() ? "defaults" : o.config.path};
    std::vector<Config> configs{o.config.load()};
    if (!o.compare.empty()) {
        Config other = configs.front();
        std::string name;
        for (const auto& c : o.compare) {
            applyOverride(other, c);
            name += (name.empty() ? "" : " ") + c.substr(c.find('.') + 1);
        }
        validateConfig(other);
        names.front() = "as configured";
        names.push_back(name);
        configs.push_back(other);
    }
    std::vector<MaskStats> stats;
    for (const auto& c : configs)
        stats.push_back(computeMaskStats(c, batches, o.startIteration));
    std::cout << "mask statistics: " << batches << " batches of " << configs.front().data.batch_size << " from iteration "
              << o.startIteration << ", " << stats.front().grid << "x" << stats.front().grid << " patch grid\n"
              << maskStatsTable(names, stats);
    if (!o.heatmaps.empty()) {
        writeMaskStatsPng(names, stats, o.heatmaps);
        std::cout << "heat maps: " << o.heatmaps << "\n";
    }
}

void runMasks(const MasksOptions& o)
{
    if (o.stats)
        return runStats(o);
    const Config config = o.config.load();
    const int grid = config.gridSize();
    MaskSampler sampler(config.mask, grid, grid, static_cast<uint64_t>(config.meta.seed));
    sampler.setIteration(o.startIteration);
    nlohmann::json doc{{"grid", {grid, grid}}, {"batches", nlohmann::json::array()}};
    double ctx = 0, tgt = 0;
    const int batches = std::max(1, o.batches);
    for (int i = 0; i < batches; ++i) {
        const MaskBatch b = sampler.sample(config.data.batch_size);
        ctx += static_cast<double>(b.enc.size(2));
        tgt += static_cast<double>(b.pred.size(2));
        if (!o.json.empty())
            doc["batches"].push_back({{"enc", toJson(b.enc)}, {"pred", toJson(b.pred)}});
        if (i == 0 && !o.png.empty())
            writeMaskGrid(b, grid, grid, o.png);
    }
    if (!o.json.empty()) {
        std::ofstream out(o.json);
        out << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (!out)
            throw DataError(o.json + ": cannot write");
    }
    std::cout << "grid " << grid << "x" << grid << ", sampler " << config.mask.sampler << " (" << config.mask.position_mode
              << "), " << batches << " batches of " << config.data.batch_size << ": mean context " << ctx / batches
              << ", mean target block " << tgt / batches << " patches\n";
}

} // namespace

void addMasksCommand(CLI::App& app)
{
    auto* cmd = app.add_subcommand("masks", "Sample context/target masks and write them as JSON and a PNG grid");
    auto o = std::make_shared<MasksOptions>();
    addConfigOptions(*cmd, o->config, /*required=*/false);
    cmd->add_option("--batches,-n", o->batches, "batches to sample (default 1; 200 with --stats)")->check(CLI::Range(1, 1000000));
    cmd->add_option("--json", o->json, "write {grid, batches:[{enc:[nenc][B][K], pred:[npred][B][Kp]}]}")->check(kOutputFile);
    cmd->add_option("--png", o->png, "write a PNG grid of the first batch's masks")->check(kOutputFile);
    cmd->add_option("--iteration", o->startIteration, "iteration counter of the first batch")->capture_default_str()->check(kStepRange);
    cmd->add_flag("--stats", o->stats, "print the sampler's statistics over the batches (where patches are context, "
                                       "target or neither; context and target sizes; truncation)");
    cmd->add_option("--heatmaps", o->heatmaps, "with --stats: write the context/target/neither heat maps as a PNG")->check(kOutputFile);
    cmd->add_option("--compare", o->compare, "with --stats: a second setting, these key=value changes on top of the "
                                             "first (e.g. --compare mask.position_mode=corrected)")
        ->allow_extra_args(false);
    cmd->callback([o] { runMasks(*o); });
}

} // namespace ijepa::cli
