#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <vector>

namespace ijepa {

// Fixed 2-D sin-cos position embedding [grid*grid, dim], as get_2d_sincos_pos_embed (float64 math,
// returned as float32): first half encodes the row, second half the column.
torch::Tensor sincosPosEmbed2d(int dim, int gridSize);

// Truncated normal in place, as the reference's trunc_normal_ (bounds a, b are absolute values).
void truncNormal_(torch::Tensor t, double std, double a = -2.0, double b = 2.0);

// Gathers the tokens of x [B, N, D] at each mask [B, K] and stacks the results along the batch:
// [len(masks) * B, K, D] (the reference's apply_masks).
torch::Tensor applyMasks(const torch::Tensor& x, const std::vector<torch::Tensor>& masks);

// The tokens of x [B, N, D] at rows [B, R] (per image, repeats allowed): [B, R, D].
torch::Tensor gatherRows(const torch::Tensor& x, const torch::Tensor& rows);

// layer(x) through ATen's linear, which folds the bias into the GEMM (addmm) for 3-D inputs as
// PyTorch's F.linear does; the C++ frontend's Linear::forward runs a matmul and a separate add.
torch::Tensor linear(const torch::nn::Linear& layer, const torch::Tensor& x);

// Repeats each consecutive chunk of B rows `repeat` times (the reference's repeat_interleave_batch).
torch::Tensor repeatInterleaveBatch(const torch::Tensor& x, int64_t batch, int64_t repeat);

struct MlpImpl : torch::nn::Module {
    MlpImpl(int dim, int hidden);
    torch::Tensor forward(const torch::Tensor& x);
    torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Mlp);

struct AttentionImpl : torch::nn::Module {
    AttentionImpl(int dim, int numHeads);
    // With queryFrom > 0: the outputs of tokens [queryFrom, N) only (selfAttention).
    torch::Tensor forward(const torch::Tensor& x, int64_t queryFrom = 0);
    // The outputs of the tokens at rows [B, R] only (queries for those, keys and values for all).
    torch::Tensor forwardAt(const torch::Tensor& x, const torch::Tensor& rows);
    int numHeads;
    double scale;
    torch::nn::Linear qkv, proj;
};
TORCH_MODULE(Attention);

// Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)); LayerNorm eps 1e-6.
struct BlockImpl : torch::nn::Module {
    BlockImpl(int dim, int numHeads, double mlpRatio);
    // With queryFrom > 0 the outputs of tokens [queryFrom, N) only: a last block whose other
    // outputs nobody reads skips their projection and MLP (the predictor's context tokens).
    torch::Tensor forward(torch::Tensor x, int64_t queryFrom = 0);
    // The outputs of the tokens at rows [B, R] only, as gatherRows(forward(x), rows).
    torch::Tensor forwardAt(const torch::Tensor& x, const torch::Tensor& rows);
    torch::nn::LayerNorm norm1;
    Attention attn;
    torch::nn::LayerNorm norm2;
    Mlp mlp;
};
TORCH_MODULE(Block);

struct PatchEmbedImpl : torch::nn::Module {
    PatchEmbedImpl(int patchSize, int inChannels, int dim);
    // [B, C, H, W] -> [B, N, D], patches in raster order.
    torch::Tensor forward(const torch::Tensor& x);
    torch::nn::Conv2d proj;
};
TORCH_MODULE(PatchEmbed);

struct VisionTransformerOptions {
    int imgSize = 224;
    int patchSize = 16;
    int inChannels = 3;
    int embedDim = 768;
    int depth = 12;
    int numHeads = 12;
    double mlpRatio = 4.0;
    int gridSize() const { return imgSize / patchSize; }
    int numPatches() const { return gridSize() * gridSize(); }
};

// The ViT context/target encoder (no class token). State-dict names match the reference:
// pos_embed, patch_embed.proj, blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}, norm.
struct VisionTransformerImpl : torch::nn::Module {
    explicit VisionTransformerImpl(const VisionTransformerOptions& options);
    // Encodes images [B, 3, H, W]; with masks (each [B, K] patch indices) only those tokens enter
    // the blocks and the result is [len(masks) * B, K, D], else [B, N, D].
    torch::Tensor forward(const torch::Tensor& images, const std::vector<torch::Tensor>& masks = {});
    // The tokens of the last `layers` blocks, each through the final norm, averaged: [B, N, D]
    // (frozen-feature evaluation from several layers; layers = 1 is forward(images)).
    torch::Tensor forwardLastLayers(const torch::Tensor& images, int layers);
    // gatherRows(forward(images), rows) for rows [B, R], with the last block computing only those
    // outputs (the target encoder, whose targets are a few blocks of tokens).
    torch::Tensor forwardAt(const torch::Tensor& images, const torch::Tensor& rows);
    // Reference initialisation: trunc-normal 0.02 for Linear and Conv weights, zero biases,
    // LayerNorm weight 1 and bias 0.
    void resetParameters();

    VisionTransformerOptions options;
    PatchEmbed patch_embed;
    torch::Tensor pos_embed;
    torch::nn::ModuleList blocks;
    torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(VisionTransformer);

// Shared reference initialisation for any module tree of Linear/Conv2d/LayerNorm.
void initReferenceWeights(torch::nn::Module& module);

} // namespace ijepa
