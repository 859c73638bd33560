#pragma once

#include "core/runs/run_folder.h"
#include "core/runs/sweep_plan.h"
#include "core/runs/sweep_stats.h"

#include <limits>
#include <string>
#include <vector>

namespace ijepa {

// What a sweep's trials measured and how its table sums them up.

// The label-free criteria a halving sweep ranks settings by: the final JEPA loss (lower is better),
// RankMe (higher) or the SIGReg statistic (lower). Throws ConfigError naming the name otherwise.
enum class SweepCriterion { Loss, RankMe, Sigreg };
SweepCriterion parseCriterion(const std::string& name);
const char* criterionName(SweepCriterion c);
bool higherIsBetter(SweepCriterion c);

// One trial's figures at step `atStep` or the last step before it (0: its last step), from its
// run folder alone: the JEPA loss as the mean of the last tenth of the steps logged up to there,
// RankMe and the SIGReg statistic of the last diagnostic step, the probe-free verdict.
struct TrialSignals {
    static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
    std::int64_t steps = 0;
    double wallSeconds = 0;
    double loss = kNone, rankMe = kNone, sigreg = kNone;
    std::string verdict; // "healthy" or the warnings, e.g. "spectrum narrow"
    double value(SweepCriterion c) const { return c == SweepCriterion::Loss ? loss : c == SweepCriterion::RankMe ? rankMe : sigreg; }
};
TrialSignals trialSignals(const RunRecord& run, std::int64_t atStep = 0);

// A trial's evaluation with labels (ijepa eval knn / linear on its last checkpoint), kept in its
// folder as sweep-eval.json with the step it was measured at.
struct TrialEval {
    std::int64_t step = -1;
    double knn = TrialSignals::kNone, linear = TrialSignals::kNone;
};
void writeTrialEval(const std::string& runDir, const TrialEval& eval);
TrialEval readTrialEval(const std::string& runDir); // step -1 when there is none

struct TrialOutcome {
    SweepTrial trial;
    TrialSignals signals;
    TrialEval eval;
    std::string state; // the run's: finished, stopped, running, diverged, not started
};

// One row of the table: a setting over its seeds.
struct SweepRow {
    int setting = 0;
    std::string label;
    int trials = 0;
    MeanSd steps, wallSeconds, knn, linear, loss, rankMe, sigreg;
    std::string verdict;   // the trials' verdicts, each once
    double knnDiff = TrialSignals::kNone; // mean k-NN minus the baseline's, in points (with Welch's t, p)
    WelchResult welch{TrialSignals::kNone, TrialSignals::kNone, TrialSignals::kNone};
    bool baseline = false;
    std::int64_t stoppedAt = 0; // a halving sweep stopped this setting at this rung (0: it ran the whole budget)
};
struct SweepTable {
    std::vector<SweepRow> rows;
    SweepCriterion criterion = SweepCriterion::RankMe;
    double criterionSpearman = TrialSignals::kNone; // criterion against the k-NN over the full-budget trials
    int spearmanTrials = 0;
    std::string chosen; // a halving sweep's chosen setting and why
};
SweepTable summariseSweep(const SweepPlan& plan, const std::vector<TrialOutcome>& outcomes);

// <sweep>/results.tsv (a row per setting, every figure a column) and the printed summary.
void writeResultsTsv(const std::string& path, const SweepTable& table);
std::string formatSweepTable(const SweepTable& table);

// Successive halving: of the settings scored (mean over seeds at one rung, NaN last), those kept
// for the next rung: the best ceil(n / eta) by the criterion.
std::vector<int> halvingSurvivors(const std::vector<std::pair<int, double>>& scores, int eta, SweepCriterion c);

} // namespace ijepa
