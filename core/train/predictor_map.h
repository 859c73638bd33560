#pragma once

#include "core/train/observer.h"
#include "core/train/train_step.h"

#include <cstdint>
#include <deque>

namespace ijepa {

struct PredictorMapOptions {
    std::int64_t window = 50; // the map covers the last this many steps
};

// Where the predictor fails: over the last `window` steps, the mean token loss at each patch
// position of the grid, of the m-th target block and by target block size, from the losses the
// training step itself computed (StepStats::tokens); written into report.signals every `every`
// steps. Rank 0 only.
class PredictorLossMap final : public TrainObserver {
public:
    // A map every `every` steps (the diagnostics' cadence) and at the last step; 0: none.
    PredictorLossMap(std::int64_t every, PredictorMapOptions options) : m_every(every), m_options(options) {}

    void started(const TrainStart& start) override;
    void stepDone(const Step& step) override;
    void settingsChanged(const SettingsChange& change, const TrainStart& now, bool record) override; // diagnostics.every

private:
    struct Entry {
        TokenLoss tokens;
        std::int64_t blockSize = 0;
    };
    std::int64_t m_every;
    bool m_writer = false;
    PredictorMapOptions m_options;
    bool m_on = false;
    int m_grid = 0;
    std::deque<Entry> m_window;
};

} // namespace ijepa
