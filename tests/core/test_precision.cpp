// The bf16 training step (core/train/precision.h) against the fp32 step on the reference's parity
// fixture, the autocast guard, and how the number format is chosen.
#include "core/compat.h"
#include "core/config.h"
#include "core/cpu_blas.h"
#include "core/model/ijepa_model.h"
#include "core/parallel.h"
#include "core/train/precision.h"
#include "core/train/train_step.h"
#include "tests/core/official_fixture.h"
#include "tests/core/test_support.h"

#include <fstream>
#include <thread>

using namespace ijepa;
using namespace ijepa::test;

namespace {

// One step from the fixture's checkpoint and optimiser state (the reference's lr, wd, momentum)
// on `threads` threads: its loss and the change of every trainable and target weight.
struct FixtureStep {
    double loss = 0;
    torch::Tensor update, targetUpdate; // flattened, fp64
};

FixtureStep stepFromFixture(bool bf16, int threads)
{
    OfficialTiny fixture;
    IJepaModel& model = fixture.model;
    const auto flat = [](const std::vector<torch::Tensor>& ps) {
        std::vector<torch::Tensor> parts;
        for (const auto& p : ps)
            parts.push_back(p.detach().to(torch::kDouble).flatten());
        return torch::cat(parts);
    };
    const auto before = flat(model.trainableParameters()), targetBefore = flat(model.targetEncoder->parameters());
    const ThreadCount pinned(threads);
    const auto images = fixture.input();
    EXPECT_EQ(trainStepSlices(images), sharesOpenMpWithTorch() ? std::min<int64_t>(threads, images.size(0)) : 1);
    const auto stats = fixture.takeReferenceStep(OfficialTiny::afterStep(), bf16);
    return {stats.loss, flat(model.trainableParameters()) - before, flat(model.targetEncoder->parameters()) - targetBefore};
}

double relativeDistance(const torch::Tensor& a, const torch::Tensor& b)
{
    return ((a - b).norm() / b.norm()).item<double>();
}

} // namespace

// bf16 keeps 8 significant bits (relative rounding 2^-9 = 0.2%) of every matrix product's inputs,
// accumulating in fp32. On this fixture (measured on an AVX2 CPU, where LibTorch emulates the bf16
// products with the same rounding) the loss moves by 4e-5 relative, the step's update by 0.55% and
// the EMA's by 0.24%, both as the norm of the difference over the norm of the fp32 update (AdamW
// divides each gradient by its running RMS, so the update carries the gradient's relative error).
// The bounds leave room for a CPU whose bf16 kernels add in another order: 1e-3 on the loss (25x),
// 2% on the updates (about 4x).
constexpr double kLossRelTol = 1e-3;
constexpr double kUpdateRelTol = 2e-2;

TEST(Bf16Step, AgreesWithTheFp32StepOnTheReferenceFixture)
{
    const auto fp32 = stepFromFixture(false, 2);
    const auto bf16 = stepFromFixture(true, 2); // two slices on their own threads, each under autocast
    EXPECT_NEAR(bf16.loss, fp32.loss, kLossRelTol * fp32.loss);
    EXPECT_GT(std::abs(bf16.loss - fp32.loss), 1e-6) << "the bf16 step computed in fp32";
    EXPECT_LT(relativeDistance(bf16.update, fp32.update), kUpdateRelTol);
    EXPECT_LT(relativeDistance(bf16.targetUpdate, fp32.targetUpdate), kUpdateRelTol);
    std::cout << "bf16 against fp32: loss " << bf16.loss << " / " << fp32.loss << ", update relative distance "
              << relativeDistance(bf16.update, fp32.update) << ", target "
              << relativeDistance(bf16.targetUpdate, fp32.targetUpdate) << "\n";
}

TEST(Bf16Step, SplitBatchAgreesWithTheWholeBatch)
{
    const auto whole = stepFromFixture(true, 1), split = stepFromFixture(true, 2);
    EXPECT_NEAR(split.loss, whole.loss, kLossRelTol * whole.loss);
    EXPECT_LT(relativeDistance(split.update, whole.update), kUpdateRelTol);
}

TEST(AutocastGuard, NestsRestoresAndStaysOnItsThread)
{
    const auto on = [] { return compat::autocastEnabled(c10::DeviceType::CPU); };
    ASSERT_FALSE(on());
    {
        const compat::AutocastGuard outer(c10::DeviceType::CPU, true);
        EXPECT_TRUE(on());
        EXPECT_EQ(at::matmul(torch::ones({2, 2}), torch::ones({2, 2})).scalar_type(), torch::kBFloat16);
        bool otherThread = true;
        std::thread([&] { otherThread = on(); }).join();
        EXPECT_FALSE(otherThread);
        {
            const compat::AutocastGuard inner(c10::DeviceType::CPU, true);
            const compat::AutocastGuard off(c10::DeviceType::CPU, false); // disabled: changes nothing
            EXPECT_TRUE(on());
        }
        EXPECT_TRUE(on());
    }
    EXPECT_FALSE(on());
    EXPECT_EQ(at::matmul(torch::ones({2, 2}), torch::ones({2, 2})).scalar_type(), torch::kFloat);
}

// The CPUID bits against the kernel's own reading of them.
TEST(Precision, CpuInstructionsMatchProcCpuinfo)
{
    std::ifstream in("/proc/cpuinfo");
    std::string line, flags;
    while (std::getline(in, line))
        if (line.rfind("flags", 0) == 0) {
            flags = line.substr(line.find(':') + 1) + " ";
            break;
        }
    if (flags.empty())
        GTEST_SKIP() << "no flags line in /proc/cpuinfo";
    std::vector<std::string> expected;
    for (const char* name : {"amx_bf16", "avx512_bf16"})
        if (flags.find(std::string(" ") + name + " ") != std::string::npos)
            expected.emplace_back(name);
    EXPECT_EQ(cpuBf16Instructions(), expected);
}

TEST(Precision, Bf16OnlyWhereAskedAndFast)
{
    const auto off = choosePrecision(torch::kCPU, false);
    EXPECT_FALSE(off.bf16);
    EXPECT_NE(off.description.find("meta.use_bfloat16 is false"), std::string::npos);
    const auto cpu = choosePrecision(torch::kCPU, true);
    if (cpuBf16Instructions().empty()) {
        EXPECT_FALSE(cpu.bf16);
    } else {
        // bf16 only where measured faster: the description gives both speeds.
        EXPECT_NE(cpu.description.find("GFLOP/s per thread"), std::string::npos) << cpu.description;
        EXPECT_EQ(choosePrecision(torch::kCPU, true).bf16, cpu.bf16) << "measured once per process";
    }
    EXPECT_EQ(cpu.description.rfind(cpu.bf16 ? "bf16" : "fp32", 0), 0u) << cpu.description;
    const auto rates = measureGemmRates();
    EXPECT_GT(rates.fp32, 0.5) << "GFLOP/s";
    EXPECT_GT(rates.bf16, 0.01) << "GFLOP/s (emulated bf16 is slow, but not this slow)";
    EXPECT_TRUE(choosePrecision(torch::Device("cuda"), true).bf16);
}

TEST(Precision, CpuBf16AlwaysTakesBf16OnAnyCpuButOnlyWhereAsked)
{
    const auto always = choosePrecision(torch::kCPU, true, true);
    EXPECT_TRUE(always.bf16);
    EXPECT_NE(always.description.find("meta.cpu_bf16: always"), std::string::npos) << always.description;
    EXPECT_FALSE(choosePrecision(torch::kCPU, false, true).bf16) << "meta.use_bfloat16 false wins";
    EXPECT_EQ(choosePrecision(torch::kCPU, true, false).bf16, choosePrecision(torch::kCPU, true).bf16);
    MetaConfig meta; // the config's keys reach the same choice
    meta.use_bfloat16 = true;
    meta.cpu_bf16 = "always";
    EXPECT_TRUE(choosePrecision(torch::kCPU, meta).bf16);
    meta.use_bfloat16 = false;
    EXPECT_FALSE(choosePrecision(torch::kCPU, meta).bf16);
}

TEST(CpuBlas, OpenBlasRunsKernelsThatUseTheCpusVectorUnits)
{
    // Kernel sets with AVX2 stand; one without is replaced only on a CPU that has AVX2 and FMA.
    for (const char* good : {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"})
        EXPECT_EQ(betterOpenBlasCore(good), "") << good;
    EXPECT_EQ(betterOpenBlasCore(""), "") << "not OpenBLAS";
    const std::string better = betterOpenBlasCore("Prescott");
    EXPECT_EQ(better.empty(), !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"));
    if (!better.empty())
        EXPECT_EQ(better, __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") ? "SkylakeX" : "Haswell");
    // This process went through the tests' main, which restarts it as the programs do.
    const std::string core = openBlasCore();
    if (core.empty())
        GTEST_SKIP() << "the BLAS is not OpenBLAS";
    const char* set = std::getenv("OPENBLAS_CORETYPE");
    if (set && *set && betterOpenBlasCore(set).empty() == false)
        GTEST_SKIP() << "OPENBLAS_CORETYPE=" << set << " was set by hand";
    EXPECT_EQ(betterOpenBlasCore(core), "") << "OpenBLAS runs its " << core << " kernels";
    EXPECT_NE(blasDescription().find(core), std::string::npos) << blasDescription();
}
