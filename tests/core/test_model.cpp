#include "checkpoint.h"
#include "ijepa_model.h"
#include "test_support.h"

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
