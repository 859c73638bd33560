#pragma once

// The profiler behind `ijepa bench --trace`: LibTorch 2.x and Debian's 1.13 differ here (see compat.h).

#include "core/compat.h"

#if IJEPA_TORCH_AT_LEAST(2, 0)
#include <torch/csrc/autograd/profiler_kineto.h>
#else
#include <torch/csrc/autograd/profiler_legacy.h>
#endif
#include <torch/types.h>

#include <memory>
#include <set>
#include <string>

namespace ijepa::compat {

// A profiler trace of the timed steps (Chrome trace JSON: Perfetto, chrome://tracing;
// bench/trace_summary.py prints where the time went). LibTorch 2.x: the Kineto profiler behind
// torch.profiler, CPU operators and on CUDA the kernels and runtime calls; Debian's 1.13 is built
// without Kineto: its legacy CPU profiler. Either records the operators of the calling thread (on
// CPU the first slice of the batch, the optimiser and the EMA), not the other slices' threads.
class ProfilerTrace {
public:
    ProfilerTrace(std::string path, const torch::Device& device) : m_path(std::move(path))
    {
#if IJEPA_TORCH_AT_LEAST(2, 0)
        using torch::profiler::impl::ActivityType;
        const torch::profiler::impl::ProfilerConfig config(torch::profiler::impl::ProfilerState::KINETO);
        std::set<ActivityType> activities{ActivityType::CPU};
        if (device.is_cuda())
            activities.insert(ActivityType::CUDA);
        torch::autograd::profiler::prepareProfiler(config, activities);
        torch::autograd::profiler::enableProfiler(config, activities);
#else
        (void)device;
        m_legacy = std::make_unique<torch::autograd::profiler::RecordProfile>(m_path);
#endif
    }
    void save()
    {
#if IJEPA_TORCH_AT_LEAST(2, 0)
        torch::autograd::profiler::disableProfiler()->save(m_path);
#else
        m_legacy.reset(); // writes the file
#endif
    }

private:
    std::string m_path;
#if !IJEPA_TORCH_AT_LEAST(2, 0)
    std::unique_ptr<torch::autograd::profiler::RecordProfile> m_legacy;
#endif
};

} // namespace ijepa::compat
