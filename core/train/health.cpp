#include "core/train/health.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ijepa {
namespace {

template <class... Args>
std::string format(const char* f, Args... args)
{
    char buf[320];
    std::snprintf(buf, sizeof(buf), f, args...);
    return buf;
}

// Least-squares slope of y over x, times the x span: the change the trend line makes over it.
double trendChange(const std::vector<double>& x, const std::vector<double>& y)
{
    const double n = static_cast<double>(x.size());
    double mx = 0, my = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        mx += x[i] / n;
        my += y[i] / n;
    }
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    return sxx > 0 ? sxy / sxx * (x.back() - x.front()) : 0.0;
}

HealthLine spectrumLine(const std::vector<HealthPoint>& h, int dim, const HealthOptions& o)
{
    const HealthPoint& last = h.back();
    if (!std::isfinite(last.rankMe) && !std::isfinite(last.featureStd))
        return {"spectrum", "unknown", "no spectrum yet", "", false};
    // All-zero features have no normalised spectrum (RankMe NaN): collapsed all the same.
    if (!std::isfinite(last.rankMe) || last.rankMe < o.collapseRankMe || last.featureStd < o.collapseStd)
        return {"spectrum", "collapse",
                format("collapse: RankMe %.2f of %d, feature std %.5f: the encoder maps every image to nearly one point",
                       last.rankMe, dim, last.featureStd),
                "raise the EMA momentum (optimization.ema), lower the learning rate, or make the targets harder "
                "(more or larger target blocks)",
                true};
    const auto peak = *std::max_element(h.begin(), h.end(), [](const auto& a, const auto& b) { return a.rankMe < b.rankMe; });
    if (last.rankMe < o.collapsingShare * peak.rankMe)
        return {"spectrum", "collapsing",
                format("rank collapsing: RankMe %.1f, down from %.1f at step %lld", last.rankMe, peak.rankMe,
                       static_cast<long long>(peak.iteration)),
                "the spectrum is dropping off: raise the EMA momentum or lower the learning rate before it collapses", true};
    const double spread = 1.0 / std::sqrt(static_cast<double>(std::max(1, dim))); // unit vectors in every direction
    if (std::isfinite(last.featureStd) && last.featureStd < o.narrowStdShare * spread)
        return {"spectrum", "narrow",
                format("spectrum narrow: feature std %.4f, where features spread in every direction give 1/sqrt(%d) = %.3f "
                       "(RankMe %.1f): the images crowd into a small cone",
                       last.featureStd, dim, spread, last.rankMe),
                "a step towards collapse: watch RankMe; raise the EMA momentum or lower the learning rate if it falls", true};
    return {"spectrum", "healthy",
            format("spectrum healthy: RankMe %.1f of %d, feature std %.4f (spread in every direction: %.3f)", last.rankMe,
                   dim, last.featureStd, spread),
            "", false};
}

// The label-free line: the SIGReg statistic of the probe features (about 1 for an isotropic
// Gaussian, large for collapsed or anisotropic features) and its change over the window; it warns
// when it rises by the `sigregRise` share and there is no probe to say otherwise.
HealthLine sigregLine(const std::vector<HealthPoint>& w, bool probeOn, const HealthOptions& o)
{
    const double first = w.front().sigreg, last = w.back().sigreg;
    if (w.size() < 3 || !std::isfinite(first) || first <= 0)
        return {"normality", "early", format("SIGReg statistic %.2f (a trend needs 3 diagnostic steps)", last), "", false};
    const double change = last / first - 1.0;
    const std::string state = change > o.sigregRise ? "rising" : change < -o.sigregRise / 2 ? "falling" : "steady";
    const bool warn = state == "rising" && !probeOn;
    return {"normality", state,
            format("SIGReg statistic %.2f, %+.0f%% over the last %lld steps (about 1: isotropic Gaussian features)", last,
                   100.0 * change, static_cast<long long>(w.back().iteration - w.front().iteration)),
            warn ? "the features are moving away from an isotropic distribution (towards collapse or a few "
                   "directions): see the spectrum; try loss.sigreg_weight > 0 or a higher EMA momentum"
                 : "",
            warn};
}

// The probe figures of a window in points (0..100) with their steps; `of` picks the encoder's.
struct Series {
    std::vector<double> x, y;
};
Series probeSeries(const std::vector<HealthPoint>& w, double HealthPoint::*of)
{
    Series s;
    for (const auto& p : w)
        if (std::isfinite(p.*of)) {
            s.x.push_back(static_cast<double>(p.iteration));
            s.y.push_back(100.0 * (p.*of));
        }
    return s;
}

// The context encoder's probe against the target encoder's at the last point: the EMA's lag.
HealthLine lagLine(const HealthPoint& last, const HealthOptions& o)
{
    const double lead = 100.0 * (last.contextProbe - last.probe);
    const std::string state = lead > o.trendPoints ? "target lags" : lead < -o.trendPoints ? "target ahead" : "level";
    return {"encoders", state,
            format("context encoder k-NN %.1f%%, %+.1f points against the target encoder%s", 100.0 * last.contextProbe, lead,
                   state == "target lags" ? " (the EMA lags)" : ""),
            "", false};
}

// Falling loss with a flat or falling target probe: representations not improving, unless the
// context encoder's probe rises meanwhile (then the target encoder lags it).
HealthLine progressLine(const std::vector<HealthPoint>& w, const std::string& probeState, const HealthOptions& o)
{
    const long long span = static_cast<long long>(w.back().iteration - w.front().iteration);
    const double l0 = w.front().loss, l1 = w.back().loss;
    const Series context = probeSeries(w, &HealthPoint::contextProbe);
    const double contextChange = context.y.size() >= 3 ? trendChange(context.x, context.y) : 0.0;
    if (contextChange > o.trendPoints)
        return {"progress", "target lags",
                format("loss falling (%.4f -> %.4f), target probe %s but the context encoder's %+.1f points over the "
                       "last %lld steps: the representation improves, the EMA target follows it slowly",
                       l0, l1, probeState.c_str(), contextChange, span),
                "", false};
    return {"progress", "not improving",
            format("loss falling (%.4f -> %.4f) but probe %s for the last %lld steps: representations are not improving",
                   l0, l1, probeState.c_str(), span),
            "the predictor may solve the task without better features: make the masks harder (larger target blocks, "
            "smaller context), or check the EMA schedule and the learning rate",
            true};
}

} // namespace

std::vector<HealthLine> assessHealth(const std::vector<HealthPoint>& history, int embedDim, const std::string& probeOff,
                                     const HealthOptions& o)
{
    std::vector<HealthLine> out;
    if (history.empty())
        return out;
    const auto first = history.size() > static_cast<size_t>(o.window) ? history.end() - o.window : history.begin();
    const std::vector<HealthPoint> w(first, history.end());
    const HealthPoint& last = w.back();
    const long long span = static_cast<long long>(last.iteration - w.front().iteration);
    const Series probe = probeSeries(w, &HealthPoint::probe);
    std::string probeState;
    if (!std::isfinite(last.probe)) {
        out.push_back({"probe", "off", "probe off: " + (probeOff.empty() ? std::string("no labelled probe set") : probeOff), "", false});
    } else if (probe.y.size() < 3) {
        out.push_back({"probe", "early", format("probe k-NN %.1f%% (a trend needs 3 diagnostic steps)", 100.0 * last.probe), "", false});
    } else {
        const double change = trendChange(probe.x, probe.y);
        probeState = change > o.trendPoints ? "rising" : change < -o.trendPoints ? "falling" : "flat";
        out.push_back({"probe", probeState,
                       format("probe %s: k-NN %.1f%%, %+.1f points over the last %lld steps", probeState.c_str(),
                              100.0 * last.probe, change, span),
                       probeState == "falling" ? "the features are getting worse for classification: a regulariser or a "
                                                 "learning rate that is too strong, or a collapsing target encoder"
                                               : "",
                       probeState == "falling"});
    }
    if (std::isfinite(last.probe) && std::isfinite(last.contextProbe))
        out.push_back(lagLine(last, o));
    out.push_back(spectrumLine(history, embedDim, o));
    if (std::isfinite(last.sigreg))
        out.push_back(sigregLine(w, std::isfinite(last.probe), o));
    if (w.size() >= 3 && (probeState == "flat" || probeState == "falling") && w.front().loss > 0 &&
        last.loss < (1.0 - o.lossDrop) * w.front().loss)
        out.push_back(progressLine(w, probeState, o));
    return out;
}

void HealthMonitor::started(const TrainStart&)
{
    m_history.clear();
    m_lossSum = 0;
    m_lossCount = 0;
}

void HealthMonitor::stepDone(const Step& step)
{
    StepReport& r = step.report;
    m_lossSum += r.loss;
    ++m_lossCount;
    if (!r.signals || r.signals->spectrum.empty()) // not a diagnostic step (or no probe set)
        return;
    m_history.push_back({r.iteration, m_lossSum / static_cast<double>(m_lossCount), r.probeAccuracy, r.rankMe, r.featureStd,
                         r.sigregSignal, r.contextProbeAccuracy});
    m_lossSum = 0;
    m_lossCount = 0;
    r.signals->verdict = assessHealth(m_history, r.signals->embedDim, r.signals->probeOff, m_options);
}

} // namespace ijepa
