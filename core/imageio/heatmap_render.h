#pragma once

#include <functional>
#include <string>
#include <vector>

namespace ijepa {

// A grid x grid heat map of `values` (row-major; NaN cells grey), upscaled to `cell` pixels a
// cell, viridis colours from the smallest to the largest finite value, PNG-encoded; its height and
// width out. For TensorBoard (the predictor's loss by patch position) and `ijepa masks --stats`.
std::string heatmapPng(const std::vector<double>& values, int grid, int cell, int& height, int& width);

// For RunLogOptions::renderHeatmap.
std::function<std::string(const std::vector<double>&, int grid, int& height, int& width)> heatmapRenderer(int cell = 16);

} // namespace ijepa
