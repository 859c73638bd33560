// The tests' main: gtest's, after the OpenBLAS kernel check that the programs make first
// (core/cpu_blas.h), so that the tests multiply with the kernels the programs use.
#include "core/cpu_blas.h"

#include <gtest/gtest.h>

int main(int argc, char** argv)
{
    ijepa::restartWithBetterBlasKernels(argv);
    testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
