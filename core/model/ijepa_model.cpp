#include "core/model/ijepa_model.h"

#include <torch/torch.h>

#include <algorithm>

namespace ijepa {
namespace {

std::vector<torch::Tensor> parametersOf(const torch::nn::Module& m)
{
    return m.parameters(/*recurse=*/true);
}

VisionTransformerOptions encoderOptions(const Config& c)
{
    const EncoderSize size = c.encoderSize();
    VisionTransformerOptions o;
    o.imgSize = c.data.crop_size;
    o.patchSize = c.mask.patch_size;
    o.embedDim = size.embed_dim;
    o.depth = size.depth;
    o.numHeads = size.num_heads;
    return o;
}

} // namespace

std::vector<torch::Tensor> maskList(const torch::Tensor& masks)
{
    return masks.unbind(0);
}

IJepaModel::IJepaModel(const Config& config, torch::Device device)
{
    const auto encOpts = encoderOptions(config);
    encoder = VisionTransformer(encOpts);
    PredictorOptions p;
    p.numPatches = encOpts.numPatches();
    p.embedDim = encOpts.embedDim;
    p.predictorDim = config.meta.pred_emb_dim;
    p.depth = config.meta.pred_depth;
    p.numHeads = encOpts.numHeads;
    predictor = Predictor(p);
    targetEncoder = VisionTransformer(encOpts);
    syncTargetEncoder();
    for (auto& t : targetEncoder->parameters())
        t.set_requires_grad(false);
    encoder->to(device);
    predictor->to(device);
    targetEncoder->to(device);
}

void IJepaModel::syncTargetEncoder()
{
    torch::NoGradGuard noGrad;
    auto src = parametersOf(*encoder);
    auto dst = parametersOf(*targetEncoder);
    for (size_t i = 0; i < src.size(); ++i)
        dst[i].copy_(src[i]);
}

std::vector<torch::Tensor> IJepaModel::stateTensors() const
{
    std::vector<torch::Tensor> state;
    for (const torch::nn::Module* module : {static_cast<const torch::nn::Module*>(encoder.get()),
                                            static_cast<const torch::nn::Module*>(predictor.get()),
                                            static_cast<const torch::nn::Module*>(targetEncoder.get())}) {
        for (const auto& p : module->parameters())
            state.push_back(p.detach());
        for (const auto& b : module->buffers())
            state.push_back(b);
    }
    return state;
}

std::vector<torch::Tensor> IJepaModel::trainableParameters() const
{
    auto params = encoder->parameters();
    for (const auto& p : predictor->parameters())
        params.push_back(p);
    return params;
}

std::vector<ParamGroup> IJepaModel::paramGroups() const
{
    std::vector<ParamGroup> groups(4);
    groups[2].excludeWeightDecay = groups[3].excludeWeightDecay = true;
    const torch::nn::Module* modules[] = {encoder.get(), predictor.get()};
    for (int m = 0; m < 2; ++m)
        for (const auto& item : modules[m]->named_parameters(/*recurse=*/true)) {
            const bool noDecay = item.key().find("bias") != std::string::npos || item.value().dim() == 1;
            groups[m + (noDecay ? 2 : 0)].params.push_back(item.value());
        }
    return groups;
}

torch::Tensor IJepaModel::targets(const torch::Tensor& images, const MaskBatch& masks)
{
    torch::NoGradGuard noGrad;
    auto h = targetEncoder->forward(images);
    h = torch::layer_norm(h, {h.size(-1)});
    const int64_t batch = h.size(0);
    h = applyMasks(h, maskList(masks.pred));
    return repeatInterleaveBatch(h, batch, /*repeat=*/masks.enc.size(0));
}

torch::Tensor IJepaModel::predictions(const torch::Tensor& images, const MaskBatch& masks)
{
    const auto enc = maskList(masks.enc);
    auto z = encoder->forward(images, enc);
    return predictor->forward(z, enc, maskList(masks.pred));
}

void IJepaModel::updateTargetEncoder(double momentum)
{
    torch::NoGradGuard noGrad;
    auto target = parametersOf(*targetEncoder);
    auto online = parametersOf(*encoder);
    at::_foreach_mul_(target, momentum);
    at::_foreach_add_(target, online, 1.0 - momentum);
}

int64_t parameterCount(const torch::nn::Module& module, bool trainableOnly)
{
    int64_t n = 0;
    for (const auto& p : module.parameters())
        if (!trainableOnly || p.requires_grad())
            n += p.numel();
    return n;
}

} // namespace ijepa
