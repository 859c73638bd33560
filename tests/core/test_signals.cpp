// The learning signals: the online probe equals ijepa eval knn, the spectrum equals an independent
// decomposition, the predictor's loss map sums back to the step's loss, and the verdict tells a
// collapsed encoder from a healthy one.
#include "core/eval/embeddings.h"
#include "core/eval/evaluation.h"
#include "core/masks/multiblock_masks.h"
#include "core/model/ijepa_model.h"
#include "core/train/diagnostics.h"
#include "core/train/run.h"
#include "core/train/train_step.h"
#include "tests/core/test_support.h"

#include <ATen/Parallel.h>

using namespace ijepa;
using ijepa::test::TempDir;

namespace {

struct Recorder : TrainObserver {
    std::vector<StepReport> steps;
    void stepDone(const Step& step) override { steps.push_back(step.report); }
};

// 4 steps of the small model in `dir` with diagnostics every 2 steps on a probe of `queries`.
RunSettings probedSettings(const TempDir& dir, const std::shared_ptr<ImageSource>& database,
                           const std::shared_ptr<ImageSource>& queries)
{
    RunSettings s;
    s.trainer.config = test::smallModelConfig();
    s.trainer.config.optimization.epochs = 1;
    s.trainer.data = limitSource(openFashionMnist("train"), 64);
    s.trainer.outDir = dir.path.string();
    s.log.imageEvery = 0;
    s.diagnostics.every = 2;
    s.diagnostics.source = queries;
    s.diagnostics.database = database;
    s.diagnostics.finalTrain = database; // the end-of-run k-NN, here on the probe's own images
    s.diagnostics.finalTest = queries;
    return s;
}

// That run with a 100-image probe and a 300-image database.
struct ProbedRun {
    TempDir dir;
    Recorder rec;
    TrainResult result;
    std::shared_ptr<ImageSource> database = limitSource(openFashionMnist("train"), 300);
    std::shared_ptr<ImageSource> queries = limitSource(openFashionMnist("test"), 100);
    ProbedRun()
    {
        std::atomic_bool stop{false};
        result = runTraining(probedSettings(dir, database, queries), rec, stop);
    }
    VisionTransformer encoder(bool context = false) const
    {
        return loadEncoder(dir.file("jepa-latest.pth.tar"), nullptr, context).encoder;
    }
};

ProbedRun& probedRun()
{
    static ProbedRun run; // one run for the tests that read it
    return run;
}

} // namespace

TEST(Signals, OnlineProbeEqualsEvalKnnOnTheSameImagesAndWeights)
{
    auto& run = probedRun();
    ASSERT_EQ(run.rec.steps.size(), 4u);
    EXPECT_FALSE(std::isfinite(run.rec.steps[0].probeAccuracy));
    const StepReport& last = run.rec.steps.back();
    ASSERT_TRUE(std::isfinite(last.probeAccuracy));
    ASSERT_TRUE(last.signals);
    EXPECT_EQ(last.signals->probeDatabase, 300);
    EXPECT_EQ(last.signals->probeQueries, 100);
    // ijepa eval knn's path: embed both sets with the checkpoint's target encoder, k-NN.
    auto encoder = run.encoder();
    const auto train = embedImages(encoder, *run.database, 32);
    const auto test = embedImages(encoder, *run.queries, 32);
    const double knn = knnAccuracy(train.features, train.labels, test.features, test.labels);
    std::cout << "probe k-NN at step 4: " << last.probeAccuracy << ", eval knn: " << knn << "\n";
    EXPECT_NEAR(last.probeAccuracy, knn, 1e-6);
    EXPECT_GT(knn, 0.1); // above chance for 10 classes, even this early
    // The end-of-run evaluation: the same weights and, here, the same images.
    EXPECT_NEAR(run.result.finalKnn, knn, 1e-6);
}

TEST(Signals, ContextProbeEqualsEvalKnnOfTheContextEncoder)
{
    auto& run = probedRun();
    EXPECT_FALSE(std::isfinite(run.rec.steps[0].contextProbeAccuracy));
    const StepReport& last = run.rec.steps.back();
    ASSERT_TRUE(std::isfinite(last.contextProbeAccuracy));
    // ijepa eval knn --context: the checkpoint's context encoder, not the target encoder.
    auto context = run.encoder(true), target = run.encoder(false);
    const auto train = embedImages(context, *run.database, 32);
    const auto test = embedImages(context, *run.queries, 32);
    const double knn = knnAccuracy(train.features, train.labels, test.features, test.labels);
    std::cout << "context probe k-NN at step 4: " << last.contextProbeAccuracy << ", eval knn --context: " << knn
              << " (target " << last.probeAccuracy << ")\n";
    EXPECT_NEAR(last.contextProbeAccuracy, knn, 1e-6);
    // The two encoders differ after 4 steps (the EMA lags), so the probe read the one it names.
    const double apart = (test.features - embedImages(target, *run.queries, 32).features).abs().max().item<double>();
    std::cout << "largest feature difference, context against target: " << apart << "\n";
    EXPECT_GT(apart, 1e-2);
}

TEST(Signals, Bf16ProbeStaysNearTheFp32Probe)
{
    // A bf16 run's probe embeds under bf16 autocast (its step's precision): features within bf16's
    // rounding of the fp32 ones, and a k-NN figure that moves by a few near-tie queries at most.
    auto& run = probedRun();
    auto encoder = run.encoder();
    const auto probe = makeProbeSet(*run.queries, run.database.get(), 32);
    const auto fp32 = embedViews(encoder, probe.queries.images);
    const auto bf16 = embedViews(encoder, probe.queries.images, 256, true);
    ASSERT_EQ(bf16.scalar_type(), torch::kFloat);
    const double distance = ((bf16 - fp32).norm() / fp32.norm()).item<double>();
    const double knn32 = probeKnn(encoder, probe), knn16 = probeKnn(encoder, probe, {}, true);
    std::cout << "bf16 probe against fp32: features " << distance << " relative, k-NN " << knn16 << " / " << knn32 << "\n";
    EXPECT_GT(distance, 0.0); // the flag reached the products (bf16 rounds them on any CPU)
    EXPECT_LT(distance, 0.02); // bf16 keeps 8 bits: about 0.4% per rounding, a few of them in sequence
    EXPECT_NEAR(knn16, knn32, 0.03); // 3 of the 100 queries
}

TEST(Signals, SpectrumEqualsAnIndependentDecomposition)
{
    auto& run = probedRun();
    const StepReport& last = run.rec.steps.back();
    ASSERT_TRUE(last.signals);
    auto encoder = run.encoder();
    const auto f = embedImages(encoder, *run.queries, 32).features.to(torch::kFloat64); // [100, 64]
    // Singular values as square roots of the eigenvalues of the Gram matrix F^T F (float64).
    auto s = torch::linalg::eigvalsh(f.t().mm(f), "L").clamp_min(0).sqrt().flip(0);
    s = s / s.sum();
    ASSERT_EQ(last.signals->spectrum.size(), static_cast<size_t>(s.size(0)));
    double worst = 0;
    for (int64_t i = 0; i < s.size(0); ++i)
        worst = std::max(worst, std::abs(last.signals->spectrum[static_cast<size_t>(i)] - s[i].item<double>()));
    EXPECT_LT(worst, 1e-5);
    const auto p = s + std::numeric_limits<float>::epsilon();
    EXPECT_NEAR(last.rankMe, torch::exp(-(p * p.log()).sum()).item<double>(), 1e-4 * last.rankMe);
    EXPECT_EQ(last.signals->verdict.size() >= 2, true);
}

TEST(Signals, PositionLossSumsBackToTheStepLoss)
{
    for (int threads : {1, 2}) { // the whole-batch step and the split-batch step
        at::set_num_threads(threads);
        torch::manual_seed(0);
        Config c = test::smallModelConfig();
        IJepaModel model(c);
        AdamW opt(model.paramGroups());
        MaskSampler sampler(c.mask, 8, 8, 3);
        const auto masks = sampler.sample(16);
        const auto images = torch::randn({16, 3, 32, 32});
        const StepStats stats = trainStep(model, opt, images, masks, 1e-3, 0.04, 0.996);
        const TokenLoss& t = stats.tokens;
        const int64_t npred = masks.pred.size(0), nenc = masks.enc.size(0), k = masks.pred.size(2);
        EXPECT_EQ(t.positionSum.size(0), 64);
        EXPECT_EQ(t.positionCount.sum().item<double>(), static_cast<double>(npred * nenc * 16 * k));
        EXPECT_NEAR(t.positionSum.sum().item<double>() / t.positionCount.sum().item<double>(), stats.loss, 1e-6 * stats.loss)
            << threads << " threads";
        EXPECT_NEAR(t.blockSum.sum().item<double>() / static_cast<double>(t.tokensPerBlock * npred), stats.loss,
                    1e-6 * stats.loss);
        // Faithful positions: no target block ever reaches the last row or column.
        const auto count = t.positionCount.reshape({8, 8});
        EXPECT_EQ(count.select(0, 7).sum().item<double>(), 0.0);
        EXPECT_EQ(count.select(1, 7).sum().item<double>(), 0.0);
    }
    at::set_num_threads(2);
}

TEST(Signals, VerdictSaysCollapseForAConstantEncoderAndNotForAHealthyOne)
{
    const auto queries = limitSource(openFashionMnist("test"), 128);
    const auto database = limitSource(openFashionMnist("train"), 256);
    VisionTransformerOptions vo;
    vo.imgSize = 32;
    vo.patchSize = 4;
    vo.embedDim = 64;
    vo.depth = 2;
    vo.numHeads = 2;
    torch::manual_seed(0);
    VisionTransformer healthy(vo);
    VisionTransformer collapsed(vo);
    {
        torch::NoGradGuard noGrad;
        for (auto& p : collapsed->parameters())
            p.zero_();
        collapsed->norm->bias.fill_(1.0); // every token of every image is the same vector
    }
    const auto verdictOf = [&](VisionTransformer& encoder) {
        const auto m = measureRepresentation(encoder, makeProbeSet(*queries, database.get(), 32));
        return assessHealth({{100, 0.3, m.signals.probeAccuracy, m.rankMe, m.featureStd}}, m.signals.embedDim);
    };
    const auto bad = verdictOf(collapsed);
    const auto good = verdictOf(healthy);
    const auto stateOf = [](const std::vector<HealthLine>& v, const std::string& topic) {
        for (const auto& l : v)
            if (l.topic == topic)
                return l.state;
        return std::string("missing");
    };
    EXPECT_EQ(stateOf(bad, "spectrum"), "collapse") << describeVerdict(bad);
    EXPECT_NE(describeVerdict(bad).find("collapse"), std::string::npos);
    // A random-init encoder is not collapsed, but its pooled features crowd into a narrow cone
    // (cosines near 1): the verdict says so instead of calling a std of 0.01 healthy.
    EXPECT_EQ(stateOf(good, "spectrum"), "narrow") << describeVerdict(good);
    EXPECT_EQ(describeVerdict(good).find("collapse"), std::string::npos) << describeVerdict(good);
    // By the std against 1/sqrt(D) (0.072 for D = 192): spread, narrow, collapsed.
    const auto spectrumAt = [&](double std) {
        return stateOf(assessHealth({{100, 0.3, 0.5, 40.0, std}}, 192), "spectrum");
    };
    EXPECT_EQ(spectrumAt(0.06), "healthy");
    EXPECT_EQ(spectrumAt(0.0113), "narrow");
    EXPECT_EQ(spectrumAt(1e-4), "collapse");
}

TEST(Signals, VerdictReadsTrendsOverTheLastDiagnosticSteps)
{
    const auto state = [](const std::vector<HealthLine>& v, const std::string& topic) {
        for (const auto& l : v)
            if (l.topic == topic)
                return l.state;
        return std::string("missing");
    };
    std::vector<HealthPoint> rising, flat, falling;
    for (int i = 0; i < 5; ++i) {
        rising.push_back({100 * (i + 1), 0.3 - 0.02 * i, 0.55 + 0.02 * i, 8.0, 0.02});
        flat.push_back({100 * (i + 1), 0.3 - 0.04 * i, 0.60 + (i % 2 ? 0.002 : -0.002), 8.0, 0.02});
        falling.push_back({100 * (i + 1), 0.3, 0.70 - 0.03 * i, 8.0 - 1.5 * i, 0.02});
    }
    EXPECT_EQ(state(assessHealth(rising, 192), "probe"), "rising");
    EXPECT_EQ(state(assessHealth(rising, 192), "progress"), "missing");
    const auto f = assessHealth(flat, 192);
    EXPECT_EQ(state(f, "probe"), "flat");
    EXPECT_EQ(state(f, "progress"), "not improving") << describeVerdict(f); // loss 0.30 -> 0.14, probe flat
    const auto d = assessHealth(falling, 192);
    EXPECT_EQ(state(d, "probe"), "falling");
    EXPECT_EQ(state(d, "spectrum"), "collapsing") << describeVerdict(d); // RankMe 8 -> 2
    // The same flat target probe while the context encoder's rises 0.50 -> 0.66: the EMA lags, no warning.
    auto lagging = flat;
    for (int i = 0; i < 5; ++i)
        lagging[static_cast<size_t>(i)].contextProbe = 0.50 + 0.04 * i;
    const auto l = assessHealth(lagging, 192);
    EXPECT_EQ(state(l, "progress"), "target lags") << describeVerdict(l);
    EXPECT_EQ(state(l, "encoders"), "target lags"); // 66% against 59.8%
    for (const auto& line : l)
        EXPECT_FALSE(line.warning) << line.text;
    EXPECT_EQ(state(f, "encoders"), "missing"); // no context probe, no line
    lagging.back().contextProbe = 0.605;        // within a point of the target's 59.8%
    EXPECT_EQ(state(assessHealth(lagging, 192), "encoders"), "level");
    EXPECT_EQ(state(assessHealth({rising[0]}, 192), "probe"), "early");
    EXPECT_EQ(state(assessHealth({{100, 0.3}}, 192, "no labels"), "probe"), "off");
}

// Ctrl+C (or the workbench's Stop) while the end-of-run k-NN embeds its images: the evaluation stops
// at its next batch and says so, instead of running to its end (100 s on Fashion-MNIST on 2 cores);
// the checkpoint is still written.
TEST(Signals, AStopDuringTheFinalKnnEndsItAtTheNextBatch)
{
    struct StopAtFinalKnn : TrainObserver {
        std::atomic_bool stop{false};
        int reports = 0;
        std::vector<std::string> messages;
        void workProgress(const std::string& what, std::int64_t, std::int64_t) override
        {
            if (what == "final k-NN") {
                ++reports;
                stop = true; // as the signal handler does
            }
        }
        void message(const std::string& line) override { messages.push_back(line); }
    } observer;
    TempDir dir;
    const auto database = limitSource(openFashionMnist("train"), 2000), queries = limitSource(openFashionMnist("test"), 100);
    const TrainResult result = runTraining(probedSettings(dir, database, queries), observer, observer.stop);
    EXPECT_EQ(result.status, TrainStatus::Finished); // every step ran: the training itself is complete
    EXPECT_TRUE(std::isnan(result.finalKnn));
    EXPECT_EQ(observer.reports, 1) << "embedding went on after the stop (2,100 images in batches of " << kEmbedBatch << ")";
    EXPECT_TRUE(std::any_of(observer.messages.begin(), observer.messages.end(),
                            [](const std::string& m) { return m.find("final k-NN evaluation left undone: stop requested") == 0; }));
    EXPECT_TRUE(std::filesystem::exists(dir.file("jepa-latest.pth.tar")));
}
