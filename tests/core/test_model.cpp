#include "core/io/checkpoint.h"
#include "core/model/attention.h"
#include "core/compat.h"
#include "core/model/ijepa_model.h"
#include "core/train/train_step.h"
#include "tests/core/test_support.h"

using namespace ijepa;
using namespace ijepa::test;

namespace {
Config tinyConfig() { return loadConfig(sharedFixture("official-tiny/params-ijepa.yaml")); }

std::vector<std::string> keysOf(const c10::IValue& dict)
{
    std::vector<std::string> keys;
    for (const auto& e : dict.toGenericDict())
        keys.push_back(e.key().toStringRef());
    return keys;
}
} // namespace

TEST(Model, StateDictNamesAndOrderMatchTheReference)
{
    IJepaModel model(tinyConfig());
    const auto ref = readTorchFile(sharedFixture("official-tiny/checkpoint.pth.tar")).toGenericDict();
    EXPECT_EQ(keysOf(stateDict(*model.encoder)), keysOf(ref.at("encoder")));
    EXPECT_EQ(keysOf(stateDict(*model.predictor)), keysOf(ref.at("predictor")));
}

TEST(Model, ParamGroupsMatchTheReferenceOptimiser)
{
    IJepaModel model(tinyConfig());
    const auto ref = readTorchFile(sharedFixture("official-tiny/checkpoint.pth.tar")).toGenericDict();
    const auto groups = ref.at("opt").toGenericDict().at("param_groups").toListRef();
    const auto ours = model.paramGroups();
    ASSERT_EQ(ours.size(), groups.size());
    for (size_t g = 0; g < ours.size(); ++g)
        EXPECT_EQ(ours[g].params.size(), groups[g].toGenericDict().at("params").toListRef().size()) << g;
}

TEST(Model, SincosPositionEmbeddingMatchesTheReference)
{
    const auto ref = readTorchFile(sharedFixture("official-tiny/checkpoint.pth.tar")).toGenericDict();
    const auto pos = ref.at("encoder").toGenericDict().at("module.pos_embed").toTensor();
    EXPECT_LT(maxAbsDiff(sincosPosEmbed2d(64, 8).unsqueeze(0), pos), 1e-6);
    const auto ppos = ref.at("predictor").toGenericDict().at("module.predictor_pos_embed").toTensor();
    EXPECT_LT(maxAbsDiff(sincosPosEmbed2d(32, 8).unsqueeze(0), ppos), 1e-6);
}

TEST(Model, ReferenceInitialisation)
{
    torch::manual_seed(0);
    Config c;
    c.data.crop_size = 32;
    c.mask.patch_size = 4;
    c.mask.min_keep = 4;
    c.meta.model_name = "vit_tiny";
    c.meta.pred_emb_dim = 96;
    c.meta.pred_depth = 2;
    IJepaModel model(c);
    const auto& qkv = model.encoder->blocks[3]->as<Block>()->attn->qkv;
    EXPECT_NEAR(qkv->weight.std().item<double>(), 0.02, 0.001); // trunc-normal std 0.02 (+-5%)
    EXPECT_EQ(qkv->bias.abs().max().item<double>(), 0.0);
    EXPECT_NEAR(model.predictor->mask_token.std().item<double>(), 0.02, 0.005); // 96 samples
    const auto& ln = model.encoder->norm;
    EXPECT_EQ(ln->weight.min().item<double>(), 1.0);
    EXPECT_EQ(ln->bias.abs().max().item<double>(), 0.0);
    EXPECT_FALSE(model.encoder->pos_embed.requires_grad());
    for (const auto& p : model.targetEncoder->parameters())
        EXPECT_FALSE(p.requires_grad());
    const auto a = model.encoder->parameters(), b = model.targetEncoder->parameters();
    for (size_t i = 0; i < a.size(); ++i)
        EXPECT_TRUE(torch::equal(a[i], b[i])) << "target encoder starts as a copy";
    EXPECT_EQ(parameterCount(*model.encoder, /*trainableOnly=*/true),
              parameterCount(*model.encoder) - model.encoder->pos_embed.numel());
}

TEST(Model, ShapesWithMasks)
{
    Config c = tinyConfig();
    IJepaModel model(c);
    MaskSampler sampler(c.mask, 8, 8);
    const auto masks = sampler.sample(3);
    auto images = torch::randn({3, 3, 64, 64});
    auto z = model.predictions(images, masks);
    auto h = model.targets(images, masks);
    EXPECT_EQ(z.sizes(), h.sizes());
    EXPECT_EQ(z.size(0), 4 * 3);
    EXPECT_EQ(z.size(1), masks.pred.size(2));
    EXPECT_EQ(z.size(2), 64);
    // Targets are layer-normed: zero mean, unit variance per token.
    EXPECT_LT(h.mean(-1).abs().max().item<double>(), 1e-5);
}

TEST(Model, LastLayersFeaturesAreTheMeanOfTheNormedBlockOutputs)
{
    torch::manual_seed(0);
    Config c = tinyConfig();
    IJepaModel model(c);
    auto& vit = model.targetEncoder;
    torch::NoGradGuard noGrad;
    const auto images = torch::randn({2, 3, 64, 64});
    EXPECT_TRUE(torch::equal(vit->forwardLastLayers(images, 1), vit->forward(images)));
    // Written out: the tokens after each block, the last two through the final norm, averaged.
    auto x = vit->patch_embed(images) + vit->pos_embed;
    std::vector<torch::Tensor> outs;
    for (const auto& block : *vit->blocks)
        outs.push_back(x = block->as<Block>()->forward(x));
    const auto n = outs.size();
    const auto expected = (vit->norm(outs[n - 2]) + vit->norm(outs[n - 1])) / 2;
    EXPECT_LT((vit->forwardLastLayers(images, 2) - expected).abs().max().item<double>(), 1e-6);
    EXPECT_GT((expected - vit->forward(images)).abs().max().item<double>(), 1e-2); // a different feature
    EXPECT_THROW(vit->forwardLastLayers(images, static_cast<int>(n) + 1), std::invalid_argument);
    EXPECT_THROW(vit->forwardLastLayers(images, 0), std::invalid_argument);
}

TEST(Model, LastBlocksOnSomeTokensMatchTheFullBlocks)
{
    // The predictor's last block computes its target tokens only and the target encoder's last
    // block the targets' tokens only: the same outputs and gradients as the full block, sliced.
    torch::manual_seed(0);
    Config c = tinyConfig();
    IJepaModel model(c);
    auto block = model.predictor->predictor_blocks[0]->as<Block>();
    const auto x = torch::randn({6, 22, c.meta.pred_emb_dim}, torch::requires_grad());
    const auto gradOut = torch::randn({6, 13, c.meta.pred_emb_dim});
    const auto gradsOf = [&](const torch::Tensor& out) {
        auto inputs = block->parameters();
        inputs.push_back(x);
        return torch::autograd::grad({out}, inputs, {gradOut});
    };
    const auto tail = block->forward(x, 9);
    const auto full = block->forward(x).slice(1, 9);
    EXPECT_LT(maxAbsDiff(tail, full), 1e-5);
    const auto a = gradsOf(tail), b = gradsOf(full);
    for (size_t i = 0; i < a.size(); ++i)
        EXPECT_LT(maxAbsDiff(a[i], b[i]), 1e-5) << "gradient " << i;
    EXPECT_GT(a.back().abs().max().item<double>(), 1e-3);

    torch::NoGradGuard noGrad;
    MaskSampler sampler(c.mask, 8, 8, 3);
    const auto masks = sampler.sample(3);
    const auto images = torch::randn({3, 3, 64, 64});
    const auto rows = torch::tensor({{5, 5, 63, 0}, {1, 2, 3, 4}, {60, 7, 7, 7}}, torch::kInt64);
    auto& vit = model.targetEncoder;
    EXPECT_LT(maxAbsDiff(vit->forwardAt(images, rows), gatherRows(vit->forward(images), rows)), 1e-5);
    auto h = vit->forward(images);
    h = applyMasks(torch::layer_norm(h, {h.size(-1)}), maskList(masks.pred));
    EXPECT_LT(maxAbsDiff(model.targets(images, masks), h), 1e-5);
}

TEST(Model, EmaUpdateIsTheConvexCombination)
{
    IJepaModel model(tinyConfig());
    {
        torch::NoGradGuard g;
        for (auto& p : model.encoder->parameters())
            p.add_(1.0);
    }
    const auto before = model.targetEncoder->norm->weight.clone();
    const auto online = model.encoder->norm->weight.clone();
    model.updateTargetEncoder(0.9);
    EXPECT_LT(maxAbsDiff(model.targetEncoder->norm->weight, 0.9 * before + 0.1 * online), 1e-6);
}

TEST(Model, TrainingLowersTheLossOnAFixedBatch)
{
    torch::manual_seed(0);
    Config c = tinyConfig();
    IJepaModel model(c);
    AdamW opt(model.paramGroups());
    MaskSampler sampler(c.mask, 8, 8);
    const auto masks = sampler.sample(4);
    auto images = torch::randn({4, 3, 64, 64});
    const double first = trainStep(model, opt, images, masks, 1e-3, 0.04, 0.996).loss;
    double last = first;
    for (int i = 0; i < 15; ++i)
        last = trainStep(model, opt, images, masks, 1e-3, 0.04, 0.996).loss;
    EXPECT_LT(last, 0.8 * first);
}

TEST(Model, SplitBatchStepMatchesTheWholeBatchStep)
{
    // On CPU a step splits the batch over the intra-op threads (here 7 images as 2 + 2 + 3); the
    // result must be the whole-batch step's up to float rounding.
    Config c = smallModelConfig();
    MaskSampler sampler(c.mask, 8, 8, 5);
    std::vector<MaskBatch> masks{sampler.sample(7), sampler.sample(7)};
    torch::manual_seed(3);
    const auto images = torch::randn({7, 3, 32, 32});
    auto run = [&](int threads) {
        const ThreadCount pinned(threads);
        torch::manual_seed(0);
        auto model = std::make_unique<IJepaModel>(c);
        AdamW opt(model->paramGroups());
        std::vector<double> losses;
        for (const auto& m : masks)
            losses.push_back(trainStep(*model, opt, images, m, 1e-3, 0.04, 0.996).loss);
        return std::make_pair(std::move(model), losses);
    };
    auto [whole, wholeLosses] = run(1);
    auto [split, splitLosses] = run(3);
#if !IJEPA_TORCH_AT_LEAST(2, 1)
    {
        const ThreadCount pinned(3);
        EXPECT_EQ(trainStepSlices(images), 3) << "Debian's LibTorch shares libgomp with the core: the step splits";
    }
#endif
    for (size_t i = 0; i < wholeLosses.size(); ++i)
        EXPECT_NEAR(splitLosses[i], wholeLosses[i], 1e-6) << "step " << i;
    const auto a = whole->stateTensors(), b = split->stateTensors();
    ASSERT_EQ(a.size(), b.size());
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, maxAbsDiff(a[i], b[i]));
    EXPECT_LT(worst, 1e-5);
    EXPECT_GT(maxAbsDiff(a[1], IJepaModel(c).stateTensors()[1]), 1e-4) << "the steps moved the weights";
}

TEST(Attention, KernelMatchesTheExplicitFormulaForwardAndBackward)
{
#if !IJEPA_TORCH_AT_LEAST(2, 1)
    EXPECT_TRUE(blasAttentionAvailable()) << "LibTorch < 2.1 without the BLAS attention kernel: CMake found no BLAS";
#endif
    struct Shape {
        int64_t batch, tokens, dim, heads, from; // queries: tokens [from, tokens)
    };
    // Every token asks, or only the last 13 of 22 or the last one (a last block's targets).
    for (int threads : {1, 2})
        for (const Shape s : {Shape{3, 64, 192, 3, 0}, Shape{5, 22, 96, 3, 0}, Shape{2, 1, 64, 2, 0},
                              Shape{4, 13, 48, 4, 0}, Shape{5, 22, 96, 3, 9}, Shape{2, 7, 64, 2, 6}}) {
            const int64_t queries = s.tokens - s.from;
            const ThreadCount pinned(threads);
            torch::manual_seed(s.tokens);
            const double scale = 1.0 / std::sqrt(static_cast<double>(s.dim / s.heads));
            auto qkv = torch::randn({s.batch, s.tokens, 3 * s.dim}, torch::requires_grad());
            const auto gradOut = torch::randn({s.batch, queries, s.dim});
            auto out = selfAttention(qkv, s.heads, scale, s.from);
            out.backward(gradOut);
            // The same in double precision, written out.
            auto qkv64 = qkv.detach().to(torch::kDouble).requires_grad_();
            auto p = qkv64.reshape({s.batch, s.tokens, 3, s.heads, s.dim / s.heads}).permute({2, 0, 3, 1, 4});
            auto attn = (torch::matmul(p[0].slice(2, s.from), p[1].transpose(-2, -1)) * scale).softmax(-1);
            auto expected = torch::matmul(attn, p[2]).transpose(1, 2).reshape({s.batch, queries, s.dim});
            expected.backward(gradOut.to(torch::kDouble));
            const std::string where = std::to_string(s.batch) + "x" + std::to_string(s.tokens) + "x" +
                                      std::to_string(s.dim) + "/" + std::to_string(s.heads) + " from token " +
                                      std::to_string(s.from) + ", " + std::to_string(threads) + " threads";
            EXPECT_LT(maxAbsDiff(out, expected), 1e-5) << where;
            EXPECT_LT(maxAbsDiff(qkv.grad(), qkv64.grad()), 1e-5) << where;
            EXPECT_GT(qkv.grad().abs().max().item<double>(), 1e-2) << where;
        }
}

TEST(Model, AFailingSliceEndsTheStepWithItsError)
{
    // A bad mask index in one image makes that slice's gather throw; the step must rethrow it,
    // whichever slice fails, instead of leaving the other slices waiting for their turn.
    const ThreadCount pinned(2);
    Config c = smallModelConfig();
    MaskSampler sampler(c.mask, 8, 8, 5);
    torch::manual_seed(0);
    IJepaModel model(c);
    AdamW opt(model.paramGroups());
    const auto images = torch::randn({4, 3, 32, 32});
    for (int64_t image : {0, 3}) {
        auto masks = sampler.sample(4);
        masks.pred[0][image][0] = 999;
        EXPECT_THROW(trainStep(model, opt, images, masks, 1e-3, 0.04, 0.996), c10::Error) << "image " << image;
    }
    const auto good = sampler.sample(4);
    EXPECT_TRUE(std::isfinite(trainStep(model, opt, images, good, 1e-3, 0.04, 0.996).loss));
}
