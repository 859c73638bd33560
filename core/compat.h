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
#if IJEPA_TORCH_AT_LEAST(2, 1)
    return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0,
                                            /*is_causal=*/false, /*scale=*/scale);
#else
    auto attn = at::matmul(q, k.transpose(-2, -1)).mul_(scale).softmax(-1);
    return at::matmul(attn, v);
#endif
}

// bf16 autocast on CUDA for the lifetime of the guard (no-op when disabled).
class AutocastGuard {
public:
    explicit AutocastGuard(bool enabled) : m_enabled(enabled)
    {
        if (!m_enabled)
            return;
#if IJEPA_TORCH_AT_LEAST(2, 4)
        at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
        at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
        at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
        at::autocast::set_enabled(true);
#endif
    }
    ~AutocastGuard()
    {
        if (!m_enabled)
            return;
#if IJEPA_TORCH_AT_LEAST(2, 4)
        at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
        at::autocast::set_enabled(false);
#endif
        at::autocast::clear_cache();
    }
    AutocastGuard(const AutocastGuard&) = delete;
    AutocastGuard& operator=(const AutocastGuard&) = delete;

private:
    bool m_enabled;
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
