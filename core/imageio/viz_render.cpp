#include "core/imageio/viz_render.h"

#include "core/imageio/decode.h"
#include "core/errors.h"
#include "core/eval/attention_maps.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ijepa {
namespace {

constexpr int kPanel = 224; // pixels of a panel's side
constexpr int kMargin = 16;
constexpr int kCaption = 22;

cv::Mat toBgr(const torch::Tensor& imageHwc)
{
    const auto rgb = imageHwc.contiguous();
    cv::Mat m(static_cast<int>(rgb.size(0)), static_cast<int>(rgb.size(1)), CV_8UC3, rgb.data_ptr<uint8_t>());
    cv::Mat bgr, big;
    cv::cvtColor(m, bgr, cv::COLOR_RGB2BGR);
    cv::resize(bgr, big, cv::Size(kPanel, kPanel), 0, 0, cv::INTER_NEAREST);
    return big;
}

// values [grid * grid] in [lo, hi] as viridis cells, kPanel square; NaN cells transparent (keep base).
cv::Mat heatPanel(const std::vector<double>& values, int grid, double lo, double hi, const cv::Mat& base = {},
                  double alpha = 1.0)
{
    cv::Mat grey(grid, grid, CV_8UC1);
    for (int i = 0; i < grid * grid; ++i) {
        const double v = values[static_cast<size_t>(i)];
        const double t = hi > lo && std::isfinite(v) ? std::clamp((v - lo) / (hi - lo), 0.0, 1.0) : 0.0;
        grey.at<uint8_t>(i / grid, i % grid) = static_cast<uint8_t>(std::lround(255 * t));
    }
    cv::Mat colour, big;
    cv::applyColorMap(grey, colour, cv::COLORMAP_VIRIDIS);
    cv::resize(colour, big, cv::Size(kPanel, kPanel), 0, 0, cv::INTER_NEAREST);
    if (base.empty())
        return big;
    cv::Mat out = base.clone();
    const int cell = kPanel / grid;
    for (int i = 0; i < grid * grid; ++i) {
        if (!std::isfinite(values[static_cast<size_t>(i)]))
            continue;
        const cv::Rect r(i % grid * cell, i / grid * cell, cell, cell);
        cv::addWeighted(big(r), alpha, base(r), 1 - alpha, 0, out(r));
    }
    return out;
}

std::vector<double> toValues(const torch::Tensor& t)
{
    const auto d = t.to(torch::kDouble).contiguous();
    return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

// Panels laid out in rows, each with a caption below; a title on top.
class Figure {
public:
    Figure(int columns, int rows, const std::string& title)
        : m_canvas(kCaption + rows * (kPanel + kCaption + kMargin) + kMargin,
                   kMargin + columns * (kPanel + kMargin), CV_8UC3, cv::Scalar(255, 255, 255))
    {
        text(title, {kMargin, 16}, 0.5);
    }
    void put(int column, int row, const cv::Mat& panel, const std::string& caption)
    {
        const int x = kMargin + column * (kPanel + kMargin), y = kCaption + row * (kPanel + kCaption + kMargin);
        panel.copyTo(m_canvas(cv::Rect(x, y, panel.cols, panel.rows)));
        text(caption, {x, y + kPanel + 15}, 0.42);
    }
    void write(const std::string& path) const { writeImageFile(path, m_canvas, "the figure"); }

private:
    void text(const std::string& s, cv::Point at, double scale)
    {
        cv::putText(m_canvas, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(20, 20, 20), 1, cv::LINE_AA);
    }
    cv::Mat m_canvas;
};

void outlinePatch(cv::Mat& img, int grid, std::int64_t p, const cv::Scalar& colour, int thickness = 1)
{
    const int cell = kPanel / grid;
    cv::rectangle(img, cv::Rect(static_cast<int>(p % grid) * cell, static_cast<int>(p / grid) * cell, cell, cell), colour,
                  thickness);
}

} // namespace

void writeMaskStatsPng(const std::vector<std::string>& names, const std::vector<MaskStats>& stats,
                       const std::string& path)
{
    Figure fig(3, static_cast<int>(stats.size()), "share of images in which a patch is context / target / neither (0 dark .. 1 yellow)");
    for (size_t r = 0; r < stats.size(); ++r) {
        const auto& s = stats[r];
        const int row = static_cast<int>(r);
        fig.put(0, row, heatPanel(s.context, s.grid, 0, 1), names[r] + ": context");
        fig.put(1, row, heatPanel(s.target, s.grid, 0, 1), names[r] + ": target");
        fig.put(2, row, heatPanel(s.excluded, s.grid, 0, 1), names[r] + ": neither");
    }
    fig.write(path);
}

void writeAttentionPng(const torch::Tensor& imageHwc, const torch::Tensor& maps, int grid, int query, int head,
                       const std::string& title, const std::string& path)
{
    const int heads = static_cast<int>(maps.size(0));
    const cv::Mat base = toBgr(imageHwc);
    const auto row = toValues(attentionRow(maps, head, query));
    const auto overall = toValues(attentionRow(maps, head, -1));
    // Each map from its smallest (dark) to its largest value (yellow), as DINO's figures.
    const auto lo = [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); };
    const auto hi = [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); };
    Figure fig(std::max(3, heads), 2, title);
    fig.put(0, 0, base, "maps: min dark .. max yellow");
    cv::Mat q = heatPanel(row, grid, lo(row), hi(row), base, 0.7);
    outlinePatch(q, grid, query, cv::Scalar(0, 0, 255), 2);
    const std::string which = head < 0 ? "mean of heads" : "head " + std::to_string(head);
    fig.put(1, 0, q, "patch " + std::to_string(query) + ", " + which);
    fig.put(2, 0, heatPanel(overall, grid, lo(overall), hi(overall), base, 0.7), "all queries, " + which);
    for (int h = 0; h < heads; ++h) {
        const auto v = toValues(attentionRow(maps, h, query));
        cv::Mat m = heatPanel(v, grid, lo(v), hi(v), base, 0.7);
        outlinePatch(m, grid, query, cv::Scalar(0, 0, 255), 2);
        fig.put(h, 1, m, "head " + std::to_string(h) + ", query " + std::to_string(query));
    }
    fig.write(path);
}

void writePredictorPng(const torch::Tensor& imageHwc, int grid, const std::vector<std::int64_t>& context,
                       const PredictorProbe& probe, const torch::Tensor& bankImages, const std::string& title,
                       const std::string& path)
{
    const cv::Scalar blockColours[] = {{60, 60, 230}, {60, 200, 60}, {230, 120, 40}, {40, 200, 230}, {200, 60, 200}};
    cv::Mat masked = toBgr(imageHwc);
    std::vector<double> ctx(static_cast<size_t>(grid * grid), std::nan("")), cosine = ctx;
    for (auto p : context)
        ctx[static_cast<size_t>(p)] = 1.0;
    masked = heatPanel(ctx, grid, 0, 1, masked, 0.35);
    for (size_t b = 0; b < probe.blocks.size(); ++b)
        for (size_t i = 0; i < probe.blocks[b].patches.size(); ++i) {
            outlinePatch(masked, grid, probe.blocks[b].patches[i], blockColours[b % 5], 2);
            cosine[static_cast<size_t>(probe.blocks[b].patches[i])] = probe.blocks[b].cosine[i];
        }
    Figure fig(4, 1, title);
    fig.put(0, 0, masked, "context (tint), targets (boxes)");
    fig.put(1, 0, toBgr(assembleRetrieved(imageHwc, grid, probe, bankImages, true)), "nearest to the prediction");
    fig.put(2, 0, toBgr(assembleRetrieved(imageHwc, grid, probe, bankImages, false)), "nearest to the target");
    char caption[96];
    std::snprintf(caption, sizeof caption, "cos(pred, target), mean %.3f", probe.meanCosine);
    fig.put(3, 0, heatPanel(cosine, grid, -1, 1, toBgr(imageHwc), 0.85), caption);
    fig.write(path);
}

} // namespace ijepa
