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

namespace {

// One axis of the filter over whole rows: output row i = sum_t weight(i, t) * src row (first(i) + t),
// each of `rowBytes` bytes, clipped to uint8. Contiguous rows, so the inner loop vectorises.
void filterRows(const std::uint8_t* src, std::size_t stride, std::size_t rowBytes, const Filter& f, std::uint8_t* dst)
{
    std::vector<std::int32_t> acc(rowBytes);
    for (size_t i = 0; i < f.first.size(); ++i) {
        std::fill(acc.begin(), acc.end(), 1 << (kPrecision - 1));
        for (int t = 0; t < f.count[i]; ++t) {
            const std::int32_t w = f.weights[i * static_cast<size_t>(f.taps) + static_cast<size_t>(t)];
            const std::uint8_t* row = src + static_cast<size_t>(f.first[i] + t) * stride;
            for (size_t x = 0; x < rowBytes; ++x)
                acc[x] += row[x] * w;
        }
        std::uint8_t* out = dst + i * rowBytes;
        for (size_t x = 0; x < rowBytes; ++x)
            out[x] = clip8(acc[x]);
    }
}

} // namespace

void resampleNormalize(const std::uint8_t* rgb, int height, int width, std::size_t stride, torch::Tensor& out)
{
    const auto side = static_cast<size_t>(out.size(-1));
    const auto w = static_cast<size_t>(width);
    const Filter fy = filterFor(height, static_cast<int>(side)), fx = filterFor(width, static_cast<int>(side));
    // Vertical pass: S rows of the region's width. Then the same filter along the other axis, on
    // the transposed rows (pixel columns become rows, so this pass vectorises too).
    std::vector<std::uint8_t> tall(side * w * 3), tallT(w * side * 3), wide(side * side * 3);
    filterRows(rgb, stride, w * 3, fy, tall.data());
    for (size_t y = 0; y < side; ++y)
        for (size_t x = 0; x < w; ++x)
            for (size_t c = 0; c < 3; ++c)
                tallT[(x * side + y) * 3 + c] = tall[(y * w + x) * 3 + c];
    filterRows(tallT.data(), side * 3, side * 3, fx, wide.data()); // wide[j][y][c]: output column j
    const auto& lut = normalisation();
    float* planes = out.data_ptr<float>();
    const size_t plane = side * side;
    for (size_t y = 0; y < side; ++y)
        for (size_t j = 0; j < side; ++j) {
            const std::uint8_t* p = wide.data() + (j * side + y) * 3;
            planes[y * side + j] = lut[0][p[0]];
            planes[plane + y * side + j] = lut[1][p[1]];
            planes[2 * plane + y * side + j] = lut[2][p[2]];
        }
}

} // namespace ijepa
