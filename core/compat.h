#pragma once

// The one place where LibTorch version differences live (Debian's 1.13 CPU build and the 2.x
// build bundled with PyTorch on GPU machines).

#include <torch/version.h>
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#ifdef IJEPA_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <limits>
#include <utility>

#define IJEPA_TORCH_AT_LEAST(major, minor) \
    (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// LibTorch before 2.1 has no scaled_dot_product_attention: where the build links a BLAS (Debian's
// 1.13), core/attention.cpp computes CPU attention with direct GEMM calls instead.
#if defined(IJEPA_WITH_BLAS) && !IJEPA_TORCH_AT_LEAST(2, 1)
#define IJEPA_BLAS_ATTENTION 1
#else
#define IJEPA_BLAS_ATTENTION 0
#endif

namespace ijepa::compat {

// Fused attention (softmax(q k^T * scale) v) where the LibTorch has it, the explicit form otherwise.
inline at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale)
{
#if IJEPA_TORCH_AT_LEAST(2, 3)
    // Not cuDNN's fused attention (preferred on Hopper by recent PyTorch): it builds an execution
    // plan on the host for each new sequence length, and the context length changes with every
    // batch's masks. Profiled on an H200 (PyTorch 2.11, ViT-base at 224, bench/gpu): 2.7 ms of host
    // time per forward call and 4.1 ms per backward, 72% of the step's host time, the GPU busy 26%
    // of the step. PyTorch's own flash / memory-efficient kernels take over; they plan nothing.
    if (q.is_cuda()) {
        static const bool cudnnAttentionOff = (at::globalContext().setSDPUseCuDNN(false), true);
        (void)cudnnAttentionOff;
    }
#endif
#if IJEPA_TORCH_AT_LEAST(2, 1)
    return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0,
                                            /*is_causal=*/false, /*scale=*/scale);
#else
    if (q.scalar_type() == at::kBFloat16) {
        // bf16 (CPU autocast): the scale applied inside the product, to its fp32 accumulators, and
        // the softmax on bf16 scores (its kernel computes in fp32 and rounds once), as the reference
        // runs under autocast; no fp32 copies of the scores (17% off the attention's step time).
        const auto B = q.size(0), H = q.size(1), Q = q.size(2), N = k.size(2), D = q.size(3);
        const auto scores = at::baddbmm(at::empty({B * H, Q, N}, q.options()), q.reshape({B * H, Q, D}),
                                        k.reshape({B * H, N, D}).transpose(1, 2), /*beta=*/0.0, /*alpha=*/scale);
        return at::bmm(scores.softmax(-1), v.reshape({B * H, N, D})).view({B, H, Q, D});
    }
    auto attn = at::matmul(q, k.transpose(-2, -1)).mul_(scale).softmax(-1);
    return at::matmul(attn, v);
#endif
}

// Whether autocast is on for `device` (CPU or CUDA) on the calling thread.
inline bool autocastEnabled(c10::DeviceType d)
{
#if IJEPA_TORCH_AT_LEAST(2, 4)
    return at::autocast::is_autocast_enabled(d);
#else
    return d == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

// bf16 autocast on `device` (CPU or CUDA) for the lifetime of the guard, on the calling thread
// (autocast is per-thread state): no-op when disabled. Restores the state it found; the outermost
// guard of a thread drops the cached bf16 copies of the weights (they change with each step).
class AutocastGuard {
public:
    AutocastGuard(c10::DeviceType device, bool enabled) : m_device(device), m_enabled(enabled)
    {
        if (!m_enabled)
            return;
        m_wasEnabled = autocastEnabled(device);
        m_previousType = dtype(device);
        setDtype(device, at::kBFloat16);
        setEnabled(device, true);
        at::autocast::increment_nesting();
    }
    ~AutocastGuard()
    {
        if (!m_enabled)
            return;
        if (at::autocast::decrement_nesting() == 0)
            at::autocast::clear_cache();
        setEnabled(m_device, m_wasEnabled);
        setDtype(m_device, m_previousType);
    }
    AutocastGuard(const AutocastGuard&) = delete;
    AutocastGuard& operator=(const AutocastGuard&) = delete;

private:
    static void setEnabled(c10::DeviceType d, bool on)
    {
#if IJEPA_TORCH_AT_LEAST(2, 4)
        at::autocast::set_autocast_enabled(d, on);
#else
        d == c10::DeviceType::CPU ? at::autocast::set_cpu_enabled(on) : at::autocast::set_enabled(on);
#endif
    }
    static at::ScalarType dtype(c10::DeviceType d)
    {
#if IJEPA_TORCH_AT_LEAST(2, 4)
        return at::autocast::get_autocast_dtype(d);
#else
        return d == c10::DeviceType::CPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
    }
    static void setDtype(c10::DeviceType d, at::ScalarType t)
    {
#if IJEPA_TORCH_AT_LEAST(2, 4)
        at::autocast::set_autocast_dtype(d, t);
#else
        d == c10::DeviceType::CPU ? at::autocast::set_autocast_cpu_dtype(t) : at::autocast::set_autocast_gpu_dtype(t);
#endif
    }

    c10::DeviceType m_device;
    bool m_enabled;
    bool m_wasEnabled = false;
    at::ScalarType m_previousType = at::kBFloat16;
};

inline const char* torchVersion() { return TORCH_VERSION; }

} // namespace ijepa::compat

namespace ijepa::compat {

// GPU memory held by tensors on CUDA device `index`, now and at its peak, in MiB (the caching
// allocator's aggregate "allocated bytes"); NaN in builds without CUDA.
inline std::pair<double, double> cudaMemoryMb(int index)
{
#ifdef IJEPA_WITH_CUDA
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
    const auto& allocated = stats.allocated_bytes[0]; // StatType::AGGREGATE
    return {allocated.current / 1048576.0, allocated.peak / 1048576.0};
#else
    (void)index;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    return {nan, nan};
#endif
}

} // namespace ijepa::compat

// c10d: from LibTorch 2.0 a process group's collectives live in a Backend (ProcessGroupGloo and
// ProcessGroupNCCL derive from it); in 1.13 they derive from ProcessGroup. Include the c10d
// headers first (core/distributed.cpp).
#ifdef IJEPA_COMPAT_C10D
namespace ijepa::compat {
#if IJEPA_TORCH_AT_LEAST(2, 0)
using CollectiveBackend = c10d::Backend;
#else
using CollectiveBackend = c10d::ProcessGroup;
#endif
} // namespace ijepa::compat
#endif
