#include "core/config.h"
#include "core/errors.h"
#include "core/masks/multiblock_masks.h"
#include "tests/core/test_support.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

using namespace ijepa;

namespace {

MaskConfig referenceMasks(int minKeep)
{
    MaskConfig c;
    c.min_keep = minKeep;
    return c;
}

struct Stats {
    double context = 0, target = 0;
};

// Checks every invariant of a batch and returns its sizes.
// minKeep < 0 skips the size bound (samplers without min_keep).
void checkBatch(const MaskBatch& b, int grid, int batch, int nenc, int npred, bool allowOverlap, int minKeep)
{
    ASSERT_EQ(b.enc.dim(), 3);
    ASSERT_EQ(b.enc.size(0), nenc);
    ASSERT_EQ(b.enc.size(1), batch);
    ASSERT_EQ(b.pred.size(0), npred);
    ASSERT_EQ(b.pred.size(1), batch);
    EXPECT_EQ(b.enc.scalar_type(), torch::kLong);
    EXPECT_GE(b.enc.min().item<int64_t>(), 0);
    EXPECT_LT(b.enc.max().item<int64_t>(), grid * grid);
    EXPECT_GE(b.pred.min().item<int64_t>(), 0);
    EXPECT_LT(b.pred.max().item<int64_t>(), grid * grid);
    EXPECT_GT(b.enc.size(2), 0);
    EXPECT_GT(b.pred.size(2), 0);
    for (int i = 0; i < batch; ++i) {
        std::set<int64_t> targets;
        for (int p = 0; p < npred; ++p) {
            auto row = b.pred[p][i];
            EXPECT_TRUE(torch::equal(row, std::get<0>(row.sort()))) << "target indices in raster order";
            EXPECT_EQ(std::get<0>(at::_unique(row)).numel(), row.numel()) << "no repeated index";
            for (int64_t k = 0; k < row.numel(); ++k)
                targets.insert(row[k].item<int64_t>());
        }
        for (int e = 0; e < nenc; ++e) {
            auto row = b.enc[e][i];
            EXPECT_TRUE(torch::equal(row, std::get<0>(row.sort())));
            if (!allowOverlap)
                for (int64_t k = 0; k < row.numel(); ++k)
                    EXPECT_EQ(targets.count(row[k].item<int64_t>()), 0u) << "context overlaps a target";
        }
    }
    if (minKeep >= 0) {
        EXPECT_GT(b.enc.size(2), minKeep) << "context keeps more than min_keep";
        EXPECT_GT(b.pred.size(2), minKeep) << "targets keep more than min_keep";
    }
}

Stats meanSizes(const MaskConfig& config, int grid, int batch, int batches)
{
    MaskSampler sampler(config, grid, grid, /*seed=*/0);
    Stats s;
    for (int i = 0; i < batches; ++i) {
        const auto b = sampler.sample(batch);
        s.context += static_cast<double>(b.enc.size(2));
        s.target += static_cast<double>(b.pred.size(2));
    }
    s.context /= batches;
    s.target /= batches;
    return s;
}

} // namespace

// Reference figures (200 batches, after truncation): within 3%.
TEST(MultiblockMasks, MeanSizesMatchReferenceAt224Patch16)
{
    const Stats s = meanSizes(referenceMasks(10), 14, 32, 200);
    EXPECT_NEAR(s.context, 56.3, 0.03 * 56.3);
    EXPECT_NEAR(s.target, 33.3, 0.03 * 33.3);
}

TEST(MultiblockMasks, MeanSizesMatchReferenceAt32Patch4)
{
    const Stats s = meanSizes(referenceMasks(4), 8, 64, 200);
    EXPECT_NEAR(s.context, 12.4, 0.03 * 12.4);
    EXPECT_NEAR(s.target, 10.6, 0.03 * 10.6);
}

TEST(MultiblockMasks, BlockSizesEqualReferenceDraws)
{
    std::ifstream in(ijepa::test::testFixture("mask_sizes.json"));
    const auto ref = nlohmann::json::parse(in);
    for (auto [name, grid, minKeep] : {std::tuple{"224_16", 14, 10}, std::tuple{"32_4", 8, 4}}) {
        MaskSampler sampler(referenceMasks(minKeep), grid, grid);
        const auto& rows = ref.at(name);
        ASSERT_EQ(rows.size(), 64u);
        for (size_t i = 0; i < rows.size(); ++i) {
            const auto [p, e] = sampler.blockSizes(static_cast<int64_t>(i));
            EXPECT_EQ(p.h, rows[i][0][0].get<int>()) << name << " iteration " << i;
            EXPECT_EQ(p.w, rows[i][0][1].get<int>()) << name << " iteration " << i;
            EXPECT_EQ(e.h, rows[i][1][0].get<int>()) << name << " iteration " << i;
            EXPECT_EQ(e.w, rows[i][1][1].get<int>()) << name << " iteration " << i;
        }
    }
}

TEST(MultiblockMasks, InvariantsHoldForEverySamplerAndMode)
{
    for (const std::string sampler : {"multiblock", "block", "random", "rasterized"})
        for (const std::string mode : {"faithful", "corrected"})
            for (bool overlap : {false, true}) {
                SCOPED_TRACE(sampler + "/" + mode + (overlap ? "/overlap" : ""));
                MaskConfig c = referenceMasks(4);
                c.sampler = sampler;
                c.position_mode = mode;
                c.allow_overlap = overlap;
                MaskSampler s(c, 8, 8, 3);
                const int npred = sampler == "block" ? 1 : sampler == "rasterized" ? 3 : 4;
                for (int i = 0; i < 20; ++i)
                    checkBatch(s.sample(16), 8, 16, 1, npred, overlap, sampler == "multiblock" || sampler == "block" ? 4 : -1);
            }
}

TEST(MultiblockMasks, FaithfulModeNeverTouchesLastRowOrColumnCorrectedDoes)
{
    for (const std::string mode : {"faithful", "corrected"}) {
        MaskConfig c = referenceMasks(4);
        c.position_mode = mode;
        MaskSampler s(c, 8, 8);
        bool touched = false;
        for (int i = 0; i < 100; ++i) {
            auto pred = s.sample(16).pred;
            touched |= ((pred % 8) == 7).any().item<bool>() || ((pred / 8) == 7).any().item<bool>();
        }
        EXPECT_EQ(touched, mode == "corrected") << mode;
    }
}

TEST(MultiblockMasks, SameSeedAndIterationGiveSameBatch)
{
    MaskSampler a(referenceMasks(4), 8, 8, 7), b(referenceMasks(4), 8, 8, 7), c(referenceMasks(4), 8, 8, 8);
    a.sample(8);
    b.setIteration(1);
    const auto x = a.sample(8), y = b.sample(8), z = c.sample(8);
    EXPECT_TRUE(torch::equal(x.enc, y.enc));
    EXPECT_TRUE(torch::equal(x.pred, y.pred));
    EXPECT_EQ(a.iteration(), 2);
    EXPECT_FALSE(torch::equal(x.pred, z.pred) && torch::equal(x.enc, z.enc));
}

// Prefix truncation keeps the top of a cut context; random truncation keeps a subset of the same
// size spread like the drawn context. Mean row of the kept context patches on the 8x8 grid of the
// shipped config over 20 batches of 128: prefix well above (smaller row) the drawn mean, random
// within 0.1 rows of it.
TEST(MultiblockMasks, RandomTruncationKeepsAnUnbiasedSubsetOfTheDrawnMask)
{
    MaskConfig c = referenceMasks(4);
    MaskSampler prefix(c, 8, 8, 3);
    c.truncation = "random";
    MaskSampler random(c, 8, 8, 3);
    double drawnRows = 0, prefixRows = 0, randomRows = 0, drawnCount = 0, keptCount = 0;
    for (int it = 0; it < 20; ++it) {
        const MaskDraw draw = random.drawAt(it, 128);
        const MaskBatch p = prefix.sampleAt(it, 128), r = random.sampleAt(it, 128);
        checkBatch(r, 8, 128, 1, 4, false, 4);
        ASSERT_EQ(r.enc.sizes(), p.enc.sizes());
        ASSERT_EQ(r.pred.sizes(), p.pred.sizes());
        EXPECT_TRUE(torch::equal(r.enc, random.sampleAt(it, 128).enc)) << "deterministic per iteration";
        for (int b = 0; b < 128; ++b) {
            const auto& drawn = draw.enc[static_cast<size_t>(b)][0];
            const std::set<int64_t> drawnSet(drawn.begin(), drawn.end());
            for (const auto i : drawn)
                drawnRows += static_cast<double>(i / 8);
            drawnCount += static_cast<double>(drawn.size());
            for (int64_t k = 0; k < r.enc.size(2); ++k) {
                const auto ri = r.enc[0][b][k].item<int64_t>();
                EXPECT_EQ(drawnSet.count(ri), 1u) << "a kept patch was drawn";
                randomRows += static_cast<double>(ri / 8);
                prefixRows += static_cast<double>(p.enc[0][b][k].item<int64_t>() / 8);
            }
            keptCount += static_cast<double>(r.enc.size(2));
        }
    }
    drawnRows /= drawnCount;
    prefixRows /= keptCount;
    randomRows /= keptCount;
    EXPECT_NEAR(randomRows, drawnRows, 0.1);
    EXPECT_LT(prefixRows, drawnRows - 0.5) << "prefix truncation keeps the top rows";
    c.truncation = "middle";
    EXPECT_THROW(validateMaskSettings(c, 8), ConfigError);
}

TEST(MultiblockMasks, RasterizedUsesQuadrants)
{
    MaskConfig c = referenceMasks(4);
    c.sampler = "rasterized";
    MaskSampler s(c, 8, 8);
    const auto b = s.sample(4);
    EXPECT_EQ(b.enc.size(2), 16);
    EXPECT_EQ(b.pred.size(2), 16);
    // Context plus the three targets cover the grid exactly once.
    for (int i = 0; i < 4; ++i) {
        auto all = torch::cat({b.enc.select(1, i).flatten(), b.pred.select(1, i).flatten()});
        EXPECT_TRUE(torch::equal(std::get<0>(all.sort()), torch::arange(64, torch::kLong)));
    }
}

TEST(MultiblockMasks, ImpossibleSettingsAreRejectedWithTheNumbersToChange)
{
    MaskConfig c = referenceMasks(10); // crop 32 / patch 4: target blocks of ~9 patches
    try {
        MaskSampler s(c, 8, 8);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("mask.min_keep"), std::string::npos) << msg;
        EXPECT_NE(msg.find("8x8"), std::string::npos) << msg;
        EXPECT_NE(msg.find("mask.pred_mask_scale"), std::string::npos) << msg;
    }
    c.sampler = "nonsense";
    EXPECT_THROW(validateMaskSettings(c, 8), ConfigError);
}

// On a small grid a scale range can collapse to one block size: the summary lists every size the
// draw can give, so a screen of [0.7, 1.0] against [0.85, 1.0] on 8x8 shows it is the same setting.
TEST(MultiblockMasks, BlockSizeSummaryListsEverySizeTheDrawCanGive)
{
    MaskConfig c = referenceMasks(4);
    const std::string shipped = blockSizeSummary(c, 8);
    EXPECT_NE(shipped.find("context 7x7 (one size over enc_mask_scale [0.85, 1])"), std::string::npos) << shipped;
    c.enc_mask_scale = {0.7, 1.0};
    EXPECT_NE(blockSizeSummary(c, 8).find("context 7x7 (one size over enc_mask_scale [0.7, 1])"), std::string::npos);
    c.enc_mask_scale = {0.5, 0.7}; // int(64 s) from 32 to 44: sides round(sqrt(32..42)) = 6, 43 and 44 give 7
    EXPECT_NE(blockSizeSummary(c, 8).find("context 6x6, 7x7 (enc_mask_scale [0.5, 0.7])"), std::string::npos)
        << blockSizeSummary(c, 8);
    // Targets: 9 patches at aspect 0.75 (3x3) up to 12 at aspect 1.5 (round(sqrt(18)) x round(sqrt(8)) = 4x3).
    const size_t target = shipped.find("target 3x3");
    ASSERT_NE(target, std::string::npos) << shipped;
    EXPECT_NE(shipped.find("4x3", target), std::string::npos) << shipped;
    EXPECT_EQ(shipped.find("one size over pred_mask_scale"), std::string::npos) << shipped;
    // Every size in the summary is one the sampler draws, and every drawn size is in the summary.
    MaskSampler sampler(referenceMasks(4), 8, 8);
    std::set<std::string> drawn;
    for (int it = 0; it < 2000; ++it) {
        const BlockSize t = sampler.blockSizes(it).first;
        drawn.insert(std::to_string(t.h) + "x" + std::to_string(t.w));
    }
    std::set<std::string> listed;
    const std::string targets = shipped.substr(target + 7, shipped.find(" (pred_mask_scale") - target - 7);
    for (size_t at = 0; at < targets.size();) {
        const size_t end = std::min(targets.find(", ", at), targets.size());
        listed.insert(targets.substr(at, end - at));
        at = end + 2;
    }
    EXPECT_EQ(drawn, listed) << shipped;
    c.sampler = "rasterized";
    EXPECT_NE(blockSizeSummary(c, 8).find("quadrants"), std::string::npos);
}
