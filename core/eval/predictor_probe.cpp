#include "core/eval/predictor_probe.h"

#include "core/errors.h"

#include <torch/torch.h>

#include <algorithm>

namespace ijepa {
namespace {

torch::Tensor indexTensor(const std::vector<std::int64_t>& patches, std::int64_t numPatches, const char* what,
                          torch::Device device)
{
    if (patches.empty())
        throw ConfigError(std::string("predictor view: the ") + what + " is empty");
    for (auto p : patches)
        if (p < 0 || p >= numPatches)
            throw ConfigError(std::string("predictor view: ") + what + " patch " + std::to_string(p) +
                              " is outside the " + std::to_string(numPatches) + "-patch grid");
    return torch::tensor(patches, torch::kLong).unsqueeze(0).to(device);
}

// The nearest bank row of each row, skipping the rows of image `excludeImage`.
std::vector<CosineIndex::Hit> nearest(const PatchBank& bank, const torch::Tensor& rows, std::int64_t excludeImage)
{
    std::vector<CosineIndex::Hit> hits;
    if (!bank.index)
        return hits;
    const int k = 1 + (excludeImage >= 0 ? static_cast<int>(bank.patchesPerImage) : 0);
    for (std::int64_t i = 0; i < rows.size(0); ++i) {
        CosineIndex::Hit hit{-1, 0.0f};
        for (const auto& h : bank.index->query(rows[i], k))
            if (h.index / bank.patchesPerImage != excludeImage) {
                hit = h;
                break;
            }
        hits.push_back(hit);
    }
    return hits;
}

torch::Tensor normedTokens(const torch::Tensor& tokens)
{
    return torch::layer_norm(tokens.to(torch::kFloat), {tokens.size(-1)});
}

} // namespace

void removeTargetPatches(std::vector<std::int64_t>& context, const std::vector<std::vector<std::int64_t>>& targets)
{
    std::erase_if(context, [&](std::int64_t p) {
        return std::any_of(targets.begin(), targets.end(), [p](const auto& t) { return std::find(t.begin(), t.end(), p) != t.end(); });
    });
}

PatchBank patchBankFromTokens(const torch::Tensor& patchTokens)
{
    PatchBank bank;
    bank.images = patchTokens.size(0);
    bank.patchesPerImage = patchTokens.size(1);
    bank.index = std::make_shared<CosineIndex>(normedTokens(patchTokens).reshape({-1, patchTokens.size(2)}).cpu());
    return bank;
}

PatchBank buildPatchBank(VisionTransformer& targetEncoder, const torch::Tensor& views, int batchSize)
{
    torch::NoGradGuard noGrad;
    const auto device = targetEncoder->pos_embed.device();
    std::vector<torch::Tensor> parts;
    for (std::int64_t i = 0; i < views.size(0); i += batchSize)
        parts.push_back(targetEncoder->forward(views.slice(0, i, i + batchSize).to(device)).cpu());
    return patchBankFromTokens(torch::cat(parts, 0));
}

PredictorProbe probePredictor(IJepaModel& model, const torch::Tensor& image, const std::vector<std::int64_t>& context,
                              const std::vector<std::vector<std::int64_t>>& targets, const PatchBank& bank,
                              std::int64_t excludeImage)
{
    torch::NoGradGuard noGrad;
    const auto device = model.encoder->pos_embed.device();
    const std::int64_t numPatches = model.encoder->options.numPatches();
    const auto images = image.unsqueeze(0).to(device, torch::kFloat);
    const auto ctxMask = indexTensor(context, numPatches, "context", device);
    const auto ctxTokens = model.encoder->forward(images, {ctxMask});
    const auto fullTarget = normedTokens(model.targetEncoder->forward(images))[0];
    if (targets.empty())
        throw ConfigError("predictor view: no target block");
    PredictorProbe probe;
    double cosSum = 0;
    std::int64_t count = 0;
    for (const auto& block : targets) {
        const auto tgtMask = indexTensor(block, numPatches, "target block", device);
        PredictedBlock out;
        out.patches = block;
        out.predicted = model.predictor->forward(ctxTokens, {ctxMask}, {tgtMask})[0].to(torch::kFloat).cpu();
        out.target = fullTarget.index_select(0, tgtMask[0]).cpu();
        const auto cos = torch::cosine_similarity(out.predicted, out.target, 1);
        out.cosine.assign(cos.data_ptr<float>(), cos.data_ptr<float>() + cos.numel());
        cosSum += cos.sum().item<double>();
        count += cos.numel();
        out.predictedHits = nearest(bank, out.predicted, excludeImage);
        out.targetHits = nearest(bank, out.target, excludeImage);
        probe.blocks.push_back(std::move(out));
    }
    probe.meanCosine = cosSum / static_cast<double>(count);
    return probe;
}

torch::Tensor assembleRetrieved(const torch::Tensor& imageHwc, int grid, const PredictorProbe& probe,
                                const torch::Tensor& bankImages, bool predicted)
{
    auto out = imageHwc.clone();
    const auto size = imageHwc.size(0) / grid;
    const auto cells = static_cast<std::int64_t>(grid) * grid;
    const auto patch = [&](const torch::Tensor& img, std::int64_t p) {
        return img.slice(0, p / grid * size, (p / grid + 1) * size).slice(1, p % grid * size, (p % grid + 1) * size);
    };
    for (const auto& block : probe.blocks) {
        const auto& hits = predicted ? block.predictedHits : block.targetHits;
        for (size_t i = 0; i < hits.size() && i < block.patches.size(); ++i) {
            if (hits[i].index < 0)
                continue;
            const auto image = hits[i].index / cells, source = hits[i].index % cells;
            if (image < bankImages.size(0))
                patch(out, block.patches[i]).copy_(patch(bankImages[image], source));
        }
    }
    return out;
}

} // namespace ijepa
