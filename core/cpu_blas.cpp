#include "core/cpu_blas.h"

#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace ijepa {
namespace {

constexpr const char* kCoreVariable = "OPENBLAS_CORETYPE";
constexpr const char* kOwnChoiceVariable = "IJEPA_OPENBLAS_OWN_CHOICE"; // what OpenBLAS picked before the restart

// OpenBLAS's x86 kernel sets with AVX2 and FMA (dynamic.c's names).
bool hasAvx2Kernels(const std::string& core)
{
    constexpr std::array names{"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"};
    for (const char* n : names)
        if (core == n)
            return true;
    return false;
}

} // namespace

std::string openBlasCore()
{
    using CoreName = char* (*)();
    const auto f = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    const char* name = f ? f() : nullptr;
    return name ? name : "";
}

std::string betterOpenBlasCore(const std::string& chosen)
{
#if defined(__x86_64__) || defined(__i386__)
    if (chosen.empty() || hasAvx2Kernels(chosen))
        return "";
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return "";
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                        __builtin_cpu_supports("avx512cd");
    return avx512 ? "SkylakeX" : "Haswell";
#else
    (void)chosen;
    return "";
#endif
}

std::string ownExecutable()
{
    std::error_code error;
    const std::string path = std::filesystem::read_symlink("/proc/self/exe", error).string();
    return error || path.empty() ? "/proc/self/exe" : path;
}

void restartWithBetterBlasKernels(char** argv)
{
    const char* set = std::getenv(kCoreVariable);
    if (set && *set)
        return; // the user's choice, or ours after the restart
    const std::string chosen = openBlasCore();
    const std::string better = betterOpenBlasCore(chosen);
    if (better.empty())
        return;
    setenv(kCoreVariable, better.c_str(), 1);
    setenv(kOwnChoiceVariable, chosen.c_str(), 1);
    execv(ownExecutable().c_str(), argv);
    // Still here: run on with OpenBLAS's kernels (slower, not wrong).
    std::cerr << "warning: OpenBLAS runs its " << chosen << " kernels on this CPU; restarting with " << better
              << " failed (" << std::strerror(errno) << "); set " << kCoreVariable << "=" << better << "\n";
    unsetenv(kCoreVariable);
    unsetenv(kOwnChoiceVariable);
}

std::string blasDescription()
{
    const std::string core = openBlasCore();
    if (core.empty())
        return "";
    std::string text = "OpenBLAS " + core + " kernels";
    const char* own = std::getenv(kOwnChoiceVariable);
    if (own && *own && core != own)
        text += std::string(" (its own choice on this CPU: ") + own + ")";
    return text;
}

} // namespace ijepa
