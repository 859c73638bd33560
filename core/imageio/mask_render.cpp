#include "core/imageio/mask_render.h"

#include "core/imageio/decode.h"
#include "core/data/augment.h"
#include "core/errors.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace ijepa {
namespace {

const cv::Scalar kContext(200, 140, 60); // BGR
const cv::Scalar kTargets[] = {{40, 40, 230}, {40, 200, 40}, {0, 200, 230}, {200, 60, 200}, {230, 200, 40}, {80, 80, 160}};

cv::Mat renderMaskGrid(const MaskBatch& batch, int gridH, int gridW, int maxImages, const torch::Tensor& images)
{
    const int count = static_cast<int>(std::min<int64_t>(batch.enc.size(1), maxImages));
    const int cols = static_cast<int>(std::ceil(std::sqrt(count)));
    const int rows = (count + cols - 1) / cols;
    const int cell = std::max(8, 256 / std::max(gridH, gridW));
    const int tileW = gridW * cell, tileH = gridH * cell, gap = 6;
    cv::Mat canvas(rows * (tileH + gap) + gap, cols * (tileW + gap) + gap, CV_8UC3, cv::Scalar(255, 255, 255));
    for (int i = 0; i < count; ++i) {
        cv::Mat tile(tileH, tileW, CV_8UC3, cv::Scalar(60, 60, 60));
        if (images.defined()) {
            auto img = images[i].permute({1, 2, 0}).contiguous();
            cv::Mat rgb(static_cast<int>(img.size(0)), static_cast<int>(img.size(1)), CV_8UC3, img.data_ptr());
            cv::Mat bgr;
            cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
            cv::resize(bgr, tile, tile.size(), 0, 0, cv::INTER_NEAREST);
        }
        cv::Mat overlay = tile.clone();
        const auto paint = [&](const torch::Tensor& idx, const cv::Scalar& colour) {
            auto a = idx.accessor<int64_t, 1>();
            for (int64_t k = 0; k < a.size(0); ++k) {
                const int r = static_cast<int>(a[k] / gridW), c = static_cast<int>(a[k] % gridW);
                cv::rectangle(overlay, cv::Rect(c * cell, r * cell, cell, cell), colour, cv::FILLED);
            }
        };
        for (int64_t e = 0; e < batch.enc.size(0); ++e)
            paint(batch.enc[e][i], kContext);
        for (int64_t p = 0; p < batch.pred.size(0); ++p)
            paint(batch.pred[p][i], kTargets[p % std::size(kTargets)]);
        cv::addWeighted(overlay, 0.65, tile, 0.35, 0, tile);
        for (int g = 1; g < gridW; ++g)
            cv::line(tile, {g * cell, 0}, {g * cell, tileH}, cv::Scalar(255, 255, 255), 1);
        for (int g = 1; g < gridH; ++g)
            cv::line(tile, {0, g * cell}, {tileW, g * cell}, cv::Scalar(255, 255, 255), 1);
        tile.copyTo(canvas(cv::Rect(gap + (i % cols) * (tileW + gap), gap + (i / cols) * (tileH + gap), tileW, tileH)));
    }
    return canvas;
}

} // namespace

void writeMaskGrid(const MaskBatch& batch, int gridH, int gridW, const std::string& pngPath, int maxImages,
                   const torch::Tensor& images)
{
    writeImageFile(pngPath, renderMaskGrid(batch, gridH, gridW, maxImages, images), "the masks PNG");
}

std::string maskGridPng(const MaskBatch& batch, int gridH, int gridW, int maxImages, const torch::Tensor& images,
                        int& height, int& width)
{
    const cv::Mat canvas = renderMaskGrid(batch, gridH, gridW, maxImages, images);
    std::vector<uchar> png;
    cv::imencode(".png", canvas, png);
    height = canvas.rows;
    width = canvas.cols;
    return {png.begin(), png.end()};
}

std::function<std::string(const Batch&, int& height, int& width)> batchMaskRenderer(int grid)
{
    return [grid](const Batch& batch, int& height, int& width) {
        const int n = static_cast<int>(std::min<std::int64_t>(8, batch.images.size(0)));
        return maskGridPng(batch.masks, grid, grid, n, denormalizeToUint8(batch.images.slice(0, 0, n)), height, width);
    };
}

} // namespace ijepa
