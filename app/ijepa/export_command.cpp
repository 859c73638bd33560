// ijepa export: a checkpoint's encoder as safetensors (the reference's names), for timm, or as a
// Hugging Face IJepaModel folder.
#include "app/ijepa/commands.h"
#include "core/errors.h"
#include "core/eval/embeddings.h"
#include "core/io/encoder_export.h"

#include <filesystem>
#include <iostream>

namespace ijepa::cli {
namespace {

struct ExportCliOptions {
    std::string checkpoint;
    ConfigOptions config;
    std::string to = "safetensors";
    std::string encoder = "target";
    std::string dtype = "f32";
    bool withPredictor = false;
    std::string out;
};

// The line that loads the export elsewhere.
std::string howToLoad(const ExportOptions& o, const Config& c, const std::string& out)
{
    const auto size = c.encoderSize();
    if (o.format == ExportFormat::Timm)
        return "timm: m = timm.models.VisionTransformer(img_size=" + std::to_string(c.data.crop_size) +
               ", patch_size=" + std::to_string(c.mask.patch_size) + ", embed_dim=" + std::to_string(size.embed_dim) +
               ", depth=" + std::to_string(size.depth) + ", num_heads=" + std::to_string(size.num_heads) +
               ", class_token=False, global_pool='avg', num_classes=0); "
               "m.load_state_dict(safetensors.torch.load_file('" + out + "'))";
    if (o.format == ExportFormat::HuggingFace)
        return "transformers: m = transformers.IJepaModel.from_pretrained('" + out + "')";
    return "safetensors: sd = safetensors.torch.load_file('" + out + "')  # the reference's encoder names";
}

void runExport(const ExportCliOptions& o)
{
    ExportOptions e;
    e.format = parseExportFormat(o.to);
    if (e.format == ExportFormat::HuggingFace ? std::filesystem::is_regular_file(o.out) : std::filesystem::is_directory(o.out))
        throw ConfigError("--out " + o.out + ": " + (e.format == ExportFormat::HuggingFace ? "is a file; --to hf writes a folder"
                                                                                              : "is a folder; --to " + o.to + " writes a file"));
    if (o.encoder != "target" && o.encoder != "context")
        throw ConfigError("--encoder: '" + o.encoder + "' (target or context)");
    if (o.dtype != "f32" && o.dtype != "bf16")
        throw ConfigError("--dtype: '" + o.dtype + "' (f32 or bf16)");
    e.context = o.encoder == "context";
    e.bf16 = o.dtype == "bf16";
    e.withPredictor = o.withPredictor;
    const Config cfg = o.config.path.empty() && o.config.overrides.empty() ? Config{} : o.config.load();
    const auto loaded = loadModel(o.checkpoint, o.config.path.empty() && o.config.overrides.empty() ? nullptr : &cfg);
    for (const auto& file : exportEncoder(*loaded.model, loaded.config, e, o.out))
        std::cout << "export: " << file << "\n";
    std::cout << "export: the " << o.encoder << " encoder" << (e.withPredictor ? " and the predictor" : "") << ", "
              << o.dtype << "; " << howToLoad(e, loaded.config, o.out) << "\n";
}

} // namespace

void addExportCommand(CLI::App& app)
{
    auto* cmd = app.add_subcommand("export", "Write a checkpoint's encoder as safetensors, for timm, or as a Hugging Face folder");
    auto o = std::make_shared<ExportCliOptions>();
    cmd->add_option("checkpoint", o->checkpoint, "checkpoint (ours, the reference's with --config) or an export")
        ->required()
        ->check(CLI::ExistingPath);
    cmd->add_option("--config,-c", o->config.path, "config of the checkpoint (default: the one it carries)")->check(CLI::ExistingFile);
    cmd->add_option("--to", o->to, "safetensors (the reference's names), timm (a .safetensors for timm's I-JEPA models) or hf (a folder)")
        ->capture_default_str();
    cmd->add_option("--encoder", o->encoder, "target (the paper's) or context")->capture_default_str();
    cmd->add_option("--dtype", o->dtype, "f32 or bf16")->capture_default_str();
    cmd->add_flag("--with-predictor", o->withPredictor, "safetensors: the predictor too (under predictor.)");
    cmd->add_option("--out", o->out, "the .safetensors file (safetensors, timm) or the folder (hf)")->required()->check(kOutputPath);
    cmd->callback([o] { runExport(*o); });
}

} // namespace ijepa::cli
