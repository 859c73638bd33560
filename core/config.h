#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace ijepa {

// One struct per section of the reference YAML schema (configs/*.yaml in facebookresearch/ijepa);
// member names are the YAML keys and their initialisers the defaults. What each key means, its
// range and whether it is this project's extension: core/config_schema.h (the one table, printed
// by `ijepa config keys` and in docs/reference/config.md).

struct DataConfig {
    int batch_size = 128;
    double color_jitter_strength = 0.0;
    std::array<double, 2> crop_scale{0.3, 1.0};
    int crop_size = 224;
    std::string image_folder;
    int num_workers = 10;
    bool pin_mem = true;
    std::string root_path;
    bool use_color_distortion = false;
    bool use_gaussian_blur = false;
    bool use_horizontal_flip = false;
};

struct LoggingConfig {
    std::string folder = ".";
    std::string write_tag = "jepa";
};

struct MaskConfig {
    bool allow_overlap = false;
    std::array<double, 2> aspect_ratio{0.75, 1.5};
    std::array<double, 2> enc_mask_scale{0.85, 1.0};
    int min_keep = 10;
    int num_enc_masks = 1;
    int num_pred_masks = 4;
    int patch_size = 16;
    std::array<double, 2> pred_mask_scale{0.15, 0.2};
    std::string sampler = "multiblock";
    std::string position_mode = "faithful";
    std::string truncation = "prefix";
};

struct MetaConfig {
    bool copy_data = false;
    bool load_checkpoint = false;
    std::string model_name = "vit_base";
    int pred_depth = 6;
    int pred_emb_dim = 384;
    std::optional<std::string> read_checkpoint;
    bool use_bfloat16 = false;
    std::string cpu_bf16 = "auto";
    std::optional<int> embed_dim;
    std::optional<int> depth;
    std::optional<int> num_heads;
    int seed = 0;
};

struct OptimizationConfig {
    std::array<double, 2> ema{0.996, 1.0};
    int epochs = 300;
    double final_lr = 1e-6;
    double final_weight_decay = 0.4;
    double ipe_scale = 1.0;
    double lr = 1e-3;
    double start_lr = 2e-4;
    double warmup = 40;
    double weight_decay = 0.04;
};

// Extension: the loss beyond the reference's smooth-L1 (absent: the reference's loss, bitwise).
// loss = (1 - sigreg_weight) * JEPA + sigreg_weight * SIGReg (core/train/sigreg.h).
struct LossConfig {
    double sigreg_weight = 0.0;
    int sigreg_slices = 256;
    int sigreg_knots = 17;
    std::string sigreg_on = "context_pooled";
    int projector_hidden = 512;
    int projector_dim = 64;
};

// Encoder size resolved from meta.model_name and the optional custom overrides.
struct EncoderSize {
    int embed_dim = 768;
    int depth = 12;
    int num_heads = 12;
};

struct Config {
    DataConfig data;
    LoggingConfig logging;
    MaskConfig mask;
    MetaConfig meta;
    OptimizationConfig optimization;
    LossConfig loss;

    // Returns the encoder width/depth/heads; throws ConfigError for an unknown model_name.
    EncoderSize encoderSize() const;
    int gridSize() const { return data.crop_size / mask.patch_size; }
};

// Encoder presets of the reference (vision_transformer.py): name -> width/depth/heads.
std::optional<EncoderSize> encoderPreset(const std::string& modelName);

// Reads a YAML file in the reference schema; an unknown section or key (with the nearest valid
// name), a wrong type or an invalid value throws ConfigError naming the file and key. The result is validated.
Config loadConfig(const std::string& path);
Config parseConfig(const std::string& yamlText, const std::string& sourceName = "<config>");
std::string dumpConfig(const Config& config);
void saveConfig(const Config& config, const std::string& path);

// Applies one "section.key=value" override (as from the command line); type errors throw
// ConfigError naming the key. Call validateConfig once all overrides are applied.
void applyOverride(Config& config, const std::string& assignment);

// Throws ConfigError with the offending key for any value out of range or inconsistent.
void validateConfig(const Config& config);

// One key of the schema with its current value as YAML flow text (what applyOverride takes back;
// strings unquoted, so quote them before passing them back), in schema order; for editors.
struct ConfigEntry {
    std::string section;
    std::string key;
    std::string value; // e.g. "128", "0.001", "true", "vit_tiny", "[0.3, 1.0]", "~"
    std::string type;  // int, number, bool, string, pair, optional int, optional string
    std::string doc;   // its meaning and range (core/config_schema.h)
};
std::vector<ConfigEntry> configEntries(const Config& config);

} // namespace ijepa
