#include "core/train/precision.h"

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

Precision choosePrecision(const torch::Device& device, bool useBfloat16)
{
    if (!useBfloat16)
        return {false, "fp32 (meta.use_bfloat16 is false)"};
    if (device.is_cuda())
        return {true, "bf16 autocast (meta.use_bfloat16, CUDA)"};
    if (!device.is_cpu())
        return {false, "fp32 (bf16 is used on CPU and CUDA only)"};
    const auto instructions = cpuBf16Instructions();
    if (instructions.empty())
        return {false, "fp32 (meta.use_bfloat16 is true, but this CPU has neither avx512_bf16 nor amx_bf16, so bf16 "
                       "products would be slower than fp32)"};
    std::string names;
    for (const auto& i : instructions)
        names += (names.empty() ? "" : ", ") + i;
    return {true, "bf16 autocast (meta.use_bfloat16, CPU with " + names + ")"};
}

} // namespace ijepa
