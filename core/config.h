#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace ijepa {

// One struct per section of the reference YAML schema (configs/*.yaml in facebookresearch/ijepa);
// member names are the YAML keys. Keys marked "extension" are this project's own; the reference
// ignores them.

struct DataConfig {
    int batch_size = 128;                       // images per batch per process
    double color_jitter_strength = 0.0;         // reference key; augmentation off by default
    std::array<double, 2> crop_scale{0.3, 1.0}; // RandomResizedCrop area range
    int crop_size = 224;                        // square input side in pixels
    std::string image_folder;                   // image folder, relative to root_path
    int num_workers = 10;                       // loader threads
    bool pin_mem = true;                        // pinned host memory for CUDA copies
    std::string root_path;                      // data root
    bool use_color_distortion = false;          // reference key (off in every reference config)
    bool use_gaussian_blur = false;             // reference key (off in every reference config)
    bool use_horizontal_flip = false;           // reference key (off in every reference config)
};

struct LoggingConfig {
    std::string folder = ".";      // where logs and checkpoints go
    std::string write_tag = "jepa"; // file name prefix: <tag>_r0.csv, <tag>-latest.pth.tar
};

struct MaskConfig {
    bool allow_overlap = false;                      // let the context overlap the targets
    std::array<double, 2> aspect_ratio{0.75, 1.5};   // target block aspect ratio range (h/w)
    std::array<double, 2> enc_mask_scale{0.85, 1.0}; // context block area range (fraction of patches)
    int min_keep = 10;                               // a mask keeps strictly more patches than this
    int num_enc_masks = 1;                           // context blocks per image
    int num_pred_masks = 4;                          // target blocks per image
    int patch_size = 16;                             // ViT patch side in pixels
    std::array<double, 2> pred_mask_scale{0.15, 0.2}; // target block area range
    std::string sampler = "multiblock";              // extension: multiblock|random|block|rasterized
    std::string position_mode = "faithful";          // extension: faithful|corrected (see core/masks/multiblock_masks.h)
    std::string truncation = "prefix";               // extension: prefix|random (see core/masks/multiblock_masks.h)
};

struct MetaConfig {
    bool copy_data = false;                      // reference key, unused here
    bool load_checkpoint = false;                // resume from read_checkpoint or <tag>-latest
    std::string model_name = "vit_base";         // vit_tiny|vit_small|vit_base|vit_large|vit_huge
    int pred_depth = 6;                          // predictor blocks
    int pred_emb_dim = 384;                      // predictor width
    std::optional<std::string> read_checkpoint;  // checkpoint to resume from (null: latest)
    bool use_bfloat16 = false;                   // bf16 autocast on CUDA, and on CPUs with bf16 products
    std::string cpu_bf16 = "auto";               // extension: auto (bf16 where measured faster) | always
    std::optional<int> embed_dim;                // extension: custom encoder width (overrides preset)
    std::optional<int> depth;                    // extension: custom encoder depth
    std::optional<int> num_heads;                // extension: custom head count
    int seed = 0;                                // extension: RNG seed for weights, masks and data
};

struct OptimizationConfig {
    std::array<double, 2> ema{0.996, 1.0}; // EMA momentum, start and end
    int epochs = 300;                      // training epochs
    double final_lr = 1e-6;                // learning rate at the end of the cosine
    double final_weight_decay = 0.4;       // weight decay at the end of the cosine
    double ipe_scale = 1.0;                // schedules span ipe_scale * epochs * iterations/epoch
    double lr = 1e-3;                      // peak learning rate after warmup
    double start_lr = 2e-4;                // learning rate at step 0
    double warmup = 40;                    // warmup length in epochs
    double weight_decay = 0.04;            // weight decay at step 0
};

// Extension: the loss beyond the reference's smooth-L1 (absent: the reference's loss, bitwise).
// loss = (1 - sigreg_weight) * JEPA + sigreg_weight * SIGReg (core/train/sigreg.h).
struct LossConfig {
    double sigreg_weight = 0.0;               // lambda in [0, 1); 0: SIGReg off
    int sigreg_slices = 256;                  // random 1-D projections per step
    int sigreg_knots = 17;                    // trapezoid knots on [0, 3]
    std::string sigreg_on = "context_pooled"; // context_pooled (mean of the context encoder's tokens) | context_tokens
                                              // | projector (LeJEPA's MLP head on the pooled tokens)
    int projector_hidden = 512;               // projector: Linear-BN-ReLU twice at this width,
    int projector_dim = 64;                   // then Linear to this; trained, never used as features
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
};
std::vector<ConfigEntry> configEntries(const Config& config);

} // namespace ijepa
