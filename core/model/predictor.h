#pragma once

#include "core/model/vision_transformer.h"

namespace ijepa {

struct PredictorOptions {
    int numPatches = 196;
    int embedDim = 768;       // encoder width (input and output)
    int predictorDim = 384;   // predictor width
    int depth = 6;
    int numHeads = 12;
    double mlpRatio = 4.0;
};

// The narrow ViT predictor. State-dict names match the reference: mask_token, predictor_pos_embed,
// predictor_embed, predictor_blocks.N..., predictor_norm, predictor_proj.
struct PredictorImpl : torch::nn::Module {
    explicit PredictorImpl(const PredictorOptions& options);
    // context [nenc * B, K, D] from the encoder; contextMasks (nenc of [B, K]) and targetMasks
    // (npred of [B, Kp]). Returns predictions [npred * nenc * B, Kp, D], one pass per target block.
    torch::Tensor forward(const torch::Tensor& context, const std::vector<torch::Tensor>& contextMasks,
                          const std::vector<torch::Tensor>& targetMasks);
    void resetParameters();

    PredictorOptions options;
    torch::nn::Linear predictor_embed;
    torch::Tensor mask_token;
    torch::Tensor predictor_pos_embed;
    torch::nn::ModuleList predictor_blocks;
    torch::nn::LayerNorm predictor_norm;
    torch::nn::Linear predictor_proj;
};
TORCH_MODULE(Predictor);

} // namespace ijepa
