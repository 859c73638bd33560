// The tests' main: gtest's, after the OpenBLAS kernel check that the programs make first
// (core/cpu_blas.h), so that the tests multiply with the kernels the programs use.
#include "core/cpu_blas.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/util/Flags.h>
#include <gtest/gtest.h>
#include <torch/version.h>

#include <fstream>
#include <iostream>
#include <string>

// LibTorch's own switch (c10/core/impl/alloc_cpu.cpp): fill every CPU allocation with a NaN pattern.
C10_DECLARE_bool(caffe2_cpu_allocator_do_junk_fill);

namespace {

std::string cpuModel()
{
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0)
            return line.substr(line.find(':') + 2);
    return "unknown CPU";
}

} // namespace

int main(int argc, char** argv)
{
    ijepa::restartWithBetterBlasKernels(argv);
    // A read of tensor memory nobody wrote gives NaN every time, not only when the allocator hands
    // back memory that happened to hold an Inf or a NaN: such a test fails always, never by chance.
    FLAGS_caffe2_cpu_allocator_do_junk_fill = true;
    // LibTorch seeds its default generator from /dev/urandom in every process: a test that draws
    // from it without seeding would see other numbers at every run. Here it is the same each time.
    at::manual_seed(0);
    testing::InitGoogleTest(&argc, argv);
    // What a failure's output (ctest --output-on-failure) needs to say where it happened.
    if (!testing::GTEST_FLAG(list_tests))
        std::cerr << "test environment: " << cpuModel() << ", LibTorch " << TORCH_VERSION << ", "
                  << at::get_num_threads() << " intra-op thread(s) by default, " << ijepa::blasDescription() << "\n";
    return RUN_ALL_TESTS();
}
