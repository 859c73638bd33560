#pragma once

// The number format of the training step's matrix products: bf16 where meta.use_bfloat16 asks for
// it and the device multiplies bf16 fast (CUDA, as the reference; a CPU with AVX512_BF16 or
// AMX-BF16 whose bf16 products, measured once at start, beat its fp32 ones by kBf16Margin), fp32
// otherwise. The instructions alone do not say it: one Xeon with AVX512_BF16 multiplies bf16 at 82
// GFLOP/s per core and fp32 at 146 (OpenBLAS's AVX-512 kernels), an AMD EPYC at 200 and 95.
// Master weights, optimiser state, losses, norms, softmax, SIGReg and the EMA stay fp32 either way
// (train_step.h). meta.cpu_bf16: always (cpuAlways) takes bf16 on any CPU, measured slower or
// emulated (LibTorch rounds to bf16 where the CPU has no bf16 instructions): its numerics anywhere.

#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

namespace ijepa {

struct MetaConfig;
class ProcessGroup;

struct Precision {
    bool bf16 = false;
    std::string description; // which path runs and why, for the run's header line
};

// Matrix-product speeds of one thread of this CPU, GFLOP/s.
struct GemmRates {
    double fp32 = 0, bf16 = 0;
};
GemmRates measureGemmRates();
// The rates the choice uses: IJEPA_GEMM_RATES="FP32:BF16" (GFLOP/s, for tests and for a machine
// whose timing at start is not to be trusted) when set, else measureGemmRates() once per process.
// Throws ConfigError for a value that is not two positive numbers.
std::optional<GemmRates> forcedGemmRates();

// How much faster bf16 products must be for the bf16 path: the casts it adds cost about 7% of a step.
constexpr double kBf16Margin = 1.25;

Precision choosePrecision(const torch::Device& device, bool useBfloat16, bool cpuAlways = false);
// The choice a config asks for: meta.use_bfloat16, and meta.cpu_bf16 (always: cpuAlways). A
// resumed run passes the format its checkpoint recorded ("bf16" or "fp32"): where the choice would
// be timed (a CPU, use_bfloat16, cpu_bf16 auto), it is taken instead, so a run never switches
// format partway (a timing on the other side of kBf16Margin would break bitwise resume).
Precision choosePrecision(const torch::Device& device, const MetaConfig& meta,
                          const std::optional<std::string>& recorded = std::nullopt);
// Data parallel: every rank runs rank 0's choice (`device`: the group's). Each rank times its own
// CPU, and a rank whose timing fell on the other side of kBf16Margin would otherwise round its
// products differently from the others while their gradients are averaged.
Precision agreePrecision(ProcessGroup& group, const torch::Device& device, const Precision& mine);

// The bf16 matrix instructions this CPU has, by their names in /proc/cpuinfo's flags ("amx_bf16",
// "avx512_bf16"); empty on a CPU without them (and on a non-x86 one).
std::vector<std::string> cpuBf16Instructions();

} // namespace ijepa
