#pragma once

#include "core/data/data_loader.h"
#include "core/masks/multiblock_masks.h"

#include <functional>
#include <string>

namespace ijepa {

// Draws the masks of the first `maxImages` images of a batch as a grid of tiles: the context in
// grey-blue, each target block in its own colour (overlaps blended), patch grid lines on top.
// images, when defined, are [B, 3, H, W] uint8 RGB drawn underneath. Writes a PNG.
void writeMaskGrid(const MaskBatch& batch, int gridH, int gridW, const std::string& pngPath, int maxImages = 16,
                   const torch::Tensor& images = {});

// The same grid, PNG-encoded in memory (for TensorBoard); height and width of the PNG out.
std::string maskGridPng(const MaskBatch& batch, int gridH, int gridW, int maxImages, const torch::Tensor& images,
                        int& height, int& width);

// For RunLogOptions::renderMasks: the first 8 images of a (normalised) training batch with their
// masks on a grid x grid patch grid, as maskGridPng.
std::function<std::string(const Batch&, int& height, int& width)> batchMaskRenderer(int grid);

} // namespace ijepa
