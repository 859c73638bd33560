#include "core/imageio/resample.h"

#include "core/data/augment.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace ijepa {
namespace {

constexpr int kPrecision = 22; // PIL's PRECISION_BITS (32 - 8 - 2)

// One axis of the filter: output i reads `count[i]` inputs from `first[i]` with weights
// weights[i * taps ...] (fixed point).
struct Filter {
    int taps = 0;
    std::vector<int> first, count;
    std::vector<std::int32_t> weights;
};

// ImagingResample's precompute_coeffs for the bilinear (triangle) filter.
Filter filterFor(int inSize, int outSize)
{
    const double scale = static_cast<double>(inSize) / outSize;
    const double filterScale = std::max(scale, 1.0);
    const double support = filterScale; // bilinear: support 1, widened when shrinking
    Filter f;
    f.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
    f.first.resize(static_cast<size_t>(outSize));
    f.count.resize(static_cast<size_t>(outSize));
    f.weights.assign(static_cast<size_t>(outSize) * static_cast<size_t>(f.taps), 0);
    std::vector<double> k(static_cast<size_t>(f.taps));
    for (int i = 0; i < outSize; ++i) {
        const double center = (i + 0.5) * scale;
        const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
        const int n = std::min(static_cast<int>(center + support + 0.5), inSize) - lo;
        double total = 0;
        for (int x = 0; x < n; ++x) {
            const double t = std::abs((x + lo - center + 0.5) / filterScale);
            k[static_cast<size_t>(x)] = t < 1.0 ? 1.0 - t : 0.0;
            total += k[static_cast<size_t>(x)];
        }
        f.first[static_cast<size_t>(i)] = lo;
        f.count[static_cast<size_t>(i)] = n;
        for (int x = 0; x < n; ++x) {
            const double w = total > 0 ? k[static_cast<size_t>(x)] / total : 0.0;
            f.weights[static_cast<size_t>(i * f.taps + x)] =
                static_cast<std::int32_t>(std::trunc(w * (1 << kPrecision) + (w < 0 ? -0.5 : 0.5)));
        }
    }
    return f;
}

std::uint8_t clip8(std::int64_t v)
{
    v >>= kPrecision;
    return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

const std::array<std::array<float, 256>, 3>& normalisation()
{
    static const auto table = [] {
        std::array<std::array<float, 256>, 3> t{};
        for (int c = 0; c < 3; ++c)
            for (int v = 0; v < 256; ++v)
                t[c][v] = static_cast<float>((v / 255.0 - kImageNetMean[c]) / kImageNetStd[c]);
        return t;
    }();
    return table;
}

} // namespace

void resampleNormalize(const std::uint8_t* rgb, int height, int width, std::size_t stride, torch::Tensor& out)
{
    const int side = static_cast<int>(out.size(-1));
    const Filter fy = filterFor(height, side), fx = filterFor(width, side);
    // Vertical pass: S rows of the full region width (contiguous, so it vectorises).
    const int rowBytes = width * 3;
    std::vector<std::uint8_t> tall(static_cast<size_t>(side) * static_cast<size_t>(rowBytes));
    std::vector<std::int32_t> acc(static_cast<size_t>(rowBytes));
    for (int i = 0; i < side; ++i) {
        std::fill(acc.begin(), acc.end(), 1 << (kPrecision - 1));
        for (int t = 0; t < fy.count[static_cast<size_t>(i)]; ++t) {
            const std::int32_t w = fy.weights[static_cast<size_t>(i * fy.taps + t)];
            const std::uint8_t* row = rgb + static_cast<size_t>(fy.first[static_cast<size_t>(i)] + t) * stride;
            for (int x = 0; x < rowBytes; ++x)
                acc[static_cast<size_t>(x)] += row[x] * w;
        }
        std::uint8_t* dst = tall.data() + static_cast<size_t>(i) * static_cast<size_t>(rowBytes);
        for (int x = 0; x < rowBytes; ++x)
            dst[x] = clip8(acc[static_cast<size_t>(x)]);
    }
    // Horizontal pass, normalised into the three channel planes.
    const auto& lut = normalisation();
    float* planes = out.data_ptr<float>();
    const size_t plane = static_cast<size_t>(side) * static_cast<size_t>(side);
    for (int y = 0; y < side; ++y) {
        const std::uint8_t* row = tall.data() + static_cast<size_t>(y) * static_cast<size_t>(rowBytes);
        for (int j = 0; j < side; ++j) {
            std::int32_t r = 1 << (kPrecision - 1), g = r, b = r;
            const std::uint8_t* p = row + fx.first[static_cast<size_t>(j)] * 3;
            const std::int32_t* w = fx.weights.data() + static_cast<size_t>(j * fx.taps);
            for (int t = 0; t < fx.count[static_cast<size_t>(j)]; ++t, p += 3) {
                r += p[0] * w[t];
                g += p[1] * w[t];
                b += p[2] * w[t];
            }
            const size_t at = static_cast<size_t>(y) * static_cast<size_t>(side) + static_cast<size_t>(j);
            planes[at] = lut[0][clip8(r)];
            planes[plane + at] = lut[1][clip8(g)];
            planes[2 * plane + at] = lut[2][clip8(b)];
        }
    }
}

} // namespace ijepa
