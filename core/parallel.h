#pragma once

// Parallel loops whose threads each run their share on their own: ATen ops and BLAS calls made
// inside stay on the calling thread (an independent sequence of small ops per core scales better
// than splitting each op over the cores, and OpenBLAS would serialise concurrent multi-threaded
// calls on its one buffer).

#include <ATen/Parallel.h>

#include <atomic>
#include <cstdint>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace ijepa {

// True when a parallel region opened here is one that ATen sees (our OpenMP runtime is LibTorch's,
// as with Debian's LibTorch and libgomp), so that ATen ops and BLAS inside it stay on their thread.
// A LibTorch that bundles its own OpenMP runtime would start its own threads inside each of ours.
inline bool sharesOpenMpWithTorch()
{
#ifdef _OPENMP
    static const bool shared = [] {
        std::atomic<bool> seen{true};
#pragma omp parallel num_threads(2)
        if (!at::in_parallel_region())
            seen = false;
        return seen.load();
    }();
    return shared;
#else
    return false;
#endif
}

// at::parallel_for(begin, end, grain, f), with each thread of the region limited to itself.
template <typename F>
void parallelForOnOwnThreads(int64_t begin, int64_t end, int64_t grain, const F& f)
{
    at::parallel_for(begin, end, grain, [&](int64_t first, int64_t last) {
#ifdef _OPENMP
        if (at::in_parallel_region())
            omp_set_num_threads(1); // the implicit task's setting: it ends with the region
#endif
        f(first, last);
    });
}

} // namespace ijepa
