// SIGReg (LeJEPA's regulariser, core/train/sigreg.h): the statistic against plain double loops,
// its convergence in the knots, its values on normal and degenerate features, its gradient, and
// the step with it (split batch, lambda = 0, logging). Data parallel: tests/core/test_distributed.cpp;
// resume: tests/core/test_train.cpp.
#include "core/masks/multiblock_masks.h"
#include "core/model/ijepa_model.h"
#include "core/train/health.h"
#include "core/train/sigreg.h"
#include "core/train/train_step.h"
#include "tests/core/test_support.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

using namespace ijepa;

namespace {

// The statistic written out: for each direction a, n * sum_k w_k |ecf(t_k) - phi(t_k)|^2 with the
// trapezoid weights on [0, tMax] doubled for both halves, averaged over the directions.
double statisticByLoops(const torch::Tensor& x, const torch::Tensor& a, int knots, double tMax = 3.0)
{
    const auto xs = x.to(torch::kFloat64).contiguous(), as = a.to(torch::kFloat64).contiguous();
    const auto X = xs.accessor<double, 2>();
    const auto A = as.accessor<double, 2>();
    const int64_t n = xs.size(0), d = xs.size(1), slices = as.size(1);
    const double dt = tMax / (knots - 1);
    double total = 0;
    for (int64_t s = 0; s < slices; ++s) {
        std::vector<double> proj(n, 0.0);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < d; ++j)
                proj[i] += X[i][j] * A[j][s];
        double integral = 0;
        for (int k = 0; k < knots; ++k) {
            const double t = k * dt, phi = std::exp(-0.5 * t * t);
            double c = 0, sn = 0;
            for (int64_t i = 0; i < n; ++i) {
                c += std::cos(t * proj[i]);
                sn += std::sin(t * proj[i]);
            }
            c /= n;
            sn /= n;
            const double w = (k == 0 || k == knots - 1 ? dt : 2 * dt) * phi;
            integral += w * ((c - phi) * (c - phi) + sn * sn);
        }
        total += n * integral;
    }
    return total / slices;
}

} // namespace

TEST(SigReg, StatisticEqualsPlainDoubleLoops)
{
    torch::manual_seed(0);
    const auto x = torch::randn({96, 12}, torch::kFloat64) * 1.5 + 0.3; // not N(0, I): a sizeable statistic
    const auto a = sigregProjections(12, 32, 7, 11).to(torch::kFloat64);
    EXPECT_NEAR(a.norm(2, {0}).sub(1).abs().max().item<double>(), 0.0, 1e-6) << "unit directions";
    for (int knots : {2, 5, 17}) {
        const double expected = statisticByLoops(x, a, knots);
        const double got = sigreg(x, a, EppsPulley(knots)).item<double>();
        EXPECT_NEAR(got, expected, 1e-5 * std::abs(expected)) << knots << " knots (float64)";
        const double got32 = sigreg(x.to(torch::kFloat32), a, EppsPulley(knots)).item<double>();
        EXPECT_NEAR(got32, expected, 1e-4 * std::abs(expected)) << knots << " knots (float32)";
    }
    // The same directions for the same (seed, iteration), others for another iteration.
    EXPECT_TRUE(torch::equal(sigregProjections(12, 32, 7, 11), sigregProjections(12, 32, 7, 11)));
    EXPECT_FALSE(torch::equal(sigregProjections(12, 32, 7, 11), sigregProjections(12, 32, 7, 12)));
}

TEST(SigReg, ApproachesTheThousandKnotIntegralAsTheKnotsGrow)
{
    torch::manual_seed(1);
    const auto x = torch::randn({200, 8}, torch::kFloat64) * 0.7;
    const auto a = sigregProjections(8, 16, 0, 0).to(torch::kFloat64);
    const double exact = sigreg(x, a, EppsPulley(1000)).item<double>();
    double previous = INFINITY;
    for (int knots : {5, 9, 17, 33, 65}) {
        const double error = std::abs(sigreg(x, a, EppsPulley(knots)).item<double>() - exact) / exact;
        EXPECT_LT(error, previous) << knots << " knots";
        previous = error;
    }
    EXPECT_LT(previous, 1e-3) << "65 knots against 1000";
}

TEST(SigReg, SmallForNormalSamplesLargeForConstantOrRankOneFeatures)
{
    torch::manual_seed(2);
    const EppsPulley q;
    const auto a = sigregProjections(32, 256, 0, 0);
    // E[T] = integral of (1 - exp(-t^2)) exp(-t^2/2) over [-3, 3] = 1.05 for N(0, I), whatever n.
    const double normal = sigreg(torch::randn({2048, 32}), a, q).item<double>();
    EXPECT_NEAR(normal, 1.05, 0.35); // the 256 directions share 2048 samples: a spread of about 0.2
    const double constant = sigreg(torch::ones({2048, 32}), a, q).item<double>();
    const auto u = torch::randn({1, 32});
    const double rankOne = sigreg(torch::randn({2048, 1}) * (u / u.norm()), a, q).item<double>();
    const double scaled = sigreg(torch::randn({2048, 32}) * 3.0, a, q).item<double>();
    std::cout << "SIGReg: N(0, I) " << normal << ", constant " << constant << ", rank one " << rankOne << ", 3 N(0, I) "
              << scaled << "\n";
    EXPECT_GT(constant, 100 * normal);
    EXPECT_GT(rankOne, 50 * normal);
    EXPECT_GT(scaled, 50 * normal);
}

TEST(SigReg, GradientMatchesFiniteDifferences)
{
    torch::manual_seed(3);
    const EppsPulley q(17);
    const auto a = sigregProjections(5, 8, 1, 2).to(torch::kFloat64);
    auto x = (torch::randn({20, 5}, torch::kFloat64) * 1.3).requires_grad_(true);
    const auto grad = torch::autograd::grad({sigreg(x, a, q)}, {x})[0];
    torch::NoGradGuard noGrad;
    double worst = 0;
    const double eps = 1e-6;
    for (int64_t i = 0; i < x.size(0); ++i)
        for (int64_t j = 0; j < x.size(1); ++j) {
            auto up = x.clone(), down = x.clone();
            up[i][j] += eps;
            down[i][j] -= eps;
            const double fd = (sigreg(up, a, q).item<double>() - sigreg(down, a, q).item<double>()) / (2 * eps);
            worst = std::max(worst, std::abs(fd - grad[i][j].item<double>()) / (std::abs(fd) + 1e-3));
        }
    EXPECT_LT(worst, 1e-6);
}

namespace {

struct StepRun {
    StepStats stats;
    std::vector<torch::Tensor> weights;
};

StepRun oneStep(double weight, int threads, const std::string& on = "context_pooled", bool legacyOverload = false)
{
    at::set_num_threads(threads);
    Config c = test::smallModelConfig();
    torch::manual_seed(0);
    IJepaModel model(c);
    AdamW opt(model.paramGroups());
    const MaskSampler sampler(c.mask, c.gridSize(), c.gridSize(), 5);
    torch::manual_seed(9);
    const auto images = torch::randn({16, 3, 32, 32});
    StepSettings s;
    s.lr = 1e-3;
    s.weightDecay = 0.04;
    s.momentum = 0.996;
    s.loss.sigreg_weight = weight;
    s.loss.sigreg_on = on;
    s.iteration = 4;
    StepRun run;
    run.stats = legacyOverload ? trainStep(model, opt, images, sampler.sampleAt(0, 16), 1e-3, 0.04, 0.996)
                               : trainStep(model, opt, images, sampler.sampleAt(0, 16), s);
    for (const auto& t : model.stateTensors())
        run.weights.push_back(t.clone());
    return run;
}

double maxDiff(const StepRun& a, const StepRun& b)
{
    double worst = 0;
    for (size_t i = 0; i < a.weights.size(); ++i)
        worst = std::max(worst, (a.weights[i] - b.weights[i]).abs().max().item<double>());
    return worst;
}

} // namespace

TEST(SigReg, TheStepSplitsTheLossAndKeepsTheStatisticOfTheWholeBatch)
{
    const int threads = at::get_num_threads();
    // lambda = 0 (a loss section of other values included) is the reference's step, bitwise.
    const auto plain = oneStep(0.0, 2, "context_tokens");
    const auto legacy = oneStep(0.0, 2, "context_pooled", /*legacyOverload=*/true);
    EXPECT_EQ(maxDiff(plain, legacy), 0.0);
    EXPECT_EQ(plain.stats.loss, legacy.stats.loss);
    EXPECT_EQ(plain.stats.loss, plain.stats.jepaLoss);
    EXPECT_TRUE(std::isnan(plain.stats.sigregLoss));
    for (const std::string on : {"context_pooled", "context_tokens", "projector"}) {
        // Two slices on two threads against the whole batch on one: the same statistic and step.
        const auto split = oneStep(0.1, 2, on), whole = oneStep(0.1, 1, on);
        ASSERT_TRUE(std::isfinite(split.stats.sigregLoss)) << on;
        EXPECT_NEAR(split.stats.sigregLoss, whole.stats.sigregLoss, 1e-5 * whole.stats.sigregLoss) << on;
        EXPECT_NEAR(split.stats.loss, 0.9 * split.stats.jepaLoss + 0.1 * split.stats.sigregLoss, 1e-12) << on;
        EXPECT_LT(maxDiff(split, whole), 1e-5) << on;
        EXPECT_GT(maxDiff(split, plain), 1e-5) << on << ": SIGReg changed nothing";
        EXPECT_EQ(split.stats.jepaLoss, plain.stats.jepaLoss) << on << ": same forward";
    }
    at::set_num_threads(threads);
}

TEST(SigReg, TheProjectorIsTrainedSavedAndLeftOutOfTheFeatures)
{
    Config c = test::smallModelConfig();
    c.loss.sigreg_on = "projector";
    c.loss.projector_hidden = 48;
    c.loss.projector_dim = 16;
    torch::manual_seed(0);
    IJepaModel model(c);
    ASSERT_TRUE(model.projector);
    EXPECT_EQ(model.paramGroups().size(), 6u); // the reference's four, then the projector's two
    EXPECT_EQ(model.paramGroups()[4].params.size(), 3u) << "three Linear weights";
    EXPECT_TRUE(model.paramGroups()[5].excludeWeightDecay);
    torch::manual_seed(0);
    IJepaModel plain(test::smallModelConfig());
    EXPECT_TRUE(torch::equal(model.encoder->parameters()[0], plain.encoder->parameters()[0]))
        << "the projector is made last: the other networks start as without it";
    const auto before = model.projector->parameters()[0].clone();
    AdamW opt(model.paramGroups());
    const MaskSampler sampler(c.mask, c.gridSize(), c.gridSize(), 5);
    StepSettings s;
    s.lr = 1e-3;
    s.loss = c.loss;
    s.loss.sigreg_weight = 0.1;
    trainStep(model, opt, torch::randn({16, 3, 32, 32}), sampler.sampleAt(0, 16), s);
    EXPECT_GT((model.projector->parameters()[0] - before).abs().max().item<double>(), 1e-4) << "trained";
    test::TempDir dir;
    saveCheckpoint(dir.file("p.pth.tar"), model, &opt, {});
    torch::manual_seed(5);
    IJepaModel loaded(c);
    AdamW loadedOpt(loaded.paramGroups());
    loadCheckpoint(dir.file("p.pth.tar"), loaded, &loadedOpt);
    EXPECT_TRUE(torch::equal(loaded.projector->parameters()[0], model.projector->parameters()[0]));
}

TEST(SigReg, WithoutLabelsTheVerdictReadsTheLabelFreeStatistic)
{
    const auto history = [](double probe, std::vector<double> sigreg) {
        std::vector<HealthPoint> h;
        for (size_t i = 0; i < sigreg.size(); ++i)
            h.push_back({static_cast<std::int64_t>(100 * (i + 1)), 0.1, probe, 20.0, 0.1, sigreg[i]});
        return h;
    };
    const auto line = [](const std::vector<HealthLine>& v) {
        for (const auto& l : v)
            if (l.topic == "normality")
                return l;
        return HealthLine{};
    };
    const auto rising = line(assessHealth(history(NAN, {2.0, 3.0, 6.0}), 64, "no labels"));
    EXPECT_EQ(rising.state, "rising");
    EXPECT_TRUE(rising.warning) << "no probe: the statistic is the warning";
    EXPECT_NE(rising.text.find("6.00, +200%"), std::string::npos) << rising.text;
    EXPECT_FALSE(line(assessHealth(history(0.6, {2.0, 3.0, 6.0}), 64)).warning) << "the probe speaks for itself";
    EXPECT_EQ(line(assessHealth(history(NAN, {6.0, 4.0, 2.0}), 64)).state, "falling");
    EXPECT_EQ(line(assessHealth(history(NAN, {2.0, 2.1, 2.2}), 64)).state, "steady");
}
