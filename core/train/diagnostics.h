#pragma once

#include "core/data/image_source.h"
#include "core/train/observer.h"

#include <torch/torch.h>

#include <cstdint>
#include <memory>

namespace ijepa {

struct DiagnosticsOptions {
    std::int64_t every = 100;   // steps between diagnostics (and the last step); 0: none
    std::int64_t images = 512;  // the first this many images of `source`
    // Fixed held-out images (evaluation view); null: none. openDataSpec's heldOut is the usual one.
    std::shared_ptr<ImageSource> source;
};

// Collapse diagnostics of the target encoder on fixed images: RankMe and the std of the normalised
// mean-pooled features, written into the step's report (the run log and the progress views read
// them there). Rank 0 only.
class CollapseDiagnostics final : public TrainObserver {
public:
    explicit CollapseDiagnostics(DiagnosticsOptions options) : m_options(std::move(options)) {}

    void started(const TrainStart& start) override;
    void stepDone(const Step& step) override;

private:
    DiagnosticsOptions m_options;
    torch::Tensor m_images; // [M, 3, crop, crop] on the training device; undefined: off
};

} // namespace ijepa
