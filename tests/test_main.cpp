// The tests' main: gtest's, after the OpenBLAS kernel check that the programs make first
// (core/cpu_blas.h), so that the tests multiply with the kernels the programs use.
#include "core/cpu_blas.h"
#include "tests/repeatable.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/version.h>

#include <fstream>
#include <iostream>
#include <string>

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
    ijepa::test::makeTestsRepeatable();
    testing::InitGoogleTest(&argc, argv);
    // What a failure's output (ctest --output-on-failure) needs to say where it happened.
    if (!testing::GTEST_FLAG(list_tests))
        std::cerr << "test environment: " << cpuModel() << ", LibTorch " << TORCH_VERSION << ", "
                  << at::get_num_threads() << " intra-op thread(s) by default, " << ijepa::blasDescription() << "\n";
    return RUN_ALL_TESTS();
}
