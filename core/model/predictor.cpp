#include "core/model/predictor.h"

#include <torch/torch.h>

#include <cmath>

namespace ijepa {

PredictorImpl::PredictorImpl(const PredictorOptions& opts)
    : options(opts),
      predictor_embed(torch::nn::Linear(opts.embedDim, opts.predictorDim)),
      predictor_blocks(torch::nn::ModuleList()),
      predictor_norm(torch::nn::LayerNorm(torch::nn::LayerNormOptions({opts.predictorDim}).eps(1e-6))),
      predictor_proj(torch::nn::Linear(opts.predictorDim, opts.embedDim))
{
    // Own parameters first, then children, as the reference's named_parameters() lists them.
    mask_token = register_parameter("mask_token", torch::zeros({1, 1, opts.predictorDim}));
    const int grid = static_cast<int>(std::lround(std::sqrt(opts.numPatches)));
    predictor_pos_embed = register_parameter("predictor_pos_embed",
                                             sincosPosEmbed2d(opts.predictorDim, grid).unsqueeze(0),
                                             /*requires_grad=*/false);
    register_module("predictor_embed", predictor_embed);
    for (int i = 0; i < opts.depth; ++i)
        predictor_blocks->push_back(Block(opts.predictorDim, opts.numHeads, opts.mlpRatio));
    register_module("predictor_blocks", predictor_blocks);
    register_module("predictor_norm", predictor_norm);
    register_module("predictor_proj", predictor_proj);
    resetParameters();
}

void PredictorImpl::resetParameters()
{
    truncNormal_(mask_token, 0.02);
    initReferenceWeights(*this);
}

torch::Tensor PredictorImpl::forward(const torch::Tensor& context, const std::vector<torch::Tensor>& contextMasks,
                                     const std::vector<torch::Tensor>& targetMasks)
{
    const int64_t numContext = static_cast<int64_t>(contextMasks.size());
    const int64_t batch = context.size(0) / numContext;
    const auto pos = predictor_pos_embed.expand({batch, -1, -1});

    auto x = linear(predictor_embed, context) + applyMasks(pos, contextMasks);
    const int64_t contextTokens = x.size(1);

    auto targetPos = repeatInterleaveBatch(applyMasks(pos, targetMasks), batch, /*repeat=*/numContext);
    auto targetTokens = mask_token + targetPos;
    x = torch::cat({x.repeat({static_cast<int64_t>(targetMasks.size()), 1, 1}), targetTokens}, 1);

    // Only the target tokens' outputs are read: the last block computes those alone.
    const size_t depth = predictor_blocks->size();
    for (size_t i = 0; i < depth; ++i)
        x = predictor_blocks[i]->as<Block>()->forward(x, i + 1 == depth ? contextTokens : 0);
    return linear(predictor_proj, predictor_norm(x));
}

} // namespace ijepa
