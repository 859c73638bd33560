#include "core/model/ijepa_model.h"

#include "core/model/memory_estimate.h"

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
    requireModelFits(config);
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
    if (config.loss.sigreg_on == "projector") { // made last: the other networks' init is unchanged
        const int64_t h = config.loss.projector_hidden;
        projector = torch::nn::Sequential(torch::nn::Linear(encOpts.embedDim, h), torch::nn::BatchNorm1d(h),
                                          torch::nn::ReLU(), torch::nn::Linear(h, h), torch::nn::BatchNorm1d(h),
                                          torch::nn::ReLU(), torch::nn::Linear(h, config.loss.projector_dim));
        projector->to(device);
    }
}

std::vector<const torch::nn::Module*> IJepaModel::trainedModules() const
{
    std::vector<const torch::nn::Module*> m{encoder.get(), predictor.get()};
    if (projector)
        m.push_back(projector.get());
    return m;
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
    auto modules = trainedModules();
    modules.insert(modules.begin() + 2, targetEncoder.get()); // encoder, predictor, target (, projector)
    for (const torch::nn::Module* module : modules) {
        for (const auto& p : module->parameters())
            state.push_back(p.detach());
        for (const auto& b : module->buffers())
            state.push_back(b);
    }
    return state;
}

std::vector<torch::Tensor> IJepaModel::trainableParameters() const
{
    std::vector<torch::Tensor> params;
    for (const auto* m : trainedModules())
        for (const auto& p : m->parameters())
            params.push_back(p);
    return params;
}

std::vector<ParamGroup> IJepaModel::paramGroups() const
{
    const auto modules = trainedModules();
    std::vector<ParamGroup> groups(2 * modules.size());
    for (size_t m = 0; m < modules.size(); ++m)
        for (const auto& item : modules[m]->named_parameters(/*recurse=*/true)) {
            const bool noDecay = item.key().find("bias") != std::string::npos || item.value().dim() == 1;
            // The reference's order: weights of each network, then their no-decay params; the
            // projector's pair after them.
            const size_t g = m < 2 ? m + (noDecay ? 2 : 0) : 4 + (noDecay ? 1 : 0);
            groups[g].params.push_back(item.value());
        }
    for (size_t g = 0; g < groups.size(); ++g)
        groups[g].excludeWeightDecay = g == 2 || g == 3 || g == 5;
    return groups;
}

torch::Tensor IJepaModel::targets(const torch::Tensor& images, const MaskBatch& masks)
{
    torch::NoGradGuard noGrad;
    const int64_t numMasks = masks.pred.size(0), batch = masks.pred.size(1), k = masks.pred.size(2);
    torch::Tensor h;
    if (numMasks * k < targetEncoder->options.numPatches()) {
        // The last block only at the targets' tokens (image i: block 0's k tokens, block 1's, ...),
        // then in applyMasks' order [block, image].
        const auto rows = masks.pred.permute({1, 0, 2}).reshape({batch, numMasks * k});
        h = targetEncoder->forwardAt(images, rows);
        h = torch::layer_norm(h, {h.size(-1)}).view({batch, numMasks, k, -1}).transpose(0, 1).reshape({numMasks * batch, k, -1});
    } else {
        h = targetEncoder->forward(images);
        h = applyMasks(torch::layer_norm(h, {h.size(-1)}), maskList(masks.pred));
    }
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
