#pragma once

#include <torch/types.h>

namespace ijepa {

// Multi-head self-attention from a qkv projection: qkv [B, N, 3C] laid out as the reference's
// (q, k, v) x heads x head_dim, returns softmax(q k^T * scale) v as [B, N, C] (heads
// concatenated), differentiable. With queryFrom > 0 only tokens [queryFrom, N) ask (every token is
// still a key and a value): [B, N - queryFrom, C], for a last block whose other outputs go unused.
//
// LibTorch without scaled_dot_product_attention (1.13) on CPU float32 uses a BLAS kernel: one GEMM
// call per (image, head) straight on the strided qkv buffer, slices spread over the intra-op
// threads, vectorised ATen softmax in between, no permute/contiguous copies. ATen's bmm instead
// loops over the batch with a dispatcher round trip (select, resolve_conj, addmm) per slice, which
// dominates on ViT attention's many small matrices. Everything else goes through
// compat::attention (SDPA where the LibTorch has it).
torch::Tensor selfAttention(const torch::Tensor& qkv, int64_t numHeads, double scale, int64_t queryFrom = 0);

// True where selfAttention has the BLAS kernel for CPU float32 tensors.
bool blasAttentionAvailable();

} // namespace ijepa
