#include "core/io/checkpoint.h"
#include "app/ijepa/commands.h"
#include "core/errors.h"

#include <iomanip>
#include <iostream>
#include <map>
#include <set>

namespace ijepa::cli {
namespace {

struct NetSummary {
    int64_t params = 0;
    int depth = 0;
    std::vector<int64_t> shapeOf(const c10::Dict<c10::IValue, c10::IValue>& d, const std::string& key) const
    {
        for (const auto& prefix : {"module.", ""})
            if (d.contains(prefix + key))
                return d.at(prefix + key).toTensor().sizes().vec();
        return {};
    }
};

NetSummary summarise(const c10::IValue& sd, const std::string& blockPrefix)
{
    NetSummary s;
    std::set<std::string> blocks;
    for (const auto& e : sd.toGenericDict()) {
        std::string name = e.key().toStringRef();
        if (name.rfind("module.", 0) == 0)
            name = name.substr(7);
        if (e.value().isTensor())
            s.params += e.value().toTensor().numel();
        if (name.rfind(blockPrefix, 0) == 0)
            blocks.insert(name.substr(blockPrefix.size(), name.find('.', blockPrefix.size()) - blockPrefix.size()));
    }
    s.depth = static_cast<int>(blocks.size());
    return s;
}

std::string shape(const std::vector<int64_t>& v)
{
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

void runInfo(const std::string& path)
{
    const auto ckpt = readTorchFile(path);
    const CheckpointMeta meta = checkpointMeta(ckpt, path);
    const auto d = ckpt.toGenericDict();
    for (const char* key : {"encoder", "predictor", "target_encoder"})
        if (!d.contains(key) || !d.at(key).isGenericDict())
            throw CheckpointError(path + ": key '" + key + "' is missing or not a state dict");
    const auto enc = summarise(d.at("encoder"), "blocks.");
    const auto pred = summarise(d.at("predictor"), "predictor_blocks.");
    const auto encDict = d.at("encoder").toGenericDict();
    const auto patch = enc.shapeOf(encDict, "patch_embed.proj.weight"); // [D, C, p, p]
    const auto pos = enc.shapeOf(encDict, "pos_embed");                 // [1, N, D]
    const auto predEmbed = pred.shapeOf(d.at("predictor").toGenericDict(), "predictor_embed.weight");
    if (patch.size() != 4 || pos.size() != 3 || predEmbed.size() != 2)
        throw CheckpointError(path + ": key 'encoder': patch_embed.proj.weight or pos_embed missing or mis-shaped");
    const int64_t width = patch[0], patchSize = patch[2];
    const auto grid = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(pos[1]))));
    std::string preset = "custom";
    for (const char* name : {"vit_tiny", "vit_small", "vit_base", "vit_large", "vit_huge", "vit_giant"}) {
        const auto p = encoderPreset(name);
        if (p->embed_dim == width && p->depth == enc.depth)
            preset = name;
    }
    std::cout << "checkpoint   " << path << "\n"
              << "encoder      " << preset << ": width " << width << ", depth " << enc.depth << ", patch " << patchSize
              << ", grid " << grid << "x" << grid << " (crop " << grid * patchSize << "), " << enc.params
              << " parameters\n"
              << "predictor    width " << predEmbed[0] << ", depth " << pred.depth << ", " << pred.params
              << " parameters\n"
              << "target enc.  " << summarise(d.at("target_encoder"), "blocks.").params << " parameters\n"
              << "epoch        " << meta.epoch << (meta.iteration ? " (iteration " + std::to_string(meta.iteration) + ")" : "")
              << "\n"
              << "loss         " << meta.loss << "\n"
              << "batch size   " << meta.batchSize << " x " << meta.worldSize << " process(es)\n"
              << "lr           " << meta.lr << "\n";
    if (d.contains("opt") && d.at("opt").isGenericDict()) {
        const auto opt = d.at("opt").toGenericDict();
        if (opt.contains("param_groups") && opt.at("param_groups").isList() && opt.contains("state") &&
            opt.at("state").isGenericDict())
            std::cout << "optimiser    AdamW, " << opt.at("param_groups").toListRef().size() << " groups, state for "
                      << opt.at("state").toGenericDict().size() << " tensors\n";
        else
            std::cout << "optimiser    unreadable: 'opt' lacks a 'param_groups' list or a 'state' dict (cannot resume from it)\n";
    }
    std::cout << "written by   " << (meta.config ? "ijepa (config embedded)" : "the reference code (or ijepa without config)")
              << "\n";
}

} // namespace

void addInfoCommand(CLI::App& app)
{
    auto* cmd = app.add_subcommand("info", "Describe a checkpoint (ours or the reference's .pth.tar)");
    auto path = std::make_shared<std::string>();
    cmd->add_option("checkpoint", *path, "checkpoint file")->required();
    cmd->callback([path] { runInfo(*path); });
}

} // namespace ijepa::cli
