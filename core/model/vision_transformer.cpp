#include "core/model/vision_transformer.h"

#include "core/compat.h"
#include "core/model/attention.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace ijepa {
namespace {

torch::Tensor sincos1d(int dim, const torch::Tensor& pos)
{
    auto omega = torch::arange(dim / 2, torch::kDouble) / (dim / 2.0);
    omega = 1.0 / torch::pow(10000.0, omega);
    auto out = torch::outer(pos.reshape(-1), omega);
    return torch::cat({torch::sin(out), torch::cos(out)}, 1);
}

torch::nn::LayerNorm layerNorm(int dim)
{
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6));
}

} // namespace

torch::Tensor sincosPosEmbed2d(int dim, int gridSize)
{
    auto coords = torch::arange(gridSize, torch::kDouble);
    auto grid = torch::meshgrid({coords, coords}, /*indexing=*/"xy"); // grid[0] varies along w
    auto embH = sincos1d(dim / 2, grid[0]);
    auto embW = sincos1d(dim / 2, grid[1]);
    return torch::cat({embH, embW}, 1).to(torch::kFloat);
}

void truncNormal_(torch::Tensor t, double std, double a, double b)
{
    torch::NoGradGuard noGrad;
    const auto cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
    const double l = cdf(a / std), u = cdf(b / std);
    t.uniform_(2 * l - 1, 2 * u - 1).erfinv_().mul_(std * std::sqrt(2.0)).clamp_(a, b);
}

torch::Tensor applyMasks(const torch::Tensor& x, const std::vector<torch::Tensor>& masks)
{
    std::vector<torch::Tensor> gathered;
    gathered.reserve(masks.size());
    for (const auto& m : masks)
        gathered.push_back(gatherRows(x, m));
    return torch::cat(gathered, 0);
}

torch::Tensor gatherRows(const torch::Tensor& x, const torch::Tensor& rows)
{
    return torch::gather(x, 1, rows.unsqueeze(-1).expand({-1, -1, x.size(-1)}));
}

torch::Tensor linear(const torch::nn::Linear& layer, const torch::Tensor& x)
{
    return torch::linear(x, layer->weight, layer->bias);
}

torch::Tensor repeatInterleaveBatch(const torch::Tensor& x, int64_t batch, int64_t repeat)
{
    if (repeat == 1)
        return x;
    const int64_t chunks = x.size(0) / batch;
    auto shape = x.sizes().vec();
    std::vector<int64_t> view{chunks, 1, batch};
    view.insert(view.end(), shape.begin() + 1, shape.end());
    std::vector<int64_t> expanded = view;
    expanded[1] = repeat;
    shape[0] = chunks * repeat * batch;
    return x.reshape(view).expand(expanded).reshape(shape);
}

MlpImpl::MlpImpl(int dim, int hidden)
    : fc1(register_module("fc1", torch::nn::Linear(dim, hidden))),
      fc2(register_module("fc2", torch::nn::Linear(hidden, dim)))
{
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x)
{
    return linear(fc2, torch::gelu(linear(fc1, x)));
}

AttentionImpl::AttentionImpl(int dim, int numHeads)
    : numHeads(numHeads),
      scale(1.0 / std::sqrt(static_cast<double>(dim / numHeads))),
      qkv(register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, dim * 3).bias(true)))),
      proj(register_module("proj", torch::nn::Linear(dim, dim)))
{
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, int64_t queryFrom)
{
    return linear(proj, selfAttention(linear(qkv, x), numHeads, scale, queryFrom));
}

torch::Tensor AttentionImpl::forwardAt(const torch::Tensor& x, const torch::Tensor& rows)
{
    const int64_t B = x.size(0), N = x.size(1), C = x.size(2), R = rows.size(1), D = C / numHeads;
    const auto& w = qkv->weight;
    const auto& b = qkv->bias;
    // The queries of the asked rows, the keys and values of every token: the reference's qkv split.
    const auto q = torch::linear(gatherRows(x, rows), w.slice(0, 0, C), b.slice(0, 0, C))
                       .view({B, R, numHeads, D})
                       .transpose(1, 2);
    const auto kv = torch::linear(x, w.slice(0, C), b.slice(0, C)).view({B, N, 2, numHeads, D}).permute({2, 0, 3, 1, 4});
    return linear(proj, compat::attention(q, kv[0], kv[1], scale).transpose(1, 2).reshape({B, R, C}));
}

BlockImpl::BlockImpl(int dim, int numHeads, double mlpRatio)
    : norm1(register_module("norm1", layerNorm(dim))),
      attn(register_module("attn", Attention(dim, numHeads))),
      norm2(register_module("norm2", layerNorm(dim))),
      mlp(register_module("mlp", Mlp(dim, static_cast<int>(dim * mlpRatio))))
{
}

torch::Tensor BlockImpl::forward(torch::Tensor x, int64_t queryFrom)
{
    const auto a = attn(norm1(x), queryFrom);
    x = (queryFrom > 0 ? x.slice(1, queryFrom) : x) + a;
    return x + mlp(norm2(x));
}

torch::Tensor BlockImpl::forwardAt(const torch::Tensor& x, const torch::Tensor& rows)
{
    const auto h = gatherRows(x, rows) + attn->forwardAt(norm1(x), rows);
    return h + mlp(norm2(h));
}

PatchEmbedImpl::PatchEmbedImpl(int patchSize, int inChannels, int dim)
    : proj(register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(inChannels, dim, patchSize).stride(patchSize))))
{
}

torch::Tensor PatchEmbedImpl::forward(const torch::Tensor& x)
{
    // Contiguous tokens: the transposed view would make every tensor of the residual stream keep
    // its layout, and each layer norm copy it.
    return proj(x).flatten(2).transpose(1, 2).contiguous();
}

VisionTransformerImpl::VisionTransformerImpl(const VisionTransformerOptions& opts)
    : options(opts),
      patch_embed(PatchEmbed(opts.patchSize, opts.inChannels, opts.embedDim)),
      blocks(torch::nn::ModuleList())
{
    // Registration order gives the reference's named_parameters() order: pos_embed first.
    pos_embed = register_parameter("pos_embed", sincosPosEmbed2d(opts.embedDim, opts.gridSize()).unsqueeze(0),
                                   /*requires_grad=*/false);
    register_module("patch_embed", patch_embed);
    for (int i = 0; i < opts.depth; ++i)
        blocks->push_back(Block(opts.embedDim, opts.numHeads, opts.mlpRatio));
    register_module("blocks", blocks);
    norm = register_module("norm", layerNorm(opts.embedDim));
    resetParameters();
}

torch::Tensor VisionTransformerImpl::forward(const torch::Tensor& images, const std::vector<torch::Tensor>& masks)
{
    auto x = patch_embed(images) + pos_embed;
    if (!masks.empty())
        x = applyMasks(x, masks);
    for (const auto& block : *blocks)
        x = block->as<Block>()->forward(x);
    return norm(x);
}

torch::Tensor VisionTransformerImpl::forwardAt(const torch::Tensor& images, const torch::Tensor& rows)
{
    auto x = patch_embed(images) + pos_embed;
    const size_t last = blocks->size() - 1;
    for (size_t i = 0; i < last; ++i)
        x = blocks[i]->as<Block>()->forward(x);
    return norm(blocks[last]->as<Block>()->forwardAt(x, rows));
}

torch::Tensor VisionTransformerImpl::forwardLastLayers(const torch::Tensor& images, int layers)
{
    const int depth = static_cast<int>(blocks->size());
    if (layers < 1 || layers > depth)
        throw std::invalid_argument("layers must be 1.." + std::to_string(depth) + ", got " + std::to_string(layers));
    auto x = patch_embed(images) + pos_embed;
    torch::Tensor sum;
    for (int i = 0; i < depth; ++i) {
        x = blocks[static_cast<size_t>(i)]->as<Block>()->forward(x);
        if (i >= depth - layers)
            sum = sum.defined() ? sum + norm(x) : norm(x);
    }
    return layers == 1 ? sum : sum / layers;
}

void VisionTransformerImpl::resetParameters()
{
    initReferenceWeights(*this);
}

void initReferenceWeights(torch::nn::Module& module)
{
    torch::NoGradGuard noGrad;
    for (auto& m : module.modules(/*include_self=*/false)) {
        if (auto* linear = m->as<torch::nn::Linear>()) {
            truncNormal_(linear->weight, 0.02);
            if (linear->bias.defined())
                linear->bias.zero_();
        } else if (auto* conv = m->as<torch::nn::Conv2d>()) {
            truncNormal_(conv->weight, 0.02);
            if (conv->bias.defined())
                conv->bias.zero_();
        } else if (auto* ln = m->as<torch::nn::LayerNorm>()) {
            ln->weight.fill_(1.0);
            ln->bias.zero_();
        }
    }
}

} // namespace ijepa
