#include "core/io/encoder_export.h"

#include "core/data/augment.h"
#include "core/errors.h"
#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace ijepa {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Named = std::vector<std::pair<std::string, torch::Tensor>>;

// A module's parameters and buffers under their state-dict names, in module order.
Named tensorsOf(const torch::nn::Module& module, const std::string& prefix = "")
{
    Named out;
    for (const auto& p : module.named_parameters(true))
        out.emplace_back(prefix + p.key(), p.value().detach());
    for (const auto& b : module.named_buffers(true))
        out.emplace_back(prefix + b.key(), b.value().detach());
    return out;
}

// One tensor's name in the reference's layout and in Hugging Face IJepaModel's: a pattern and
// a format each way (the fused qkv is handled apart: query, key and value there).
struct NameRule {
    std::regex ours;
    const char* toHf;
    std::regex hf;
    const char* toOurs;
};

const std::vector<NameRule>& hfRules()
{
    static const std::vector<NameRule> rules{
        {std::regex(R"(^pos_embed$)"), "embeddings.position_embeddings", std::regex(R"(^embeddings\.position_embeddings$)"),
         "pos_embed"},
        {std::regex(R"(^patch_embed\.proj\.(\w+)$)"), "embeddings.patch_embeddings.projection.$1",
         std::regex(R"(^embeddings\.patch_embeddings\.projection\.(\w+)$)"), "patch_embed.proj.$1"},
        {std::regex(R"(^blocks\.(\d+)\.norm1\.(\w+)$)"), "encoder.layer.$1.layernorm_before.$2",
         std::regex(R"(^encoder\.layer\.(\d+)\.layernorm_before\.(\w+)$)"), "blocks.$1.norm1.$2"},
        {std::regex(R"(^blocks\.(\d+)\.attn\.proj\.(\w+)$)"), "encoder.layer.$1.attention.output.dense.$2",
         std::regex(R"(^encoder\.layer\.(\d+)\.attention\.output\.dense\.(\w+)$)"), "blocks.$1.attn.proj.$2"},
        {std::regex(R"(^blocks\.(\d+)\.norm2\.(\w+)$)"), "encoder.layer.$1.layernorm_after.$2",
         std::regex(R"(^encoder\.layer\.(\d+)\.layernorm_after\.(\w+)$)"), "blocks.$1.norm2.$2"},
        {std::regex(R"(^blocks\.(\d+)\.mlp\.fc1\.(\w+)$)"), "encoder.layer.$1.intermediate.dense.$2",
         std::regex(R"(^encoder\.layer\.(\d+)\.intermediate\.dense\.(\w+)$)"), "blocks.$1.mlp.fc1.$2"},
        {std::regex(R"(^blocks\.(\d+)\.mlp\.fc2\.(\w+)$)"), "encoder.layer.$1.output.dense.$2",
         std::regex(R"(^encoder\.layer\.(\d+)\.output\.dense\.(\w+)$)"), "blocks.$1.mlp.fc2.$2"},
        {std::regex(R"(^norm\.(\w+)$)"), "layernorm.$1", std::regex(R"(^layernorm\.(\w+)$)"), "norm.$1"},
    };
    return rules;
}
const std::regex kQkv(R"(^blocks\.(\d+)\.attn\.qkv\.(\w+)$)");
const std::regex kHfQkv(R"(^encoder\.layer\.(\d+)\.attention\.attention\.(query|key|value)\.(\w+)$)");
const char* const kQkvParts[] = {"query", "key", "value"};

Named toHf(const Named& ours)
{
    Named out;
    for (const auto& [name, t] : ours) {
        std::smatch m;
        if (std::regex_match(name, m, kQkv)) {
            const auto parts = t.chunk(3, 0);
            for (size_t i = 0; i < 3; ++i)
                out.emplace_back("encoder.layer." + m[1].str() + ".attention.attention." + kQkvParts[i] + "." + m[2].str(),
                                 parts[i].contiguous());
            continue;
        }
        const auto rule = std::find_if(hfRules().begin(), hfRules().end(), [&](const NameRule& r) { return std::regex_match(name, r.ours); });
        if (rule == hfRules().end())
            throw CheckpointError("export: no Hugging Face name for the encoder tensor '" + name + "'");
        out.emplace_back(std::regex_replace(name, rule->ours, rule->toHf), t);
    }
    return out;
}

// Hugging Face names back to the reference's (query, key and value fused again); a name it does
// not know is kept, for loadStateDict to list as unexpected.
Named fromHf(const Named& hf)
{
    Named out;
    std::map<std::string, std::array<torch::Tensor, 3>> qkv; // "N.weight" -> query, key, value
    for (auto [name, t] : hf) {
        if (name.rfind("ijepa.", 0) == 0) // IJepaForImageClassification holds the model under "ijepa."
            name = name.substr(6);
        std::smatch m;
        if (std::regex_match(name, m, kHfQkv)) {
            const auto which = static_cast<size_t>(std::find(std::begin(kQkvParts), std::end(kQkvParts), m[2].str()) - std::begin(kQkvParts));
            qkv[m[1].str() + "." + m[3].str()][which] = t;
            continue;
        }
        const auto rule = std::find_if(hfRules().begin(), hfRules().end(), [&](const NameRule& r) { return std::regex_match(name, r.hf); });
        out.emplace_back(rule == hfRules().end() ? name : std::regex_replace(name, rule->hf, rule->toOurs), t);
    }
    for (const auto& [key, parts] : qkv) {
        const auto dot = key.find('.');
        const std::string name = "blocks." + key.substr(0, dot) + ".attn.qkv." + key.substr(dot + 1);
        if (!parts[0].defined() || !parts[1].defined() || !parts[2].defined())
            throw CheckpointError("import: " + name + " needs query, key and value; some are missing");
        out.emplace_back(name, torch::cat({parts[0], parts[1], parts[2]}, 0));
    }
    return out;
}

// timm's I-JEPA models (vit_*_gap): the reference's names, its final norm as fc_norm.
Named toTimm(Named ours)
{
    for (auto& [name, t] : ours)
        if (name.rfind("norm.", 0) == 0)
            name = "fc_norm." + name.substr(5);
    return ours;
}

Named fromTimm(Named timm)
{
    for (auto& [name, t] : timm)
        if (name.rfind("fc_norm.", 0) == 0)
            name = "norm." + name.substr(8);
    return timm;
}

std::string safetensorsIn(const std::string& path)
{
    return fs::is_directory(path) ? (fs::path(path) / "model.safetensors").string() : path;
}

void writeJson(const Json& j, const std::string& path)
{
    std::ofstream out(path);
    out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (!out)
        throw CheckpointError(path + ": cannot write");
}

// config.json and preprocessor_config.json of a Hugging Face IJepaModel of this config.
void writeHfConfigs(const Config& config, const std::string& folder, bool bf16)
{
    const auto size = config.encoderSize();
    writeJson({{"model_type", "ijepa"},
               {"architectures", {"IJepaModel"}},
               {"hidden_size", size.embed_dim},
               {"num_hidden_layers", size.depth},
               {"num_attention_heads", size.num_heads},
               {"intermediate_size", 4 * size.embed_dim},
               {"image_size", config.data.crop_size},
               {"patch_size", config.mask.patch_size},
               {"num_channels", 3},
               {"layer_norm_eps", 1e-6},
               {"qkv_bias", true},
               {"hidden_act", "gelu"},
               {"hidden_dropout_prob", 0.0},
               {"attention_probs_dropout_prob", 0.0},
               {"initializer_range", 0.02},
               {"torch_dtype", bf16 ? "bfloat16" : "float32"}},
              folder + "/config.json");
    writeJson({{"image_processor_type", "ViTImageProcessor"},
               {"do_resize", true},
               {"size", {{"height", config.data.crop_size}, {"width", config.data.crop_size}}},
               {"resample", 2},
               {"do_rescale", true},
               {"rescale_factor", 1.0 / 255.0},
               {"do_normalize", true},
               {"image_mean", kImageNetMean},
               {"image_std", kImageNetStd}},
              folder + "/preprocessor_config.json");
}

} // namespace

ExportFormat parseExportFormat(const std::string& name)
{
    if (name == "safetensors")
        return ExportFormat::Safetensors;
    if (name == "timm")
        return ExportFormat::Timm;
    if (name == "hf")
        return ExportFormat::HuggingFace;
    throw ConfigError("--to: unknown format '" + name + "' (safetensors, timm or hf)");
}

std::vector<std::string> exportEncoder(const IJepaModel& model, const Config& config, const ExportOptions& o,
                                       const std::string& out)
{
    if (o.withPredictor && o.format != ExportFormat::Safetensors)
        throw ConfigError("--with-predictor: only the safetensors layout holds the predictor (timm and Hugging Face load encoders)");
    Named tensors = tensorsOf(o.context ? *model.encoder : *model.targetEncoder);
    if (o.withPredictor)
        for (auto& t : tensorsOf(*model.predictor, "predictor."))
            tensors.push_back(std::move(t));
    if (o.format == ExportFormat::Timm)
        tensors = toTimm(std::move(tensors));
    else if (o.format == ExportFormat::HuggingFace)
        tensors = toHf(tensors);
    SafeTensors file;
    for (auto& [name, t] : tensors)
        file.tensors.emplace_back(name, t.to(o.bf16 && t.is_floating_point() ? torch::kBFloat16 : torch::kFloat32));
    const char* formats[] = {"safetensors", "timm", "hf"};
    file.metadata = {{"config", dumpConfig(config)},
                     {"encoder", o.context ? "context" : "target"},
                     {"format", formats[static_cast<int>(o.format)]},
                     {"producer", "ijepa-workbench"}};
    if (o.format != ExportFormat::HuggingFace) {
        writeSafetensors(out, file);
        return {out};
    }
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec)
        throw CheckpointError(out + ": cannot create the folder (" + ec.message() + ")");
    writeSafetensors(out + "/model.safetensors", file);
    writeHfConfigs(config, out, o.bf16);
    return {out + "/model.safetensors", out + "/config.json", out + "/preprocessor_config.json"};
}

bool isExportedWeights(const std::string& path)
{
    std::error_code ec;
    return (path.size() > 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0) ||
           (fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / "model.safetensors", ec));
}

SafeTensors readExport(const std::string& path) { return readSafetensors(safetensorsIn(path)); }

Config exportedConfig(const std::string& path, const SafeTensors& file, const Config* fallback)
{
    if (const auto it = file.metadata.find("config"); it != file.metadata.end())
        return parseConfig(it->second, path + " (its __metadata__ config)");
    // A Hugging Face folder, or its model.safetensors picked inside it.
    std::error_code ec;
    const auto json = (fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path()) / "config.json";
    if (fs::is_regular_file(json, ec)) {
        Config c = fallback ? *fallback : Config{};
        try {
            const auto j = Json::parse(std::ifstream(json));
            c.meta.embed_dim = j.at("hidden_size").get<int>();
            c.meta.depth = j.at("num_hidden_layers").get<int>();
            c.meta.num_heads = j.at("num_attention_heads").get<int>();
            c.mask.patch_size = j.at("patch_size").get<int>();
            c.data.crop_size = j.at("image_size").get<int>();
        } catch (const Json::exception& e) {
            throw CheckpointError(json.string() + ": not a Hugging Face IJepa config (" + e.what() + ")");
        }
        validateConfig(c);
        return c;
    }
    if (!fallback)
        throw CheckpointError(path + ": the file carries no config (the number of heads is not in the weights); pass --config");
    return *fallback;
}

bool importWeights(const std::string& path, IJepaModel& model) { return importWeights(path, readExport(path), model); }

bool importWeights(const std::string& path, const SafeTensors& file, IJepaModel& model)
{
    Named encoder, predictor;
    for (const auto& [name, t] : file.tensors)
        (name.rfind("predictor.", 0) == 0 ? predictor : encoder).emplace_back(name, t);
    const auto has = [&](const std::string& name) { return file.find(name).defined(); };
    if (has("embeddings.position_embeddings") || has("ijepa.embeddings.position_embeddings"))
        encoder = fromHf(encoder);
    else if (has("fc_norm.weight"))
        encoder = fromTimm(std::move(encoder));
    const auto load = [&](torch::nn::Module& module, const Named& tensors, const std::string& prefix, const std::string& what) {
        c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
        for (const auto& [name, t] : tensors)
            dict.insert(name.substr(prefix.size()), t.to(torch::kFloat32));
        loadStateDict(module, dict, path + " (" + what + ")");
    };
    load(*model.encoder, encoder, "", "encoder");
    model.syncTargetEncoder();
    if (!predictor.empty())
        load(*model.predictor, predictor, "predictor.", "predictor");
    return !predictor.empty();
}

} // namespace ijepa
