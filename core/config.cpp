#include "core/config.h"
#include "core/config_schema.h"

#include "core/errors.h"
#include "core/io/atomic_file.h"
#include "core/masks/multiblock_masks.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace ijepa {
namespace {

using schema::forEachField;

template <class T> const char* typeName();
template <> const char* typeName<int>() { return "an integer"; }
template <> const char* typeName<double>() { return "a number"; }
template <> const char* typeName<bool>() { return "true or false"; }
template <> const char* typeName<std::string>() { return "a string"; }

// Reads one YAML node into a member; null is accepted only by optional members.
template <class T>
void readNode(const YAML::Node& node, T& out)
{
    if (!node.IsScalar())
        throw std::invalid_argument(std::string("expected ") + typeName<T>());
    try {
        out = node.as<T>();
    } catch (const YAML::Exception&) {
        throw std::invalid_argument(std::string("expected ") + typeName<T>() + ", got '" + node.Scalar() + "'");
    }
}

void readNode(const YAML::Node& node, std::array<double, 2>& out)
{
    if (!node.IsSequence() || node.size() != 2)
        throw std::invalid_argument("expected a list of two numbers, e.g. [0.15, 0.2]");
    for (size_t i = 0; i < 2; ++i)
        readNode(node[i], out[i]);
}

template <class T>
void readNode(const YAML::Node& node, std::optional<T>& out)
{
    if (node.IsNull()) {
        out.reset();
        return;
    }
    T value{};
    readNode(node, value);
    out = value;
}

template <class T>
void emit(YAML::Emitter& e, const T& v) { e << v; }
void emit(YAML::Emitter& e, double v)
{
    // The shortest text that reads back to the same double (0.3, not 0.29999999999999999).
    char buffer[64];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;
    std::string text(buffer, end);
    if (text.find_first_of(".eEn") == std::string::npos)
        text += ".0"; // keep floats floats for PyYAML readers
    e << text;
}
void emit(YAML::Emitter& e, const std::array<double, 2>& v)
{
    e << YAML::BeginSeq;
    emit(e, v[0]);
    emit(e, v[1]);
    e << YAML::EndSeq;
}
template <class T>
void emit(YAML::Emitter& e, const std::optional<T>& v)
{
    if (v)
        emit(e, *v);
    else
        e << YAML::Null;
}

template <class T> struct TypeLabel { static constexpr const char* value = ""; };
template <> struct TypeLabel<int> { static constexpr const char* value = "int"; };
template <> struct TypeLabel<double> { static constexpr const char* value = "number"; };
template <> struct TypeLabel<bool> { static constexpr const char* value = "bool"; };
template <> struct TypeLabel<std::string> { static constexpr const char* value = "string"; };
template <> struct TypeLabel<std::array<double, 2>> { static constexpr const char* value = "pair"; };
template <> struct TypeLabel<std::optional<int>> { static constexpr const char* value = "optional int"; };
template <> struct TypeLabel<std::optional<std::string>> { static constexpr const char* value = "optional string"; };

// Edit distance (insertions, deletions, substitutions, adjacent swaps) for "did you mean".
size_t editDistance(const std::string& a, const std::string& b)
{
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t cost = std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

// Every "section.key" of the schema.
std::vector<std::string> schemaKeys()
{
    Config c;
    std::vector<std::string> keys;
    forEachField(c, [&](const char* section, const char* key, auto&) { keys.push_back(std::string(section) + "." + key); });
    return keys;
}

// How far `typed` is from `valid`: the edit distance of the last dotted parts (the key), 1 more when
// the sections differ, and at most 1 when one key holds the other (model -> model_name).
size_t nameDistance(const std::string& typed, const std::string& valid)
{
    const auto split = [](const std::string& s) {
        const auto dot = s.find('.');
        return dot == std::string::npos ? std::pair{std::string(), s} : std::pair{s.substr(0, dot), s.substr(dot + 1)};
    };
    const auto [typedSection, typedKey] = split(typed);
    const auto [validSection, validKey] = split(valid);
    size_t d = editDistance(typedKey, validKey);
    if (typedKey.size() >= 3 && (validKey.find(typedKey) != std::string::npos || typedKey.find(validKey) != std::string::npos))
        d = std::min<size_t>(d, 1);
    return d + (typedSection == validSection ? 0 : 1);
}

// "unknown key 'data.batch_szie' (did you mean data.batch_size?)": the nearest valid name within
// a third of the key's length, else the valid names of the same section (all of them for a section).
std::string unknownName(const std::string& what, const std::string& name, const std::vector<std::string>& candidates)
{
    std::string best;
    size_t bestDistance = std::max<size_t>(2, (name.size() - name.find('.') - 1) / 3) + 1;
    for (const auto& c : candidates) {
        const size_t d = nameDistance(name, c);
        if (d < bestDistance) {
            bestDistance = d;
            best = c;
        }
    }
    if (!best.empty())
        return "unknown " + what + " '" + name + "' (did you mean " + best + "?)";
    const std::string section = name.substr(0, name.find('.') + 1);
    std::string list;
    for (const auto& c : candidates)
        if (c.compare(0, section.size(), section) == 0)
            list += (list.empty() ? "" : ", ") + c;
    return "unknown " + what + " '" + name + "' (valid: " + list + ")";
}

// Refuses any section or key of the file the schema does not have; a typo would otherwise train
// with the default silently (batch_szie: 16 trained at 128).
void refuseUnknownKeys(const YAML::Node& root, const std::string& sourceName)
{
    const std::vector<std::string> keys = schemaKeys();
    std::vector<std::string> sections;
    for (const auto& k : keys) {
        const std::string s = k.substr(0, k.find('.'));
        if (std::find(sections.begin(), sections.end(), s) == sections.end())
            sections.push_back(s);
    }
    for (const auto& entry : root) {
        if (!entry.first.IsScalar())
            throw ConfigError(sourceName + ": a section name must be a word (data, mask, ...), not a list or mapping");
        const std::string section = entry.first.Scalar();
        if (std::find(sections.begin(), sections.end(), section) == sections.end())
            throw ConfigError(sourceName + ": " + unknownName("section", section, sections));
        const YAML::Node& body = entry.second;
        if (body.IsNull())
            continue; // "loss:" with every key commented out: the defaults
        if (!body.IsMap()) {
            const auto first = std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.rfind(section + ".", 0) == 0; });
            throw ConfigError(sourceName + ": section '" + section + "' must be a mapping of its keys (for example " +
                              section + ": {" + first->substr(section.size() + 1) + ": ...}), got '" +
                              (body.IsScalar() ? body.Scalar() : "a list") + "'");
        }
        for (const auto& item : body) {
            if (!item.first.IsScalar())
                throw ConfigError(sourceName + ": section '" + section + "' has a list or mapping as a key name");
            const std::string name = section + "." + item.first.Scalar();
            if (std::find(keys.begin(), keys.end(), name) == keys.end())
                throw ConfigError(sourceName + ": " + unknownName("key", name, keys));
        }
    }
}

void check(bool ok, const std::string& key, const std::string& message)
{
    if (!ok)
        throw ConfigError("key '" + key + "': " + message);
}

void checkRange(const std::array<double, 2>& r, const std::string& key, double lo, double hi)
{
    std::ostringstream s;
    s << "must be two numbers with " << lo << " < first <= second <= " << hi << ", got [" << r[0] << ", " << r[1] << "]";
    check(r[0] > lo && r[0] <= r[1] && r[1] <= hi, key, s.str());
}

} // namespace

std::optional<EncoderSize> encoderPreset(const std::string& name)
{
    static const std::map<std::string, EncoderSize> presets{
        {"vit_tiny", {192, 12, 3}},    {"vit_small", {384, 12, 6}},  {"vit_base", {768, 12, 12}},
        {"vit_large", {1024, 24, 16}}, {"vit_huge", {1280, 32, 16}}, {"vit_giant", {1408, 40, 16}},
    };
    auto it = presets.find(name);
    if (it == presets.end())
        return std::nullopt;
    return it->second;
}

EncoderSize Config::encoderSize() const
{
    auto preset = encoderPreset(meta.model_name);
    if (!preset && !(meta.embed_dim && meta.depth && meta.num_heads))
        throw ConfigError("key 'meta.model_name': unknown model '" + meta.model_name +
                          "' (use vit_tiny, vit_small, vit_base, vit_large, vit_huge, vit_giant, or set "
                          "meta.embed_dim, meta.depth and meta.num_heads)");
    EncoderSize size = preset.value_or(EncoderSize{});
    if (meta.embed_dim) size.embed_dim = *meta.embed_dim;
    if (meta.depth) size.depth = *meta.depth;
    if (meta.num_heads) size.num_heads = *meta.num_heads;
    return size;
}

Config parseConfig(const std::string& yamlText, const std::string& sourceName)
{
    YAML::Node root;
    try {
        root = YAML::Load(yamlText);
    } catch (const YAML::Exception& e) {
        throw ConfigError(sourceName + ": not valid YAML: " + e.what());
    }
    if (!root.IsMap())
        throw ConfigError(sourceName + ": expected a mapping with sections data, logging, mask, meta, optimization");
    refuseUnknownKeys(root, sourceName);
    Config config;
    forEachField(config, [&](const char* section, const char* key, auto& member) {
        const YAML::Node sec = root[section];
        if (!sec || !sec.IsMap())
            return;
        const YAML::Node node = sec[key];
        if (!node)
            return;
        try {
            readNode(node, member);
        } catch (const std::invalid_argument& e) {
            throw ConfigError(sourceName + ": key '" + section + "." + key + "': " + e.what());
        }
    });
    try {
        validateConfig(config);
    } catch (const ConfigError& e) {
        throw ConfigError(sourceName + ": " + e.what());
    }
    return config;
}

Config loadConfig(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw ConfigError(path + ": cannot open config file");
    std::stringstream text;
    text << in.rdbuf();
    return parseConfig(text.str(), path);
}

std::string dumpConfig(const Config& config)
{
    Config copy = config;
    YAML::Emitter e;
    e << YAML::BeginMap;
    std::string open;
    forEachField(copy, [&](const char* section, const char* key, auto& member) {
        if (open != section) {
            if (!open.empty())
                e << YAML::EndMap;
            e << YAML::Key << section << YAML::Value << YAML::BeginMap;
            open = section;
        }
        e << YAML::Key << key << YAML::Value;
        emit(e, member);
    });
    e << YAML::EndMap << YAML::EndMap;
    return std::string(e.c_str()) + "\n";
}

void saveConfig(const Config& config, const std::string& path)
{
    const std::string text = dumpConfig(config);
    writeTextAtomically(path, text);
}

std::vector<ConfigEntry> configEntries(const Config& config)
{
    Config copy = config;
    std::vector<ConfigEntry> entries;
    forEachField(copy, [&](const char* section, const char* key, auto& member, const char* doc) {
        using T = std::decay_t<decltype(member)>;
        std::string text;
        if constexpr (std::is_same_v<T, std::string>) {
            text = member;
        } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
            text = member ? *member : "~";
        } else {
            YAML::Emitter e;
            e.SetSeqFormat(YAML::Flow);
            emit(e, member);
            text = e.c_str();
        }
        entries.push_back({section, key, text, TypeLabel<T>::value, doc});
    });
    return entries;
}

void applyOverride(Config& config, const std::string& assignment)
{
    const auto eq = assignment.find('=');
    const auto dot = assignment.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq)
        throw ConfigError("override '" + assignment + "': expected section.key=value, e.g. mask.patch_size=4");
    const std::string section = assignment.substr(0, dot);
    const std::string key = assignment.substr(dot + 1, eq - dot - 1);
    const std::string value = assignment.substr(eq + 1);
    bool found = false;
    forEachField(config, [&](const char* s, const char* k, auto& member) {
        if (section != s || key != k)
            return;
        found = true;
        try {
            readNode(YAML::Load(value), member);
        } catch (const std::exception& e) {
            throw ConfigError("key '" + section + "." + key + "': " + e.what());
        }
    });
    if (!found)
        throw ConfigError("override '" + assignment + "': " + unknownName("key", section + "." + key, schemaKeys()));
}

void validateConfig(const Config& c)
{
    check(c.data.batch_size > 0, "data.batch_size", "must be positive");
    check(c.data.crop_size > 0, "data.crop_size", "must be positive");
    check(c.data.num_workers >= 0, "data.num_workers", "must be zero or positive");
    checkRange(c.data.crop_scale, "data.crop_scale", 0.0, 1.0);
    check(c.mask.patch_size > 0, "mask.patch_size", "must be positive");
    check(c.data.crop_size % c.mask.patch_size == 0, "mask.patch_size",
          "must divide data.crop_size (" + std::to_string(c.data.crop_size) + " is not a multiple of " +
              std::to_string(c.mask.patch_size) + ")");
    check(c.gridSize() >= 2, "mask.patch_size", "leaves fewer than 2x2 patches at data.crop_size");
    checkRange(c.mask.enc_mask_scale, "mask.enc_mask_scale", 0.0, 1.0);
    checkRange(c.mask.pred_mask_scale, "mask.pred_mask_scale", 0.0, 1.0);
    checkRange(c.mask.aspect_ratio, "mask.aspect_ratio", 0.0, 1e6);
    check(c.mask.min_keep >= 0, "mask.min_keep", "must be zero or positive");
    check(c.mask.num_enc_masks >= 1, "mask.num_enc_masks", "must be at least 1");
    check(c.mask.num_pred_masks >= 1, "mask.num_pred_masks", "must be at least 1");
    check(c.meta.pred_depth >= 1, "meta.pred_depth", "must be at least 1");
    check(c.meta.pred_emb_dim > 0, "meta.pred_emb_dim", "must be positive");
    check(c.optimization.epochs > 0, "optimization.epochs", "must be positive");
    check(c.optimization.warmup >= 0, "optimization.warmup", "must be zero or positive");
    check(c.optimization.ipe_scale > 0, "optimization.ipe_scale", "must be positive");
    check(c.optimization.lr >= 0 && c.optimization.start_lr >= 0 && c.optimization.final_lr >= 0,
          "optimization.lr", "learning rates (start_lr, lr, final_lr) must be zero or positive");
    check(c.optimization.weight_decay >= 0 && c.optimization.final_weight_decay >= 0,
          "optimization.weight_decay", "weight decays must be zero or positive");
    const auto& ema = c.optimization.ema;
    check(ema[0] >= 0 && ema[0] <= ema[1] && ema[1] <= 1, "optimization.ema",
          "must be two momenta with 0 <= first <= second <= 1");

    const EncoderSize size = c.encoderSize();
    check(size.embed_dim > 0 && size.depth > 0 && size.num_heads > 0, "meta.embed_dim",
          "embed_dim, depth and num_heads must be positive");
    check(size.embed_dim % size.num_heads == 0, "meta.num_heads",
          "encoder width " + std::to_string(size.embed_dim) + " must be divisible by num_heads " +
              std::to_string(size.num_heads));
    check(size.embed_dim % 4 == 0, "meta.embed_dim", "must be a multiple of 4 (2-D sin-cos position embedding)");
    check(c.meta.pred_emb_dim % size.num_heads == 0, "meta.pred_emb_dim",
          "predictor width " + std::to_string(c.meta.pred_emb_dim) + " must be divisible by the encoder's num_heads " +
              std::to_string(size.num_heads));
    check(c.meta.pred_emb_dim % 4 == 0, "meta.pred_emb_dim", "must be a multiple of 4 (2-D sin-cos position embedding)");

    check(c.meta.cpu_bf16 == "auto" || c.meta.cpu_bf16 == "always", "meta.cpu_bf16", "must be auto or always");

    check(c.loss.sigreg_weight >= 0 && c.loss.sigreg_weight < 1, "loss.sigreg_weight",
          "must be in [0, 1) (loss = (1 - w) * JEPA + w * SIGReg)");
    check(c.loss.sigreg_slices >= 1 && c.loss.sigreg_slices <= 65536, "loss.sigreg_slices", "must be in 1..65536");
    check(c.loss.sigreg_knots >= 2 && c.loss.sigreg_knots <= 10000, "loss.sigreg_knots", "must be in 2..10000");
    check(c.loss.sigreg_on == "context_pooled" || c.loss.sigreg_on == "context_tokens" || c.loss.sigreg_on == "projector",
          "loss.sigreg_on", "must be context_pooled, context_tokens or projector");
    check(c.loss.projector_hidden >= 1 && c.loss.projector_hidden <= 65536, "loss.projector_hidden", "must be in 1..65536");
    check(c.loss.projector_dim >= 1 && c.loss.projector_dim <= 65536, "loss.projector_dim", "must be in 1..65536");

    validateMaskSettings(c.mask, c.gridSize());
}

} // namespace ijepa
