// Seeing inside: attention maps against a forward pass written out in the test, the predictor
// probe on the reference fixture (target tokens retrieve themselves), the mask statistics against
// the sampler's own batches.
#include "core/errors.h"
#include "core/eval/attention_maps.h"
#include "core/eval/embeddings.h"
#include "core/eval/predictor_probe.h"
#include "core/masks/mask_stats.h"
#include "core/masks/multiblock_masks.h"
#include "tests/core/test_support.h"

using namespace ijepa;

namespace {

const std::string kOfficial = test::sharedFixture("official-tiny/checkpoint.pth.tar");

torch::Tensor param(const torch::nn::Module& m, const std::string& name)
{
    return m.named_parameters()[name];
}

// The encoder's forward up to block `layer`'s attention probabilities, with plain ATen ops on the
// named parameters (no module forward): conv patch embedding, pre-norm blocks, softmax(q k^T/sqrt d).
torch::Tensor independentAttention(const VisionTransformer& enc, const torch::Tensor& images, int layer)
{
    const auto& m = *enc;
    const int64_t D = enc->options.embedDim, H = enc->options.numHeads, P = enc->options.patchSize;
    auto x = torch::conv2d(images, param(m, "patch_embed.proj.weight"), param(m, "patch_embed.proj.bias"), P);
    x = x.flatten(2).transpose(1, 2) + enc->pos_embed;
    const auto ln = [&](const torch::Tensor& t, const std::string& n) {
        return torch::layer_norm(t, {D}, param(m, n + ".weight"), param(m, n + ".bias"), 1e-6);
    };
    const auto lin = [&](const torch::Tensor& t, const std::string& n) {
        return torch::matmul(t, param(m, n + ".weight").t()) + param(m, n + ".bias");
    };
    for (int i = 0;; ++i) {
        const std::string b = "blocks." + std::to_string(i);
        const auto qkv = lin(ln(x, b + ".norm1"), b + ".attn.qkv");
        const int64_t B = qkv.size(0), N = qkv.size(1);
        const auto q = qkv.slice(2, 0, D).reshape({B, N, H, D / H}).transpose(1, 2);
        const auto k = qkv.slice(2, D, 2 * D).reshape({B, N, H, D / H}).transpose(1, 2);
        const auto v = qkv.slice(2, 2 * D, 3 * D).reshape({B, N, H, D / H}).transpose(1, 2);
        const auto probs = torch::softmax(torch::matmul(q, k.transpose(2, 3)) / std::sqrt(double(D / H)), -1);
        if (i == layer)
            return probs;
        x = x + lin(torch::matmul(probs, v).transpose(1, 2).reshape({B, N, D}), b + ".attn.proj");
        x = x + lin(torch::gelu(lin(ln(x, b + ".norm2"), b + ".mlp.fc1")), b + ".mlp.fc2");
    }
}

} // namespace

TEST(AttentionMaps, RowsSumToOneAndMatchAnIndependentForward)
{
    torch::NoGradGuard noGrad;
    const auto loaded = loadModel(kOfficial, nullptr); // the params-ijepa.yaml beside it
    auto enc = loaded.model->targetEncoder;
    const auto images = torch::randn({2, 3, 64, 64}, at::detail::createCPUGenerator(3));
    for (int layer = 0; layer < 2; ++layer) {
        const auto maps = attentionMaps(enc, images, layer);
        ASSERT_EQ(maps.sizes(), (std::vector<int64_t>{2, 2, 64, 64}));
        EXPECT_LT(test::maxAbsDiff(maps.sum(-1), torch::ones({2, 2, 64})), 1e-5);
        EXPECT_LT(test::maxAbsDiff(maps, independentAttention(enc, images, layer)), 1e-5) << "layer " << layer;
    }
    const auto maps = attentionMaps(enc, images, 1)[0];
    EXPECT_LT(test::maxAbsDiff(attentionRow(maps, -1, 5), (maps[0][5] + maps[1][5]) / 2), 1e-7);
    EXPECT_LT(test::maxAbsDiff(attentionRow(maps, 1, -1), maps[1].mean(0)), 1e-7);
    EXPECT_NEAR(attentionRow(maps, -1, -1).sum().item<double>(), 1.0, 1e-5);
    EXPECT_THROW(attentionMaps(enc, images, 2), ConfigError);
}

TEST(PredictorProbe, TargetTokensRetrieveThemselves)
{
    const auto loaded = loadModel(kOfficial, nullptr);
    auto& model = *loaded.model;
    const auto gen = at::detail::createCPUGenerator(11);
    const auto views = torch::randn({6, 3, 64, 64}, gen);
    auto target = model.targetEncoder;
    const PatchBank bank = buildPatchBank(target, views, 4);
    ASSERT_EQ(bank.index->size(), 6 * 64);
    const int image = 4;
    std::vector<std::int64_t> context;
    for (int i = 0; i < 64; ++i)
        if (i % 8 < 4)
            context.push_back(i);
    const std::vector<std::vector<std::int64_t>> targets{{5, 6, 13, 14}, {44, 45, 46, 52, 53, 54}};
    const auto probe = probePredictor(model, views[image], context, targets, bank);
    ASSERT_EQ(probe.blocks.size(), 2u);
    for (const auto& block : probe.blocks) {
        ASSERT_EQ(block.targetHits.size(), block.patches.size());
        for (size_t i = 0; i < block.patches.size(); ++i) {
            EXPECT_EQ(block.targetHits[i].index, image * 64 + block.patches[i]);
            EXPECT_NEAR(block.targetHits[i].similarity, 1.0, 1e-5);
        }
        // The predictions equal the model's own predictor path on the same masks.
        const auto ctx = torch::tensor(context).unsqueeze(0);
        const auto tgt = torch::tensor(block.patches).unsqueeze(0);
        torch::NoGradGuard noGrad;
        const auto expected = model.predictor->forward(model.encoder->forward(views[image].unsqueeze(0), {ctx}), {ctx}, {tgt})[0];
        EXPECT_LT(test::maxAbsDiff(block.predicted, expected), 1e-6);
        const auto cos = torch::cosine_similarity(block.predicted, block.target, 1);
        for (size_t i = 0; i < block.cosine.size(); ++i)
            EXPECT_NEAR(block.cosine[i], cos[static_cast<int64_t>(i)].item<float>(), 1e-6);
    }
    // Retrieved pixels land in the target patches and nowhere else.
    const auto bankHwc = torch::randint(0, 255, {6, 64, 64, 3}, gen).to(torch::kUInt8);
    const auto img = torch::zeros({64, 64, 3}, torch::kUInt8);
    const auto out = assembleRetrieved(img, 8, probe, bankHwc, false);
    EXPECT_TRUE(torch::equal(out.slice(0, 0, 8).slice(1, 40, 48), bankHwc[image].slice(0, 0, 8).slice(1, 40, 48)));
    EXPECT_EQ(out.slice(0, 16, 40).sum().item<int64_t>(), 0); // rows 2-4 hold no target patch
    // Leaving the query image out of the bank: no hit comes from it.
    const auto without = probePredictor(model, views[image], context, targets, bank, image);
    for (const auto& block : without.blocks)
        for (size_t i = 0; i < block.patches.size(); ++i) {
            EXPECT_NE(block.targetHits[i].index / 64, image);
            EXPECT_NE(block.predictedHits[i].index / 64, image);
            EXPECT_LT(block.targetHits[i].similarity, 1.0f - 1e-4f);
        }
    EXPECT_THROW(probePredictor(model, views[0], {}, targets, bank), ConfigError);
    EXPECT_THROW(probePredictor(model, views[0], context, {{64}}, bank), ConfigError);
}

TEST(MaskStats, MatchTheSamplersOwnBatches)
{
    Config c = test::smallModelConfig();
    c.data.batch_size = 8;
    const int batches = 60, grid = c.gridSize();
    const MaskStats s = computeMaskStats(c, batches, 7);
    ASSERT_EQ(s.images, batches * 8);
    // Count the truncated batches the trainer gets, independently.
    MaskSampler sampler(c.mask, grid, grid, static_cast<uint64_t>(c.meta.seed));
    sampler.setIteration(7);
    std::vector<double> ctx(grid * grid, 0), tgt(grid * grid, 0), none(grid * grid, 0);
    double truncated = 0;
    for (int i = 0; i < batches; ++i) {
        const auto b = sampler.sample(8);
        truncated += static_cast<double>(b.enc.size(2)) * 8;
        for (int64_t img = 0; img < 8; ++img) {
            std::vector<int> inCtx(grid * grid, 0), inTgt(grid * grid, 0);
            for (int64_t k = 0; k < b.enc.size(2); ++k)
                inCtx[b.enc[0][img][k].item<int64_t>()] = 1;
            for (int64_t m = 0; m < b.pred.size(0); ++m)
                for (int64_t k = 0; k < b.pred.size(2); ++k)
                    inTgt[b.pred[m][img][k].item<int64_t>()] = 1;
            for (int cell = 0; cell < grid * grid; ++cell) {
                ctx[cell] += inCtx[cell];
                tgt[cell] += inTgt[cell];
                none[cell] += !inCtx[cell] && !inTgt[cell];
            }
        }
    }
    for (int cell = 0; cell < grid * grid; ++cell) {
        EXPECT_NEAR(s.context[cell], ctx[cell] / s.images, 1e-12) << cell;
        EXPECT_NEAR(s.target[cell], tgt[cell] / s.images, 1e-12) << cell;
        EXPECT_NEAR(s.excluded[cell], none[cell] / s.images, 1e-12) << cell;
    }
    EXPECT_NEAR(s.mean(s.contextTruncated), truncated / s.images, 1e-12);
    ASSERT_EQ(s.contextKept.size(), static_cast<size_t>(s.images));
    ASSERT_EQ(s.targetBlock.size(), static_cast<size_t>(s.images * c.mask.num_pred_masks));
    for (size_t i = 0; i < s.contextKept.size(); ++i) {
        EXPECT_LE(s.contextTruncated[i], s.contextKept[i]);
        EXPECT_LE(s.contextKept[i], s.contextBlock[i]);
    }
    double kept = 0, dropped = 0;
    for (size_t i = 0; i < s.contextKept.size(); ++i) {
        kept += s.contextKept[i];
        dropped += s.contextKept[i] - s.contextTruncated[i];
    }
    EXPECT_NEAR(s.contextDropped, dropped / kept, 1e-12);
    EXPECT_GT(s.contextDropped, 0.0); // per-image context sizes differ, so truncation drops some
}

TEST(MaskStats, FaithfulNeverTargetsTheLastRowAndColumnCorrectedDoes)
{
    Config c = test::smallModelConfig();
    const int grid = c.gridSize();
    const auto lastRowCol = [grid](const std::vector<double>& m) {
        double sum = 0;
        for (int i = 0; i < grid; ++i)
            sum += m[(grid - 1) * grid + i] + m[i * grid + grid - 1];
        return sum;
    };
    const MaskStats faithful = computeMaskStats(c, 50);
    EXPECT_EQ(lastRowCol(faithful.target), 0.0);
    c.mask.position_mode = "corrected";
    const MaskStats corrected = computeMaskStats(c, 50);
    EXPECT_GT(lastRowCol(corrected.target), 0.05 * grid);
    // Progress reports every batch and a false return stops early.
    int calls = 0;
    const MaskStats part = computeMaskStats(c, 50, 0, [&](int done, int total) {
        EXPECT_EQ(total, 50);
        return ++calls < 5 && done == calls;
    });
    EXPECT_EQ(calls, 5);
    EXPECT_EQ(part.images, 5 * c.data.batch_size);
    const auto table = maskStatsTable({"faithful", "corrected"}, {faithful, corrected});
    EXPECT_NE(table.find("last row/column is a target (share)"), std::string::npos);
    // Counts are whole numbers ("images 6400", not "6400.000"); a long name is never cut.
    const std::string images = std::to_string(faithful.images);
    EXPECT_NE(table.find(images + " "), std::string::npos) << table;
    EXPECT_EQ(table.find(images + ".000"), std::string::npos) << table;
    const std::string longName = "sampler rasterized, truncation random, corrected";
    EXPECT_NE(maskStatsTable({longName}, {faithful}).find(longName), std::string::npos);
}
