#pragma once

#include "core/model/ijepa_model.h"
#include "core/train/adamw.h"

#include <functional>

namespace ijepa {

// Where a step's loss came from, as sums over the predicted target tokens (detached, float64, on
// the CPU): per patch position of the grid and per target block. positionSum.sum() /
// positionCount.sum() is the step's loss.
struct TokenLoss {
    torch::Tensor positionSum;    // [P]: loss of the target tokens at each patch position, summed
    torch::Tensor positionCount;  // [P]: how many target tokens sat at each position
    torch::Tensor blockSum;       // [npred]: loss summed over the tokens of target block m
    std::int64_t tokensPerBlock = 0; // nenc * B * K: tokens behind each blockSum entry
};

struct StepStats {
    double loss = 0.0;
    int64_t contextSize = 0; // patches per context mask (mask-A in the reference log)
    int64_t targetSize = 0;  // patches per target block (mask-B)
    TokenLoss tokens;
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

} // namespace ijepa
