#pragma once

// What every test binary does before its first test, so that no test passes or fails by chance
// (docs/development.md): gtest's main (tests/test_main.cpp) and each GUI test's initTestCase.

#include <ATen/Context.h>
#include <c10/util/Flags.h>

// LibTorch's own switch (c10/core/impl/alloc_cpu.cpp): fill every CPU allocation with a junk
// pattern (NaN as a float, about 1.8e308 as a double).
C10_DECLARE_bool(caffe2_cpu_allocator_do_junk_fill);

namespace ijepa::test {

inline void makeTestsRepeatable()
{
    // A read of tensor memory nobody wrote gives NaN every time, not only when the allocator hands
    // back memory that happened to hold an Inf or a NaN: such a test fails always, never by chance.
    FLAGS_caffe2_cpu_allocator_do_junk_fill = true;
    // LibTorch seeds its default generator from /dev/urandom in every process: a test that draws
    // from it without seeding would see other numbers at every run. Here it is the same each time.
    at::manual_seed(0);
}

} // namespace ijepa::test
