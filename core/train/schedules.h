#pragma once

#include "core/config.h"

#include <cstdint>

namespace ijepa {

// Per-iteration schedules of the reference (src/utils/schedulers.py, src/train.py). Step s is the
// value used by the s-th training iteration, counted from 1 as the reference's scheduler.step()
// does; the EMA momentum of iteration s is the reference generator's s-th value (from 0).
class Schedules {
public:
    Schedules(const OptimizationConfig& config, std::int64_t iterationsPerEpoch);

    double learningRate(std::int64_t step) const; // warmup linear, then cosine to final_lr
    double weightDecay(std::int64_t step) const;  // cosine from weight_decay to final_weight_decay
    double momentum(std::int64_t iteration) const; // linear from ema[0] to ema[1]

    std::int64_t totalSteps() const { return m_total; }
    std::int64_t warmupSteps() const { return m_warmup; }

private:
    OptimizationConfig m_config;
    std::int64_t m_ipe;
    std::int64_t m_warmup;
    std::int64_t m_total;
};

} // namespace ijepa
