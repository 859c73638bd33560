#pragma once

#include <functional>

#include "adamw.h"
#include "config.h"
#include "multiblock_masks.h"
#include "predictor.h"
#include "vision_transformer.h"

namespace ijepa {

// The three networks of I-JEPA: context encoder, predictor, and the EMA target encoder.
struct IJepaModel {
    IJepaModel(const Config& config, torch::Device device = torch::kCPU);

    VisionTransformer encoder{nullptr};
    Predictor predictor{nullptr};
    VisionTransformer targetEncoder{nullptr};

    // The reference's four AdamW groups (src/helper.py init_opt): encoder weights, predictor
    // weights, encoder biases/1-D params and predictor biases/1-D params (no weight decay).
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
    // Parameters of the context encoder and predictor, the ones the optimiser trains.
    std::vector<torch::Tensor> trainableParameters() const;
};

struct StepStats {
    double loss = 0.0;
    int64_t contextSize = 0; // patches per context mask (mask-A in the reference log)
    int64_t targetSize = 0;  // patches per target block (mask-B)
};

// How many slices trainStep splits this batch into: one per intra-op thread on CPU (each thread
// runs its slice's forward and backward single-threaded), 1 on GPU or where LibTorch's OpenMP
// runtime is not ours.
int64_t trainStepSlices(const torch::Tensor& images);

// One I-JEPA iteration: smooth-L1 loss of predictions against targets, backward, AdamW step with
// the scheduled lr and wd, then the EMA update of the target encoder.
// `afterBackward` runs between backward and the optimiser step (data parallel: average gradients).
StepStats trainStep(IJepaModel& model, AdamW& optimizer, const torch::Tensor& images, const MaskBatch& masks,
                    double lr, double weightDecay, double momentum, const std::function<void()>& afterBackward = {});

std::vector<torch::Tensor> maskList(const torch::Tensor& masks); // [M, B, K] -> M tensors [B, K]

int64_t parameterCount(const torch::nn::Module& module, bool trainableOnly = false);

} // namespace ijepa
