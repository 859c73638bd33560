#pragma once

#include <torch/types.h>

#include <array>
#include <random>

namespace ijepa {

// ImageNet normalisation, as the reference's transforms.Normalize.
inline constexpr std::array<double, 3> kImageNetMean{0.485, 0.456, 0.406};
inline constexpr std::array<double, 3> kImageNetStd{0.229, 0.224, 0.225};

struct CropBox {
    int top = 0;
    int left = 0;
    int height = 0;
    int width = 0;
};

// torchvision's RandomResizedCrop.get_params: up to 10 draws of an area fraction in `scale` and a
// log-uniform aspect ratio in `ratio` (w/h); falls back to the largest central crop within `ratio`.
CropBox randomResizedCropBox(int height, int width, std::array<double, 2> scale, std::array<double, 2> ratio,
                             std::mt19937_64& rng);

// Crops an [H, W, 3] uint8 image, resizes it to size x size (bilinear, antialiased when shrinking,
// as PIL) and normalises it: [3, size, size] float.
torch::Tensor cropResizeNormalize(const torch::Tensor& imageHwc, const CropBox& box, int size);

// Undoes the normalisation of a [B, 3, H, W] batch: uint8 RGB for display.
torch::Tensor denormalizeToUint8(const torch::Tensor& images);

} // namespace ijepa
