#pragma once

// PIL's antialiased bilinear resize (Image.resize(..., BILINEAR), as torchvision's RandomResizedCrop
// runs it on the reference's PIL images) in uint8 fixed point, with the ImageNet normalisation
// fused into its last pass: the loaders' resize of a decoded crop.

#include <torch/types.h>

#include <cstdint>

namespace ijepa {

// Resizes an interleaved RGB uint8 region (rows of `stride` bytes) to S x S and writes it
// normalised, channels first, into out ([3, S, S] float, contiguous). The filter is PIL's: a
// triangle of support max(1, scale) per axis, weights in 22-bit fixed point; the vertical pass
// runs first (PIL runs the horizontal one first), so a pixel may differ from PIL's by one level.
void resampleNormalize(const std::uint8_t* rgb, int height, int width, std::size_t stride, torch::Tensor& out);

} // namespace ijepa
