#pragma once

// The reference's parity fixture, written by facebookresearch/ijepa: its config, a model with the
// weights of its checkpoint (shared/fixtures/official-tiny), one batch of inputs and masks
// (reference.pt), and the state after one of its training steps (tests/fixtures/train_step.pt).

#include "core/config.h"
#include "core/masks/multiblock_masks.h"
#include "core/model/ijepa_model.h"
#include "core/train/adamw.h"
#include "core/train/train_step.h"
#include "tests/core/test_support.h"

namespace ijepa::test {

struct OfficialTiny {
    Config config = loadConfig(sharedFixture("official-tiny/params-ijepa.yaml"));
    c10::Dict<c10::IValue, c10::IValue> ref = readDict(sharedFixture("official-tiny/reference.pt"));
    IJepaModel model{config};
    MaskBatch masks{tensorAt(ref, "masks_enc"), tensorAt(ref, "masks_pred")};
    std::string checkpointPath = sharedFixture("official-tiny/checkpoint.pth.tar");
    c10::IValue checkpoint = readTorchFile(checkpointPath); // read once, for the weights and the optimiser

    OfficialTiny() { loadCheckpoint(checkpoint, checkpointPath, model, nullptr); }
    torch::Tensor input() const { return tensorAt(ref, "input"); }

    // The checkpoint's optimiser state, for a training step that continues it.
    AdamW optimizer()
    {
        AdamW opt(model.paramGroups());
        loadCheckpoint(checkpoint, checkpointPath, model, &opt);
        return opt;
    }

    // The reference's training step from this checkpoint: lr, wd, momentum, loss and every weight after it.
    static c10::Dict<c10::IValue, c10::IValue> afterStep() { return readDict(testFixture("train_step.pt")); }

    // Our training step with the reference's lr, wd and momentum (from `after`, afterStep()), from
    // the checkpoint's weights and optimiser state (loaded again first: it can be taken again).
    StepStats takeReferenceStep(const c10::Dict<c10::IValue, c10::IValue>& after, bool bf16 = false)
    {
        AdamW opt = optimizer();
        StepSettings s;
        s.lr = tensorAt(after, "lr").item<double>();
        s.weightDecay = tensorAt(after, "wd").item<double>();
        s.momentum = tensorAt(after, "momentum").item<double>();
        s.bf16 = bf16;
        return trainStep(model, opt, input(), masks, s);
    }
};

} // namespace ijepa::test
