// Holds the C++ core to the reference implementation's numbers (shared/fixtures/official-tiny and
// tests/fixtures/train_step.pt, both written by facebookresearch/ijepa).
#include "core/io/checkpoint.h"
#include "core/config.h"
#include "core/model/ijepa_model.h"
#include "core/train/train_step.h"
#include "core/train/schedules.h"
#include "tests/core/official_fixture.h"
#include "tests/core/test_support.h"

using namespace ijepa;
using namespace ijepa::test;

namespace {

constexpr double kFeatureTol = 1e-4;  // features, predictions, targets, loss (fixture README)
constexpr double kScheduleTol = 1e-12; // lr, wd, momentum

struct Official : ::testing::Test, OfficialTiny {};

} // namespace

TEST_F(Official, TargetFeaturesMatch)
{
    torch::NoGradGuard g;
    EXPECT_LT(maxAbsDiff(model.targetEncoder->forward(input()), tensorAt(ref, "target_features")), kFeatureTol);
}

TEST_F(Official, ContextFeaturesMatch)
{
    torch::NoGradGuard g;
    auto z = model.encoder->forward(input(), maskList(masks.enc));
    EXPECT_LT(maxAbsDiff(z, tensorAt(ref, "context_features")), kFeatureTol);
}

TEST_F(Official, PredictionsTargetsAndLossMatch)
{
    torch::NoGradGuard g;
    auto z = model.predictions(input(), masks);
    auto h = model.targets(input(), masks);
    ASSERT_EQ(z.sizes(), tensorAt(ref, "predictions").sizes());
    EXPECT_LT(maxAbsDiff(z, tensorAt(ref, "predictions")), kFeatureTol);
    EXPECT_LT(maxAbsDiff(h, tensorAt(ref, "targets")), kFeatureTol);
    const double loss = torch::smooth_l1_loss(z, h).item<double>();
    EXPECT_NEAR(loss, tensorAt(ref, "loss").item<double>(), kFeatureTol);
}

TEST_F(Official, InputNormalisationMatches)
{
    auto images = tensorAt(ref, "images").permute({0, 3, 1, 2}).to(torch::kFloat) / 255.0;
    auto mean = torch::tensor({0.485, 0.456, 0.406}, torch::kFloat).view({1, 3, 1, 1});
    auto stdv = torch::tensor({0.229, 0.224, 0.225}, torch::kFloat).view({1, 3, 1, 1});
    EXPECT_LT(maxAbsDiff((images - mean) / stdv, input()), 1e-5);
}

TEST_F(Official, SchedulesMatch)
{
    const int64_t ipe = tensorAt(ref, "iterations_per_epoch").item<int64_t>();
    Schedules s(config.optimization, ipe);
    auto lr = tensorAt(ref, "lr"), wd = tensorAt(ref, "wd"), mom = tensorAt(ref, "momentum");
    for (int64_t i = 0; i < lr.size(0); ++i) {
        EXPECT_NEAR(s.learningRate(i + 1), lr[i].item<double>(), kScheduleTol) << "step " << i + 1;
        EXPECT_NEAR(s.weightDecay(i + 1), wd[i].item<double>(), kScheduleTol) << "step " << i + 1;
        EXPECT_NEAR(s.momentum(i), mom[i].item<double>(), kScheduleTol) << "iteration " << i;
    }
}

// One full step (backward, AdamW from the checkpoint's optimiser state, EMA) against the reference.
TEST_F(Official, TrainStepMatchesReference)
{
    AdamW opt = optimizer();
    const auto after = afterStep();
    const auto stats = trainStep(model, opt, input(), masks, tensorAt(after, "lr").item<double>(),
                                 tensorAt(after, "wd").item<double>(), tensorAt(after, "momentum").item<double>());
    EXPECT_NEAR(stats.loss, tensorAt(after, "loss").item<double>(), kFeatureTol);
    const std::pair<const char*, torch::nn::Module*> nets[] = {
        {"encoder.", model.encoder.get()}, {"predictor.", model.predictor.get()}, {"target_encoder.", model.targetEncoder.get()}};
    int compared = 0;
    for (const auto& [prefix, net] : nets)
        for (const auto& p : net->named_parameters()) {
            // Updated weights agree to 1e-6 (AdamW's first step moves each weight by ~lr).
            EXPECT_LT(maxAbsDiff(p.value(), tensorAt(after, prefix + p.key())), 1e-6) << prefix << p.key();
            ++compared;
        }
    EXPECT_GT(compared, 60);
}
