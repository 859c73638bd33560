#pragma once

#include "core/model/ijepa_model.h"
#include "core/train/adamw.h"

#include <functional>
#include <limits>

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
    double loss = 0.0;        // what is minimised: (1 - w) * jepaLoss + w * sigregLoss (w = loss.sigreg_weight)
    double jepaLoss = 0.0;    // the reference's smooth-L1 of predictions against targets
    double sigregLoss = std::numeric_limits<double>::quiet_NaN(); // SIGReg of the batch (NaN when off)
    int64_t contextSize = 0; // patches per context mask (mask-A in the reference log)
    int64_t targetSize = 0;  // patches per target block (mask-B)
    TokenLoss tokens;
};

// How many slices trainStep splits this batch into: one per intra-op thread on CPU (each thread
// runs its slice's forward and backward single-threaded), 1 on GPU or where LibTorch's OpenMP
// runtime is not ours.
int64_t trainStepSlices(const torch::Tensor& images);

// What a step takes besides the batch: the scheduled values, the loss, and data parallel's hooks.
struct StepSettings {
    double lr = 0, weightDecay = 0, momentum = 0;
    LossConfig loss;                      // SIGReg: off unless loss.sigreg_weight > 0
    std::int64_t seed = 0, iteration = 0; // seed SIGReg's projections (the same on every rank)
    // Between backward and the optimiser step (data parallel: average the gradients).
    std::function<void()> afterBackward;
    // Data parallel: sums a tensor over the ranks in place (SIGReg's ECF sums); `worldSize` ranks.
    std::function<void(torch::Tensor&)> allReduceSum;
    int worldSize = 1;
    // bf16 autocast in the forward passes (precision.h): the matrix products in bf16; the losses,
    // norms (on the fp32 residual stream), softmax, SIGReg, gradients of the fp32 weights, AdamW and
    // the EMA in fp32.
    bool bf16 = false;
};

// One I-JEPA iteration: smooth-L1 loss of predictions against targets (plus SIGReg on the context
// encoder's features when on), backward, AdamW step with the scheduled lr and wd, then the EMA
// update of the target encoder. With SIGReg, the statistic is that of the whole batch (of every
// rank's batch under data parallel) also when the CPU step splits the batch into slices.
StepStats trainStep(IJepaModel& model, AdamW& optimizer, const torch::Tensor& images, const MaskBatch& masks,
                    const StepSettings& settings);
// The same with the reference's loss alone.
StepStats trainStep(IJepaModel& model, AdamW& optimizer, const torch::Tensor& images, const MaskBatch& masks,
                    double lr, double weightDecay, double momentum, const std::function<void()>& afterBackward = {});

} // namespace ijepa
