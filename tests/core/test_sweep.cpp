// The sweep's parts that need no training: its statistics against values computed independently
// (numerical integration of Student's t density, by hand), the axes and settings a command line
// gives, the plan file, the label-free signals read from a run's CSV, halving's choice and the table.
#include "core/errors.h"
#include "core/runs/sweep_results.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace ijepa;
using ijepa::test::TempDir;

TEST(SweepStats, StudentTAndWelchMatchIndependentValues)
{
    // P(|T| >= t) by integrating the t density numerically (Python, 2e6 points).
    EXPECT_NEAR(studentTwoSidedP(2.0, 10), 0.07338803477, 1e-9);
    EXPECT_NEAR(studentTwoSidedP(2.228138852, 10), 0.05, 1e-9);
    EXPECT_NEAR(studentTwoSidedP(-1.0, 1), 0.5, 1e-9); // Cauchy
    EXPECT_NEAR(studentTwoSidedP(0.0, 7), 1.0, 1e-12);
    const WelchResult w = welchTest({1, 2, 3, 4}, {2, 4, 6, 8});
    EXPECT_NEAR(w.t, -1.7320508075688772, 1e-12);
    EXPECT_NEAR(w.df, 4.411764705882353, 1e-12);
    EXPECT_NEAR(w.p, 0.1515805048, 1e-8);
    EXPECT_TRUE(std::isnan(welchTest({1}, {2, 3}).p)); // one value: no test
    EXPECT_TRUE(std::isnan(welchTest({1, 1}, {2, 2}).t)); // no spread
    const MeanSd m = meanSd({1, 2, std::nan(""), 4});
    EXPECT_EQ(m.n, 3);
    EXPECT_NEAR(m.mean, 7.0 / 3, 1e-12);
    EXPECT_NEAR(m.sd, std::sqrt(((1 - 7.0 / 3) * (1 - 7.0 / 3) + (2 - 7.0 / 3) * (2 - 7.0 / 3) + (4 - 7.0 / 3) * (4 - 7.0 / 3)) / 2), 1e-12);
}

TEST(SweepStats, SpearmanRanksWithTies)
{
    EXPECT_NEAR(spearman({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0, 1e-12);
    EXPECT_NEAR(spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0, 1e-12);
    // Ties get their mean rank: x ranks 1,2,3,4,5; y = 5,6,7,8,7 ranks 1,2,3.5,5,3.5 -> 0.8207826817 (Pearson of the ranks by hand).
    EXPECT_NEAR(spearman({1, 2, 3, 4, 5}, {5, 6, 7, 8, 7}), 0.8207826817, 1e-9);
    EXPECT_TRUE(std::isnan(spearman({1, 2}, {1, 2})));
    EXPECT_TRUE(std::isnan(spearman({1, 2, 3}, {5, 5, 5})));
}

TEST(SweepPlan, AxesSettingsAndLabels)
{
    const SweepAxis lr = parseSweepAxis("optimization.lr=0.001,0.002");
    EXPECT_EQ(lr.values, (std::vector<std::string>{"0.001", "0.002"}));
    const SweepAxis scale = parseSweepAxis("mask.enc_mask_scale=[0.85, 1.0],[0.7, 1.0]"); // commas inside [...] stay
    EXPECT_EQ(scale.values.size(), 2u);
    const SweepAxis range = parseSweepAxis("optimization.lr=1e-4:3e-3:log");
    EXPECT_TRUE(range.range && range.log);
    EXPECT_DOUBLE_EQ(range.lo, 1e-4);
    const auto grid = gridSettings({lr, parseSweepAxis("data.batch_size=32,64,128")});
    ASSERT_EQ(grid.size(), 6u);
    EXPECT_EQ(settingLabel(grid[1]), "lr=0.001 batch_size=64");
    EXPECT_EQ(settingOverrides(grid[5]), (std::vector<std::string>{"optimization.lr=0.002", "data.batch_size=128"}));
    // Two swept keys with one name keep their sections.
    EXPECT_EQ(settingLabel({{"optimization.weight_decay", "0.04"}, {"optimization.final_weight_decay", "0.4"}}),
              "weight_decay=0.04 final_weight_decay=0.4");
    EXPECT_EQ(settingLabel({{"a.lr", "1"}, {"b.lr", "2"}}), "a.lr=1 b.lr=2");
    // Random draws: in range, log-uniform, integers rounded, the same seed the same draws.
    const auto drawn = randomSettings({range, parseSweepAxis("data.batch_size=16:256")}, 50, 7);
    ASSERT_EQ(drawn.size(), 50u);
    for (const auto& s : drawn) {
        const double v = std::stod(s[0].second);
        EXPECT_GE(v, 1e-4 * 0.999);
        EXPECT_LE(v, 3e-3 * 1.001);
        EXPECT_EQ(s[1].second.find('.'), std::string::npos) << s[1].second;
    }
    EXPECT_EQ(drawn, randomSettings({range, parseSweepAxis("data.batch_size=16:256")}, 50, 7));
    // Errors name the argument and the key.
    const auto message = [](const std::string& arg) {
        try {
            parseSweepAxis(arg);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message("optimization.lrr=0.1,0.2").find("lrr"), std::string::npos);
    EXPECT_NE(message("optimization.lr=0.1,,0.2").find("empty value"), std::string::npos);
    EXPECT_NE(message("optimization.lr=a:b").find("not a number"), std::string::npos);
    EXPECT_NE(message("optimization.lr=0:1:log").find("above 0"), std::string::npos);
    EXPECT_NE(message("data.batch_size=16,abc").find("batch_size"), std::string::npos);
    EXPECT_NE(message("optimization.lr").find("key=v1,v2"), std::string::npos);
    EXPECT_THROW(gridSettings({range}), ConfigError); // a range needs --random
}

TEST(SweepPlan, FileRoundTripTrialsAndRungs)
{
    TempDir dir;
    SweepPlan p;
    p.config = "/x/fashion_mnist.yaml";
    p.fixed = {"data.batch_size=32"};
    p.steps = 400;
    p.seeds = {0, 1};
    p.settings = gridSettings({parseSweepAxis("optimization.lr=0.001,0.002,0.004,0.008,0.016")});
    p.baseline = 0;
    p.halving = true;
    p.diagnosticsEvery = 25;
    writeSweepPlan(dir.path.string(), p);
    const SweepPlan back = readSweepPlan(dir.path.string());
    EXPECT_EQ(planDifference(p, back), "");
    EXPECT_EQ(back.settings, p.settings);
    SweepPlan other = back;
    other.steps = 200;
    other.seeds = {0};
    EXPECT_EQ(planDifference(p, other), "the budget, the seeds");
    const auto trials = p.trials();
    ASSERT_EQ(trials.size(), 10u);
    EXPECT_EQ(trials[3].folder, "s02-lr=0.002-seed1");
    // 5 settings, eta 2: 5 -> 3 -> 2 -> 1, rungs of 50, 100, 200 and 400 steps.
    EXPECT_EQ(p.rungs(), (std::vector<std::int64_t>{50, 100, 200, 400}));
    p.halving = false;
    EXPECT_EQ(p.rungs(), (std::vector<std::int64_t>{400}));
    const auto args = trialTrainArgs(p, trials[3], "/sw", 100, 2);
    const auto has = [&](const std::string& a) { return std::find(args.begin(), args.end(), a) != args.end(); };
    EXPECT_TRUE(has("--resume-if-any") && has("/sw/s02-lr=0.002-seed1") && has("optimization.lr=0.002") &&
                has("meta.seed=1") && has("data.batch_size=32") && has("100"));
    EXPECT_EQ(shellQuote({"ijepa", "--name", "lr=0.002 seed1", "it's"}), "ijepa --name 'lr=0.002 seed1' 'it'\\''s'");
    std::ofstream(dir.path / "sweep.json") << "{\"version\": 1}";
    EXPECT_THROW(readSweepPlan(dir.path.string()), ConfigError);
    EXPECT_THROW(readSweepPlan((dir.path / "none").string()), ConfigError);
}

namespace {
// A run folder with a CSV of `steps` rows (epoch 1, as the reference counts): loss 1/step, RankMe 10 + step/10 every 10 steps.
void writeRun(const std::filesystem::path& dir, int steps, double rankOffset)
{
    std::filesystem::create_directories(dir);
    std::ofstream csv(dir / "jepa_r0.csv");
    csv.precision(17);
    csv << "epoch,itr,loss,mask-A,mask-B,time (ms),rankme,feat_std,probe_knn,jepa_loss,sigreg_stat\n";
    for (int s = 1; s <= steps; ++s) {
        csv << 1 << "," << s - 1 << "," << 1.0 / s << ",10,10,100,";
        if (s % 10 == 0)
            csv << rankOffset + s / 10.0 << ",0.05,," << 1.0 / s << "," << 100.0 / s;
        else
            csv << ",,,,";
        csv << "\n";
    }
}
} // namespace

TEST(SweepResults, SignalsHalvingAndTable)
{
    TempDir dir;
    writeRun(dir.path / "a", 40, 10);
    const RunRecord run = readRunFolder((dir.path / "a").string());
    const TrialSignals end = trialSignals(run);
    EXPECT_EQ(end.steps, 40);
    EXPECT_NEAR(end.wallSeconds, 4.0, 1e-9);
    EXPECT_NEAR(end.loss, (1.0 / 37 + 1.0 / 38 + 1.0 / 39 + 1.0 / 40) / 4, 1e-12); // the last tenth
    EXPECT_NEAR(end.rankMe, 14.0, 1e-12);
    EXPECT_NEAR(end.sigreg, 2.5, 1e-12);
    // A sweep's evaluation at the run's last step is its k-NN in the Runs tab; one of an older step is not.
    EXPECT_TRUE(std::isnan(run.finalKnn));
    writeTrialEval((dir.path / "a").string(), {40, 0.675, TrialSignals::kNone});
    EXPECT_DOUBLE_EQ(readRunFolder((dir.path / "a").string()).finalKnn, 0.675);
    writeTrialEval((dir.path / "a").string(), {30, 0.6, TrialSignals::kNone});
    EXPECT_TRUE(std::isnan(readRunFolder((dir.path / "a").string()).finalKnn));
    const TrialSignals at25 = trialSignals(run, 25); // a rung: only the rows up to step 25
    EXPECT_EQ(at25.steps, 25);
    EXPECT_NEAR(at25.rankMe, 12.0, 1e-12);
    EXPECT_NEAR(at25.loss, (1.0 / 24 + 1.0 / 25) / 2, 1e-12);

    // Halving keeps the best ceil(n / eta), NaN last; loss and sigreg lower, RankMe higher.
    const std::vector<std::pair<int, double>> scores{{0, 3.0}, {1, std::nan("")}, {2, 5.0}, {3, 1.0}, {4, 4.0}};
    EXPECT_EQ(halvingSurvivors(scores, 2, SweepCriterion::RankMe), (std::vector<int>{2, 4, 0}));
    EXPECT_EQ(halvingSurvivors(scores, 2, SweepCriterion::Loss), (std::vector<int>{3, 0, 4}));
    EXPECT_EQ(halvingSurvivors(scores, 1 << 30, SweepCriterion::Sigreg), (std::vector<int>{3}));
    EXPECT_THROW(parseCriterion("knn"), ConfigError);

    // The table: mean +- sd over seeds, the difference to the baseline with Welch's t.
    SweepPlan p;
    p.steps = 40;
    p.seeds = {0, 1};
    p.settings = gridSettings({parseSweepAxis("optimization.lr=0.001,0.002")});
    p.baseline = 0;
    std::vector<TrialOutcome> outcomes;
    const double knn[4] = {0.60, 0.62, 0.65, 0.69};
    for (size_t i = 0; i < 4; ++i) {
        TrialOutcome o{p.trials()[i], end, {}, "finished"};
        o.signals.rankMe = 10.0 + static_cast<double>(i);
        o.eval.knn = knn[i];
        outcomes.push_back(o);
    }
    const SweepTable t = summariseSweep(p, outcomes);
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_TRUE(t.rows[0].baseline);
    EXPECT_NEAR(t.rows[1].knn.mean, 0.67, 1e-12);
    EXPECT_NEAR(t.rows[1].knn.sd, std::sqrt(0.0008), 1e-12);
    EXPECT_NEAR(t.rows[1].knnDiff, 6.0, 1e-9);
    EXPECT_NEAR(t.rows[1].welch.t, welchTest({0.65, 0.69}, {0.60, 0.62}).t, 1e-12);
    EXPECT_NEAR(t.criterionSpearman, 1.0, 1e-12); // RankMe 10..13 against k-NN rising
    EXPECT_EQ(t.spearmanTrials, 4);
    const std::string text = formatSweepTable(t);
    EXPECT_NE(text.find("lr=0.001 (baseline)"), std::string::npos) << text;
    EXPECT_NE(text.find("+6.0 (p "), std::string::npos) << text;
    writeResultsTsv((dir.path / "results.tsv").string(), t);
    std::ifstream in(dir.path / "results.tsv");
    std::string header, first;
    std::getline(in, header);
    std::getline(in, first);
    EXPECT_EQ(first.substr(0, 11), "lr=0.001\t2\t");
}
