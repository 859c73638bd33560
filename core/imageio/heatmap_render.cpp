#include "core/imageio/heatmap_render.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ijepa {

std::string heatmapPng(const std::vector<double>& values, int grid, int cell, int& height, int& width)
{
    if (grid <= 0 || static_cast<int>(values.size()) != grid * grid)
        return {};
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (double v : values)
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    cv::Mat grey(grid, grid, CV_8UC1, cv::Scalar(0));
    for (int i = 0; i < grid * grid; ++i) {
        const double v = values[static_cast<size_t>(i)];
        const double t = std::isfinite(v) && hi > lo ? (v - lo) / (hi - lo) : 0.0;
        grey.at<unsigned char>(i / grid, i % grid) = static_cast<unsigned char>(std::lround(255.0 * t));
    }
    cv::Mat colour;
    cv::applyColorMap(grey, colour, cv::COLORMAP_VIRIDIS);
    for (int i = 0; i < grid * grid; ++i)
        if (!std::isfinite(values[static_cast<size_t>(i)]))
            colour.at<cv::Vec3b>(i / grid, i % grid) = cv::Vec3b(90, 90, 90);
    cv::Mat big;
    cv::resize(colour, big, cv::Size(grid * cell, grid * cell), 0, 0, cv::INTER_NEAREST);
    std::vector<unsigned char> png;
    cv::imencode(".png", big, png); // BGR in, as OpenCV writes it
    height = big.rows;
    width = big.cols;
    return {png.begin(), png.end()};
}

std::function<std::string(const std::vector<double>&, int, int&, int&)> heatmapRenderer(int cell)
{
    return [cell](const std::vector<double>& values, int grid, int& height, int& width) {
        return heatmapPng(values, grid, cell, height, width);
    };
}

} // namespace ijepa
