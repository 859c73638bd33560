#pragma once

#include "core/train/adamw.h"
#include "core/config.h"
#include "core/masks/multiblock_masks.h"
#include "core/model/predictor.h"
#include "core/model/vision_transformer.h"

#include <torch/nn/modules/container/sequential.h>

namespace ijepa {

// The three networks of I-JEPA: context encoder, predictor, and the EMA target encoder.
struct IJepaModel {
    IJepaModel(const Config& config, torch::Device device = torch::kCPU);

    VisionTransformer encoder{nullptr};
    Predictor predictor{nullptr};
    VisionTransformer targetEncoder{nullptr};
    // LeJEPA's projector head (loss.sigreg_on = projector; null otherwise): SIGReg is applied to
    // its output on the pooled context tokens; trained with the encoder, never used as features.
    torch::nn::Sequential projector{nullptr};

    // The reference's four AdamW groups (src/helper.py init_opt): encoder weights, predictor
    // weights, encoder biases/1-D params and predictor biases/1-D params (no weight decay); with a
    // projector, two more: its weights, its biases and norms (no weight decay).
    std::vector<ParamGroup> paramGroups() const;

    // layer_norm (no affine) of the target encoder's full-image output, gathered per target block
    // and repeated per context mask: [npred * nenc * B, Kp, D].
    torch::Tensor targets(const torch::Tensor& images, const MaskBatch& masks);
    // Predictor output for each target block: [npred * nenc * B, Kp, D].
    torch::Tensor predictions(const torch::Tensor& images, const MaskBatch& masks);
    // theta_bar = m * theta_bar + (1 - m) * theta, with foreach tensor ops.
    void updateTargetEncoder(double momentum);
    // Makes the target encoder an exact copy of the context encoder.
    void syncTargetEncoder();
    // Parameters and buffers of all three networks (detached; what data parallel broadcasts).
    std::vector<torch::Tensor> stateTensors() const;
    // Parameters of the context encoder, predictor (and projector), the ones the optimiser trains.
    std::vector<torch::Tensor> trainableParameters() const;
    // The networks the optimiser trains: encoder, predictor (and projector).
    std::vector<const torch::nn::Module*> trainedModules() const;
};

std::vector<torch::Tensor> maskList(const torch::Tensor& masks); // [M, B, K] -> M tensors [B, K]

int64_t parameterCount(const torch::nn::Module& module, bool trainableOnly = false);

} // namespace ijepa
