#include "core/eval/attention_maps.h"

#include "core/errors.h"

#include <torch/torch.h>

namespace ijepa {

torch::Tensor attentionMaps(VisionTransformer& encoder, const torch::Tensor& images, int layer)
{
    const int depth = static_cast<int>(encoder->blocks->size());
    if (layer < 0 || layer >= depth)
        throw ConfigError("attention layer " + std::to_string(layer) + " is out of range: the encoder has " +
                          std::to_string(depth) + " blocks (0.." + std::to_string(depth - 1) + ")");
    torch::NoGradGuard noGrad;
    const auto device = encoder->pos_embed.device();
    auto x = encoder->patch_embed(images.to(device, torch::kFloat)) + encoder->pos_embed;
    for (int i = 0; i < layer; ++i)
        x = encoder->blocks[i]->as<Block>()->forward(x);
    auto* block = encoder->blocks[layer]->as<Block>();
    const auto& attn = block->attn;
    const auto qkv = linear(attn->qkv, block->norm1(x));
    const int64_t B = qkv.size(0), N = qkv.size(1), C = qkv.size(2) / 3, H = attn->numHeads;
    const auto parts = qkv.reshape({B, N, 3, H, C / H}).permute({2, 0, 3, 1, 4});
    const auto scores = torch::matmul(parts[0], parts[1].transpose(-2, -1)) * attn->scale;
    return torch::softmax(scores.to(torch::kFloat), -1).cpu();
}

torch::Tensor attentionRow(const torch::Tensor& maps, int head, int query)
{
    const auto perHead = head < 0 ? maps.mean(0) : maps[head];
    return query < 0 ? perHead.mean(0) : perHead[query];
}

} // namespace ijepa
