// Frozen-feature evaluation on data with known answers, RankMe on matrices of known rank, the
// cosine index against brute force, .npy round trips.
#include "core/errors.h"
#include "core/eval/evaluation.h"
#include "core/eval/nn_index.h"
#include "core/io/npy.h"
#include "tests/core/test_support.h"

using namespace ijepa;

namespace {

// n points per class around 10 well-separated centres in 32-D.
std::pair<torch::Tensor, torch::Tensor> clusters(int64_t perClass, double noise, uint64_t seed)
{
    const auto gen = at::detail::createCPUGenerator(seed);
    const auto centres = torch::randn({10, 32}, gen) * 10;
    const auto labels = torch::arange(10, torch::kInt64).repeat_interleave(perClass);
    const auto x = centres.index({labels}) + noise * torch::randn({10 * perClass, 32}, gen);
    return {x, labels};
}

// An [n, d] matrix with exactly r equal non-zero singular values.
torch::Tensor rankR(int64_t n, int64_t d, int64_t r)
{
    const auto gen = at::detail::createCPUGenerator(5);
    const auto u = std::get<0>(torch::linalg_qr(torch::randn({n, r}, gen, torch::kFloat64)));
    const auto v = std::get<0>(torch::linalg_qr(torch::randn({d, r}, gen, torch::kFloat64)));
    return torch::matmul(u, v.t());
}

} // namespace

TEST(Knn, SeparableClustersGiveFullAccuracyRandomLabelsGiveChance)
{
    const auto [train, trainLabels] = clusters(100, 1.0, 1);
    const auto [test, testLabels] = clusters(50, 1.0, 1); // same centres (same seed), fresh noise below
    const auto gen = at::detail::createCPUGenerator(9);
    const auto testNoisy = test + torch::randn(test.sizes(), gen);
    EXPECT_DOUBLE_EQ(knnAccuracy(train, trainLabels, testNoisy, testLabels), 1.0);
    // Random labels carry no signal: 10 classes -> 0.1 (2000 test points: +-0.035 is 5 sigma).
    const auto [rtrain, _1] = clusters(200, 1.0, 2);
    const auto [rtest, _2] = clusters(200, 1.0, 3);
    const auto randomTrain = torch::randint(0, 10, {rtrain.size(0)}, gen, torch::kInt64);
    const auto randomTest = torch::randint(0, 10, {rtest.size(0)}, gen, torch::kInt64);
    EXPECT_NEAR(knnAccuracy(rtrain, randomTrain, rtest, randomTest), 0.1, 0.035);
}

TEST(Knn, TemperatureWeightedVotesFollowTheNearest)
{
    // Two train points of class 1 close to the query, three of class 0 farther: with k=5 and a
    // sharp temperature the close ones win although they are fewer.
    auto train = torch::tensor({{1.0, 0.05}, {1.0, -0.05}, {0.0, 1.0}, {0.1, 1.0}, {-0.1, 1.0}});
    auto labels = torch::tensor({1, 1, 0, 0, 0}, torch::kInt64);
    auto query = torch::tensor({{1.0, 0.3}});
    EXPECT_DOUBLE_EQ(knnAccuracy(train, labels, query, torch::tensor({1}, torch::kInt64), {5, 0.07}), 1.0);
    EXPECT_DOUBLE_EQ(knnAccuracy(train, labels, query, torch::tensor({0}, torch::kInt64), {5, 100.0}), 1.0);
}

TEST(LinearProbe, SeparableGivesFullAccuracyRandomLabelsGiveChance)
{
    const auto [train, trainLabels] = clusters(100, 2.0, 4);
    const auto [test, testLabels] = clusters(30, 2.0, 4);
    LinearProbeOptions o;
    o.epochs = 50;
    const auto r = linearProbe(train, trainLabels, test, testLabels, o);
    EXPECT_DOUBLE_EQ(r.accuracy, 1.0);
    EXPECT_EQ(r.heldOutAccuracy.size(), o.weightDecays.size());
    const auto gen = at::detail::createCPUGenerator(11);
    const auto x = torch::randn({2000, 16}, gen), t = torch::randn({2000, 16}, gen);
    const auto rl = torch::randint(0, 10, {2000}, gen, torch::kInt64), tl = torch::randint(0, 10, {2000}, gen, torch::kInt64);
    EXPECT_NEAR(linearProbe(x, rl, t, tl, o).accuracy, 0.1, 0.035);
}

TEST(RankMe, MatricesOfKnownRank)
{
    // Equal singular values: RankMe = r exactly (up to the epsilon of the formula).
    EXPECT_NEAR(rankMe(rankR(500, 64, 1)), 1.0, 1e-3);
    EXPECT_NEAR(rankMe(rankR(500, 64, 16)), 16.0, 0.01);
    EXPECT_NEAR(rankMe(rankR(500, 64, 64)), 64.0, 0.05);
    // A collapsed embedding (every row the same) has rank 1.
    EXPECT_NEAR(rankMe(torch::ones({100, 32})), 1.0, 1e-3);
}

TEST(FeatureStd, CollapsedIsZeroSpreadIsAboutInverseSqrtD)
{
    EXPECT_NEAR(normalisedFeatureStd(torch::ones({100, 64})), 0.0, 1e-6);
    const auto gen = at::detail::createCPUGenerator(2);
    EXPECT_NEAR(normalisedFeatureStd(torch::randn({4000, 64}, gen)), 1.0 / 8.0, 0.005);
}

TEST(CosineIndex, MatchesBruteForceAcrossChunks)
{
    const auto gen = at::detail::createCPUGenerator(3);
    const auto rows = torch::randn({1000, 24}, gen);
    const CosineIndex chunked(rows, /*chunk=*/128), whole(rows);
    const auto unit = torch::nn::functional::normalize(rows, torch::nn::functional::NormalizeFuncOptions().dim(1));
    for (int q = 0; q < 5; ++q) {
        const auto query = torch::randn({24}, gen);
        const auto sims = torch::mv(unit, query / query.norm());
        const auto [bs, bi] = sims.topk(10);
        const auto a = chunked.query(query, 10), b = whole.query(query, 10);
        ASSERT_EQ(a.size(), 10u);
        for (int j = 0; j < 10; ++j) {
            EXPECT_EQ(a[j].index, bi[j].item<int64_t>());
            EXPECT_EQ(b[j].index, a[j].index);
            EXPECT_NEAR(a[j].similarity, bs[j].item<float>(), 1e-5);
        }
    }
    const auto self = chunked.queryItem(42, 5);
    ASSERT_EQ(self.size(), 5u);
    for (const auto& h : self)
        EXPECT_NE(h.index, 42);
    EXPECT_NEAR(chunked.similarities(rows[7])[7].item<float>(), 1.0f, 1e-5);
}

TEST(Npy, RoundTripsAndRejectsTruncatedFiles)
{
    test::TempDir dir;
    const auto t = torch::arange(24, torch::kFloat32).view({2, 3, 4});
    writeNpy(t, dir.file("a.npy"));
    EXPECT_TRUE(torch::equal(readNpy(dir.file("a.npy")), t));
    const auto l = torch::tensor({3, 1, 4}, torch::kInt64);
    writeNpy(l, dir.file("l.npy"));
    EXPECT_TRUE(torch::equal(readNpy(dir.file("l.npy")), l));
    std::filesystem::resize_file(dir.file("a.npy"), 100);
    EXPECT_THROW(readNpy(dir.file("a.npy")), DataError);
    // Found by fuzz_npy: a 65,535-byte header overflowed the stack of the regex that parsed it.
    EXPECT_THROW(readNpy(test::testFixture("fuzz/npy-long-header.npy")), DataError);
    // Also fuzz_npy's: a header ending after 'fortran_order': (a std::out_of_range, not a DataError).
    EXPECT_THROW(readNpy(test::testFixture("fuzz/npy-no-fortran-value.npy")), DataError);
    // A header promising more data than the file holds is refused before anything is allocated.
    std::string big("\x93NUMPY\x01\x00", 8);
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }";
    dict.append(118 - dict.size() - 1, ' ');
    dict += '\n';
    big += std::string(1, static_cast<char>(dict.size() & 0xff)) + std::string(1, static_cast<char>(dict.size() >> 8)) + dict;
    std::ofstream(dir.file("big.npy"), std::ios::binary) << big << std::string(64, '\0');
    try {
        readNpy(dir.file("big.npy"));
        FAIL();
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("promises 4000000000000 data bytes"), std::string::npos) << e.what();
    }
}
