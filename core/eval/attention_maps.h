#pragma once

#include "core/model/vision_transformer.h"

namespace ijepa {

// Attention probabilities of block `layer` (0-based) of `encoder` over every patch of images
// [B, 3, H, W]: softmax(q k^T * scale) of that block's heads, [B, heads, N, N] float32, row i the
// attention of query patch i (each row sums to 1). The encoder runs without masks and without
// gradients, on the encoder's device; the result is on the CPU.
torch::Tensor attentionMaps(VisionTransformer& encoder, const torch::Tensor& images, int layer);

// One query's map [N] from maps [heads, N, N]: head `head`, or the mean over heads when head < 0.
// query < 0 averages every query's row (where the layer looks overall).
torch::Tensor attentionRow(const torch::Tensor& maps, int head, int query);

} // namespace ijepa
