#include "core/train/precision.h"

#include "core/config.h"
#include "core/dist/distributed.h"
#include "core/errors.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace ijepa {

std::vector<std::string> cpuBf16Instructions()
{
    std::vector<std::string> found;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0)
        return found;
    const unsigned subleaves = a;
    if (d & (1u << 22)) // CPUID.(7,0):EDX[22]
        found.emplace_back("amx_bf16");
    if (subleaves >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d) != 0 && (a & (1u << 5))) // CPUID.(7,1):EAX[5]
        found.emplace_back("avx512_bf16");
#endif
    return found;
}

GemmRates measureGemmRates()
{
    // A ViT-tiny MLP product (2048 tokens, 192 -> 768), on this thread with one OpenMP thread, as
    // each slice of the step runs its products. The two formats alternate over five rounds after a
    // warm-up and each keeps its best, so a clock ramping up or a busy moment at start slows both or
    // neither (timed one format after the other, one start read fp32 at 100 GFLOP/s, 146-155 steady).
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    torch::NoGradGuard noGrad;
    struct Product {
        torch::Tensor x, w, b;
        double best = 1e30;
    };
    const auto product = [](at::ScalarType type) {
        return Product{torch::randn({2048, 192}).to(type), torch::randn({768, 192}).to(type), torch::randn({768}).to(type)};
    };
    Product fp32 = product(torch::kFloat), bf16 = product(torch::kBFloat16);
    const auto time = [](Product& p, bool keep) {
        const auto start = std::chrono::steady_clock::now();
        (void)torch::addmm(p.b, p.x, p.w.t());
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (keep)
            p.best = std::min(p.best, s);
    };
    for (int round = 0; round < 6; ++round) {
        time(fp32, round > 0);
        time(bf16, round > 0);
    }
    at::set_num_threads(threads);
    const double flop = 2.0 * 2048 * 192 * 768;
    return {flop / fp32.best / 1e9, flop / bf16.best / 1e9};
}

std::optional<GemmRates> forcedGemmRates()
{
    const char* text = std::getenv("IJEPA_GEMM_RATES");
    if (!text || !*text)
        return std::nullopt;
    GemmRates r;
    char tail = 0;
    if (std::sscanf(text, "%lf:%lf%c", &r.fp32, &r.bf16, &tail) != 2 || !(r.fp32 > 0) || !(r.bf16 > 0))
        throw ConfigError(std::string("IJEPA_GEMM_RATES='") + text + "': expected FP32:BF16 in GFLOP/s, e.g. 100:200");
    return r;
}

Precision choosePrecision(const torch::Device& device, bool useBfloat16, bool cpuAlways)
{
    if (!useBfloat16)
        return {false, "fp32 (meta.use_bfloat16 is false)"};
    if (device.is_cuda())
        return {true, "bf16 autocast (meta.use_bfloat16, CUDA)"};
    if (!device.is_cpu())
        return {false, "fp32 (bf16 is used on CPU and CUDA only)"};
    const auto instructions = cpuBf16Instructions();
    if (cpuAlways)
        return {true, std::string("bf16 autocast (meta.use_bfloat16 and meta.cpu_bf16: always; ") +
                          (instructions.empty() ? "this CPU has no bf16 instructions, so its products are emulated and slow)"
                                                : "taken without measuring its speed)")};
    const auto forced = forcedGemmRates();
    if (instructions.empty() && !forced)
        return {false, "fp32 (meta.use_bfloat16 is true, but this CPU has neither avx512_bf16 nor amx_bf16, so bf16 "
                       "products would be slower than fp32)"};
    std::string names;
    for (const auto& i : instructions)
        names += (names.empty() ? "" : ", ") + i;
    GemmRates rates;
    if (forced) {
        rates = *forced;
        names = "IJEPA_GEMM_RATES";
    } else {
        static const GemmRates measured = measureGemmRates(); // once per process: every run in it agrees
        rates = measured;
    }
    char speeds[96];
    std::snprintf(speeds, sizeof(speeds), "%.0f GFLOP/s per thread against %.0f in fp32", rates.bf16, rates.fp32);
    if (rates.bf16 < kBf16Margin * rates.fp32)
        return {false, "fp32 (meta.use_bfloat16 is true, but this CPU's bf16 products (" + names +
                           ") are not faster: " + speeds + "; meta.cpu_bf16=always takes bf16 anyway)"};
    return {true, "bf16 autocast (meta.use_bfloat16; this CPU's bf16 products (" + names + "): " + speeds + ")"};
}

Precision choosePrecision(const torch::Device& device, const MetaConfig& meta, const std::optional<std::string>& recorded)
{
    const bool timed = device.is_cpu() && meta.use_bfloat16 && meta.cpu_bf16 != "always";
    if (timed && recorded)
        return {*recorded == "bf16", (*recorded == "bf16" ? "bf16 autocast" : std::string("fp32")) +
                                         " (the format this run chose at its start, recorded in its checkpoint; not timed again)"};
    return choosePrecision(device, meta.use_bfloat16, meta.cpu_bf16 == "always");
}

Precision agreePrecision(ProcessGroup& group, const torch::Device& device, const Precision& mine)
{
    auto flag = torch::tensor({mine.bf16 ? 1.0f : 0.0f}).to(device);
    group.broadcast({flag}, 0);
    const bool bf16 = flag.item<float>() > 0.5f;
    if (bf16 == mine.bf16)
        return mine;
    return {bf16, std::string(bf16 ? "bf16 autocast" : "fp32") + " (rank 0's choice, which every rank takes; this rank alone chose " +
                      mine.description + ")"};
}

} // namespace ijepa
