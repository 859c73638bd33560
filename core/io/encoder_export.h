#pragma once

// Taking an encoder out in the layouts other tools load (safetensors under the reference's names,
// timm's I-JEPA `_gap` models, Hugging Face transformers' IJepaModel), and bringing such weights in.

#include "core/config.h"
#include "core/io/safetensors.h"
#include "core/model/ijepa_model.h"

#include <string>
#include <vector>

namespace ijepa {

enum class ExportFormat { Safetensors, Timm, HuggingFace };

struct ExportOptions {
    ExportFormat format = ExportFormat::Safetensors;
    bool context = false;        // the context encoder instead of the target encoder (the paper's)
    bool bf16 = false;           // weights stored as bf16 (else f32)
    bool withPredictor = false;  // safetensors only: the predictor too, under "predictor."
};

// "safetensors", "timm" or "hf"; throws ConfigError naming the value otherwise.
ExportFormat parseExportFormat(const std::string& name);

// Writes the chosen encoder of `model`: a .safetensors file (safetensors, timm) or a folder holding
// model.safetensors, config.json and preprocessor_config.json (hf). Every safetensors file carries
// __metadata__: the run's config as YAML ("config"), which encoder ("encoder": target or context),
// the layout ("format") and "producer". Returns the files written.
std::vector<std::string> exportEncoder(const IJepaModel& model, const Config& config, const ExportOptions& options,
                                       const std::string& out);

// True for a path exportEncoder writes or importWeights reads: a .safetensors file or a folder
// with model.safetensors.
bool isExportedWeights(const std::string& path);

// The safetensors of an export (the file, or a folder's model.safetensors), read once for both
// functions below.
SafeTensors readExport(const std::string& path);

// The config an exported file was written with: its metadata's YAML, else (Hugging Face) the
// encoder's size from config.json on top of `fallback`; throws CheckpointError naming the file
// when neither says the number of heads and no fallback is given.
Config exportedConfig(const std::string& path, const SafeTensors& file, const Config* fallback);

// Loads exported weights into `model`: the encoder into both the context and the target encoder,
// the predictor when the file holds one (returned true). Any layout above, told apart by its
// names. Sizes come from the file; a mismatch with the model is a CheckpointError listing the
// keys and shapes. The first form reads the file itself.
bool importWeights(const std::string& path, IJepaModel& model);
bool importWeights(const std::string& path, const SafeTensors& file, IJepaModel& model);

} // namespace ijepa
