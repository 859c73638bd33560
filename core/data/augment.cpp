#include "core/data/augment.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace ijepa {
namespace {

// ImageNet mean and std as [3] tensors with the given options.
std::pair<torch::Tensor, torch::Tensor> imageNetStats(const torch::TensorOptions& opts)
{
    return {torch::tensor({kImageNetMean[0], kImageNetMean[1], kImageNetMean[2]}, opts),
            torch::tensor({kImageNetStd[0], kImageNetStd[1], kImageNetStd[2]}, opts)};
}

} // namespace

CropBox randomResizedCropBox(int height, int width, std::array<double, 2> scale, std::array<double, 2> ratio,
                             std::mt19937_64& rng)
{
    const double area = static_cast<double>(height) * width;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const double logLo = std::log(ratio[0]), logHi = std::log(ratio[1]);
    for (int attempt = 0; attempt < 10; ++attempt) {
        const double target = area * (scale[0] + unit(rng) * (scale[1] - scale[0]));
        const double aspect = std::exp(logLo + unit(rng) * (logHi - logLo));
        const int w = static_cast<int>(std::lround(std::sqrt(target * aspect)));
        const int h = static_cast<int>(std::lround(std::sqrt(target / aspect)));
        if (w > 0 && h > 0 && w <= width && h <= height) {
            const int top = std::uniform_int_distribution<int>(0, height - h)(rng);
            const int left = std::uniform_int_distribution<int>(0, width - w)(rng);
            return {top, left, h, w};
        }
    }
    const double inRatio = static_cast<double>(width) / height;
    int w = width, h = height;
    if (inRatio < ratio[0])
        h = static_cast<int>(std::lround(w / ratio[0]));
    else if (inRatio > ratio[1])
        w = static_cast<int>(std::lround(h * ratio[1]));
    return {(height - h) / 2, (width - w) / 2, h, w};
}

torch::Tensor cropResizeNormalize(const torch::Tensor& imageHwc, const CropBox& box, int size)
{
    namespace F = torch::nn::functional;
    auto crop = imageHwc.slice(0, box.top, box.top + box.height)
                    .slice(1, box.left, box.left + box.width)
                    .permute({2, 0, 1})
                    .unsqueeze(0)
                    .to(torch::kFloat32)
                    .div_(255.0);
    if (box.height != size || box.width != size) {
        const bool shrink = box.height > size || box.width > size;
        crop = F::interpolate(crop, F::InterpolateFuncOptions()
                                        .size(std::vector<int64_t>{size, size})
                                        .mode(torch::kBilinear)
                                        .align_corners(false)
                                        .antialias(shrink));
    }
    const auto [mean, stdev] = imageNetStats(torch::kFloat32);
    return crop.squeeze(0).sub_(mean.view({3, 1, 1})).div_(stdev.view({3, 1, 1}));
}

torch::Tensor denormalizeToUint8(const torch::Tensor& images)
{
    const auto [mean, stdev] = imageNetStats(images.options().dtype(torch::kFloat32));
    return images.to(torch::kFloat32).mul(stdev.view({1, 3, 1, 1})).add_(mean.view({1, 3, 1, 1})).mul_(255.0).round_().clamp_(0, 255).to(torch::kUInt8).cpu();
}

} // namespace ijepa
