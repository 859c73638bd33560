#pragma once

// OpenBLAS picks its kernels from the CPU's model number when it loads, and a CPU newer than the
// OpenBLAS build gets its generic ones: Debian 12's OpenBLAS 0.3.21 takes an Intel Xeon of CPUID
// model 207 for a "Prescott" (SSE3), whose fp32 GEMM runs at 31 GFLOP/s per core where the same
// core does 146 with the AVX-512 ("SkylakeX") kernels. The fp32 training step and every fp32
// evaluation go through that GEMM. OPENBLAS_CORETYPE overrides the choice, but OpenBLAS reads it
// only at load time: the programs set it from the CPU's instruction flags and start themselves
// again, before anything else happens.

#include <string>

namespace ijepa {

// The kernel set OpenBLAS runs in this process ("SkylakeX", "Haswell", "Prescott", ...); empty
// where the BLAS is not OpenBLAS.
std::string openBlasCore();

// The kernel set to ask for where OpenBLAS chose kernels without AVX2 on a CPU that has AVX2 and FMA
// ("SkylakeX" with AVX-512 F/BW/DQ/VL/CD, else "Haswell"); empty where its own choice stands.
std::string betterOpenBlasCore(const std::string& chosen);

// The file this process runs (/proc/self/exe resolved, so a restart keeps the program's name in ps,
// top and pgrep); "/proc/self/exe" where it cannot be read.
std::string ownExecutable();

// First thing in main: where betterOpenBlasCore names a kernel set and OPENBLAS_CORETYPE is unset,
// sets it and executes the program again with the same arguments (returns only if that fails).
void restartWithBetterBlasKernels(char** argv);

// For run headers: "OpenBLAS SkylakeX kernels", with "(its own choice on this CPU: Prescott)" when
// restartWithBetterBlasKernels set them; empty without OpenBLAS.
std::string blasDescription();

} // namespace ijepa
