#include "app/ijepa/commands.h"
#include "core/errors.h"
#include "core/imageio/mask_render.h"
#include "core/masks/multiblock_masks.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace ijepa::cli {
namespace {

struct MasksOptions {
    ConfigOptions config;
    int batches = 1;
    std::string json;
    std::string png;
    int64_t startIteration = 0;
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

void runMasks(const MasksOptions& o)
{
    const Config config = o.config.load();
    const int grid = config.gridSize();
    MaskSampler sampler(config.mask, grid, grid, static_cast<uint64_t>(config.meta.seed));
    sampler.setIteration(o.startIteration);
    nlohmann::json doc{{"grid", {grid, grid}}, {"batches", nlohmann::json::array()}};
    double ctx = 0, tgt = 0;
    for (int i = 0; i < o.batches; ++i) {
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
        out << doc.dump();
        if (!out)
            throw DataError(o.json + ": cannot write");
    }
    std::cout << "grid " << grid << "x" << grid << ", sampler " << config.mask.sampler << " (" << config.mask.position_mode
              << "), " << o.batches << " batches of " << config.data.batch_size << ": mean context " << ctx / o.batches
              << ", mean target block " << tgt / o.batches << " patches\n";
}

} // namespace

void addMasksCommand(CLI::App& app)
{
    auto* cmd = app.add_subcommand("masks", "Sample context/target masks and write them as JSON and a PNG grid");
    auto o = std::make_shared<MasksOptions>();
    addConfigOptions(*cmd, o->config, /*required=*/false);
    cmd->add_option("--batches,-n", o->batches, "batches to sample")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--json", o->json, "write {grid, batches:[{enc:[nenc][B][K], pred:[npred][B][Kp]}]}");
    cmd->add_option("--png", o->png, "write a PNG grid of the first batch's masks");
    cmd->add_option("--iteration", o->startIteration, "iteration counter of the first batch")->capture_default_str();
    cmd->callback([o] { runMasks(*o); });
}

} // namespace ijepa::cli
