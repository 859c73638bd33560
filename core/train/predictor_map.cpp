#include "core/train/predictor_map.h"

#include <cmath>
#include <limits>
#include <map>

namespace ijepa {

void PredictorLossMap::started(const TrainStart& start)
{
    m_writer = start.writer;
    m_on = m_writer && m_every > 0 && m_options.window > 0;
    m_grid = start.config.gridSize();
    m_window.clear();
}

void PredictorLossMap::settingsChanged(const SettingsChange& change, const TrainStart&, bool)
{
    if (const auto every = diagnosticsEveryOf(change); every >= 0) {
        m_every = every;
        m_on = m_writer && m_every > 0 && m_options.window > 0;
    }
}

void PredictorLossMap::stepDone(const Step& step)
{
    const TokenLoss& tokens = step.stats.tokens;
    if (!m_on || !tokens.positionSum.defined())
        return;
    m_window.push_back({tokens, step.report.targetSize});
    while (static_cast<std::int64_t>(m_window.size()) > m_options.window)
        m_window.pop_front();
    StepReport& r = step.report;
    if (r.iteration % m_every != 0 && r.iteration != r.totalIterations)
        return;

    auto sum = torch::zeros_like(m_window.front().tokens.positionSum);
    auto count = torch::zeros_like(sum);
    auto blocks = torch::zeros_like(m_window.front().tokens.blockSum);
    double blockTokens = 0;
    std::map<std::int64_t, std::pair<double, double>> bySize; // size -> (loss sum, tokens)
    for (const Entry& e : m_window) {
        sum += e.tokens.positionSum;
        count += e.tokens.positionCount;
        if (e.tokens.blockSum.numel() == blocks.numel()) {
            blocks += e.tokens.blockSum;
            blockTokens += static_cast<double>(e.tokens.tokensPerBlock);
        }
        auto& [loss, n] = bySize[e.blockSize];
        loss += e.tokens.blockSum.sum().item<double>();
        n += static_cast<double>(e.tokens.tokensPerBlock * e.tokens.blockSum.numel());
    }
    if (!r.signals)
        r.signals = std::make_shared<Signals>();
    Signals& s = *r.signals;
    s.gridSize = m_grid;
    s.windowSteps = static_cast<std::int64_t>(m_window.size());
    const auto mean = torch::where(count > 0, sum / count.clamp_min(1), std::numeric_limits<double>::quiet_NaN()).contiguous();
    s.positionLoss.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel());
    const auto perBlock = (blocks / std::max(1.0, blockTokens)).contiguous();
    s.blockLoss.assign(perBlock.data_ptr<double>(), perBlock.data_ptr<double>() + perBlock.numel());
    s.sizeLoss.clear();
    for (const auto& [size, v] : bySize)
        s.sizeLoss.emplace_back(static_cast<int>(size), v.first / std::max(1.0, v.second));
}

} // namespace ijepa
