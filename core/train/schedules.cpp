#include "core/train/schedules.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace ijepa {

Schedules::Schedules(const OptimizationConfig& config, std::int64_t iterationsPerEpoch)
    : m_config(config),
      m_ipe(iterationsPerEpoch),
      m_warmup(static_cast<std::int64_t>(config.warmup * static_cast<double>(iterationsPerEpoch))),
      m_total(static_cast<std::int64_t>(config.ipe_scale * config.epochs * static_cast<double>(iterationsPerEpoch)))
{
}

double Schedules::learningRate(std::int64_t step) const
{
    const auto& c = m_config;
    const double s = static_cast<double>(step);
    if (step < m_warmup) {
        const double progress = s / static_cast<double>(std::max<std::int64_t>(1, m_warmup));
        return c.start_lr + progress * (c.lr - c.start_lr);
    }
    const double progress = (s - static_cast<double>(m_warmup)) /
                            static_cast<double>(std::max<std::int64_t>(1, m_total - m_warmup));
    return std::max(c.final_lr, c.final_lr + (c.lr - c.final_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
}

double Schedules::weightDecay(std::int64_t step) const
{
    const auto& c = m_config;
    const double progress = static_cast<double>(step) / static_cast<double>(m_total);
    const double wd = c.final_weight_decay +
                      (c.weight_decay - c.final_weight_decay) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
    return c.final_weight_decay <= c.weight_decay ? std::max(c.final_weight_decay, wd)
                                                  : std::min(c.final_weight_decay, wd);
}

double Schedules::momentum(std::int64_t iteration) const
{
    const auto& ema = m_config.ema;
    const double span = static_cast<double>(m_ipe) * m_config.epochs * m_config.ipe_scale;
    return ema[0] + static_cast<double>(iteration) * (ema[1] - ema[0]) / span;
}

} // namespace ijepa
