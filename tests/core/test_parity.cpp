// Holds the C++ core to the reference implementation's numbers (shared/fixtures/official-tiny and
// tests/fixtures/train_step.pt, both written by facebookresearch/ijepa).
#include "core/compat.h"
#include "core/config.h"
#include "core/io/checkpoint.h"
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

struct Official : ::testing::Test, OfficialTiny {
    // takeReferenceStep's loss and every weight of the three nets after it, by the reference's names.
    std::pair<double, std::vector<std::pair<std::string, torch::Tensor>>> stepFromCheckpoint(
        const c10::Dict<c10::IValue, c10::IValue>& after)
    {
        const auto stats = takeReferenceStep(after);
        std::vector<std::pair<std::string, torch::Tensor>> weights;
        const std::pair<const char*, torch::nn::Module*> nets[] = {
            {"encoder.", model.encoder.get()}, {"predictor.", model.predictor.get()}, {"target_encoder.", model.targetEncoder.get()}};
        for (const auto& [prefix, net] : nets)
            for (const auto& p : net->named_parameters())
                weights.emplace_back(prefix + p.key(), p.value().detach().clone());
        return {stats.loss, std::move(weights)};
    }
};

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

// One full step (backward, AdamW from the checkpoint's optimiser state, EMA) against the reference,
// on one thread (the whole batch) and on two (the batch in two slices, each on its own thread, the
// gradients summed in slice order). Which of the two a plain test process takes depends on
// LibTorch's default thread count on the machine (1 on a 2-vCPU EPYC VM with Debian's LibTorch,
// where `ijepa train` takes the two-slice path), so both are checked on every machine. Each is taken twice from the same state and
// must give the same bits: a step that varied between runs fails here every time, not by chance.
TEST_F(Official, TrainStepMatchesReference)
{
    const auto after = afterStep();
    for (const int threads : {1, 2}) {
        SCOPED_TRACE(std::to_string(threads) + " thread(s)");
        const ThreadCount pinned(threads);
#if !IJEPA_TORCH_AT_LEAST(2, 1)
        EXPECT_EQ(trainStepSlices(input()), threads) << "Debian's LibTorch shares libgomp with the core: the step splits";
#endif
        const auto [loss, weights] = stepFromCheckpoint(after);
        EXPECT_NEAR(loss, tensorAt(after, "loss").item<double>(), kFeatureTol);
        for (const auto& [name, value] : weights) // AdamW moves each weight by up to ~lr
            EXPECT_LT(maxAbsDiff(value, tensorAt(after, name)), 1e-6) << name;
        EXPECT_GT(weights.size(), 60u);
        const auto [lossAgain, weightsAgain] = stepFromCheckpoint(after);
        EXPECT_EQ(lossAgain, loss) << "the same step twice gave two losses";
        for (size_t i = 0; i < weights.size(); ++i)
            EXPECT_TRUE(torch::equal(weightsAgain[i].second, weights[i].second))
                << weights[i].first << ": the same step twice differs by "
                << maxAbsDiff(weightsAgain[i].second, weights[i].second);
    }
}

// The tests' main junk-fills every fresh CPU allocation (tests/test_main.cpp): floats read NaN,
// doubles about 1.8e308. A read of memory nobody wrote then fails every time, instead of only when
// the allocator hands back memory that happened to hold an Inf or a NaN.
TEST(TestMain, FreshTensorsHoldJunk)
{
    EXPECT_TRUE(torch::empty({64}).isnan().all().item<bool>());
    EXPECT_GT(torch::empty({3, 5}, torch::kDouble).abs().min().item<double>(), 1e300);
}

// LibTorch seeds its default generator from /dev/urandom in every process, so the model's initial
// weights differ from run to run: the parity tests hold only if the checkpoint replaces every one
// of them. Two models built under different seeds must agree bit for bit once it is loaded.
TEST(OfficialCheckpoint, ReplacesEveryInitialWeight)
{
    const Config config = loadConfig(sharedFixture("official-tiny/params-ijepa.yaml"));
    const std::string path = sharedFixture("official-tiny/checkpoint.pth.tar");
    const auto checkpoint = readTorchFile(path);
    const auto loaded = [&](int seed) {
        torch::manual_seed(seed);
        auto model = std::make_unique<IJepaModel>(config);
        loadCheckpoint(checkpoint, path, *model, nullptr);
        return model->stateTensors();
    };
    const auto a = loaded(1), b = loaded(2);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_GT(a.size(), 80u);
    for (size_t i = 0; i < a.size(); ++i)
        EXPECT_TRUE(torch::equal(a[i], b[i])) << "state tensor " << i << " keeps its random initial value";
    torch::manual_seed(2);
    const auto initial = IJepaModel(config).stateTensors();
    int replaced = 0;
    for (size_t i = 0; i < a.size(); ++i)
        replaced += torch::equal(initial[i], a[i]) ? 0 : 1;
    EXPECT_GT(replaced, 60) << "the checkpoint's weights are not the initial ones";
}
