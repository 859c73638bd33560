#pragma once

#include "core/train/observer.h"

#include <cstdint>
#include <vector>

namespace ijepa {

// One diagnostic step as the verdict sees it.
struct HealthPoint {
    std::int64_t iteration = 0;
    double loss = 0;          // mean training loss since the previous point
    double probe = std::numeric_limits<double>::quiet_NaN(); // online k-NN top-1 (0..1)
    double rankMe = std::numeric_limits<double>::quiet_NaN();
    double featureStd = std::numeric_limits<double>::quiet_NaN();
    double sigreg = std::numeric_limits<double>::quiet_NaN(); // label-free SIGReg statistic of the probe features
    double contextProbe = std::numeric_limits<double>::quiet_NaN(); // the context encoder's k-NN top-1 (0..1)
};

struct HealthOptions {
    int window = 5;                  // trends over the last this many diagnostic points (3 at least)
    double trendPoints = 1.0;        // a probe change beyond +-this many points is a trend
    double lossDrop = 0.10;          // the loss "falls" when its window mean drops by this share
    double collapseRankMe = 1.5;     // RankMe below this: collapse
    double collapseStd = 1e-3;       // or a normalised-feature std below this
    // A std below this share of 1/sqrt(D) (the spread of unit vectors in every direction): the
    // features crowd into a narrow cone, a warning short of collapse.
    double narrowStdShare = 0.25;
    double collapsingShare = 0.5;    // RankMe below this share of its peak: collapsing
    double sigregRise = 0.5;         // without a probe: SIGReg up by this share over the window warns
};

// The verdict in plain words from the signals so far: the probe's trend, the spectrum's health and
// whether falling loss comes with better representations, each with the number behind it and a
// hint when something is wrong; without labels (no probe), the label-free SIGReg statistic's trend
// stands in for the probe's. `probeOff` is said in the probe's line when there is no probe. With the
// context encoder's probe: how far the target encoder (the EMA) lags it, and a flat target probe
// while the context encoder's rises is read as that lag, not as representations not improving.
std::vector<HealthLine> assessHealth(const std::vector<HealthPoint>& history, int embedDim,
                                     const std::string& probeOff = {}, const HealthOptions& options = {});

// Keeps the history of the diagnostic steps and writes the verdict into report.signals (after the
// diagnostics observers). Rank 0 only (it only reads what they wrote).
class HealthMonitor final : public TrainObserver {
public:
    explicit HealthMonitor(HealthOptions options = {}) : m_options(options) {}

    void started(const TrainStart& start) override;
    void stepDone(const Step& step) override;

private:
    HealthOptions m_options;
    std::vector<HealthPoint> m_history;
    double m_lossSum = 0;
    std::int64_t m_lossCount = 0;
};

} // namespace ijepa
