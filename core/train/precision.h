#pragma once

// The number format of the training step's matrix products: bf16 where meta.use_bfloat16 asks for
// it and the device multiplies bf16 fast (CUDA, as the reference; a CPU with AVX512_BF16 or
// AMX-BF16), fp32 otherwise. Master weights, optimiser state, losses, norms, softmax, SIGReg and the
// EMA stay fp32 either way (train_step.h).

#include <torch/types.h>

#include <string>
#include <vector>

namespace ijepa {

struct Precision {
    bool bf16 = false;
    std::string description; // which path runs and why, for the run's header line
};

Precision choosePrecision(const torch::Device& device, bool useBfloat16);

// The bf16 matrix instructions this CPU has, by their names in /proc/cpuinfo's flags ("amx_bf16",
// "avx512_bf16"); empty on a CPU without them (and on a non-x86 one).
std::vector<std::string> cpuBf16Instructions();

} // namespace ijepa
