#pragma once

#include "core/train/adamw.h"
#include "core/config.h"
#include "core/model/ijepa_model.h"

#include <ATen/core/ivalue.h>

#include <optional>
#include <string>

namespace ijepa {

// Reads a torch.save zip archive (PyTorch >= 1.6 format) through the restricted unpickler.
// Throws CheckpointError naming the file for a missing, truncated, legacy-format or unsafe file.
c10::IValue readTorchFile(const std::string& path);

// Writes value as torch.save would (zip, pickle protocol 2), atomically: temp file, fsync, rename.
void writeTorchFile(const c10::IValue& value, const std::string& path);

// A module's parameters and buffers as a dict, keys prefixed (the reference's DDP "module.").
c10::IValue stateDict(const torch::nn::Module& module, const std::string& prefix = "module.");

// Copies a state dict into a module; a "module." prefix is stripped. Missing, unexpected and
// mis-shaped keys are all listed in one CheckpointError prefixed with context.
void loadStateDict(torch::nn::Module& module, const c10::IValue& state, const std::string& context);

// What a training checkpoint says about itself.
struct CheckpointMeta {
    int64_t epoch = 0;
    double loss = 0.0;
    int64_t batchSize = 0;
    int64_t worldSize = 1;
    double lr = 0.0;
    int64_t iteration = 0;             // extension: global step (0 if written by the reference)
    std::optional<std::string> config; // extension: the YAML the run used
    std::optional<std::string> precision; // extension: "bf16" or "fp32", the step's number format (resume keeps it)
};

// Saves encoder, predictor, target_encoder, opt, scaler (None), epoch, loss, batch_size,
// world_size and lr in the reference layout (loadable by src/helper.py load_checkpoint), plus
// this project's "ijepa" entry (iteration, config YAML).
void saveCheckpoint(const std::string& path, const IJepaModel& model, const AdamW* optimizer,
                    const CheckpointMeta& meta);

// Loads weights (and the optimiser state when given) from a reference or project checkpoint.
CheckpointMeta loadCheckpoint(const std::string& path, IJepaModel& model, AdamW* optimizer);
// The same, from a file already read with readTorchFile (path names it in errors).
CheckpointMeta loadCheckpoint(const c10::IValue& checkpoint, const std::string& path, IJepaModel& model,
                              AdamW* optimizer);

// Reads only the metadata part.
CheckpointMeta checkpointMeta(const c10::IValue& checkpoint, const std::string& path);

// The config a checkpoint's run used: the one a project checkpoint carries, else the
// params-ijepa.yaml the reference writes beside its checkpoints. Throws CheckpointError naming the
// checkpoint when there is neither.
Config checkpointConfig(const c10::IValue& checkpoint, const std::string& path);

} // namespace ijepa
