#pragma once

#include "core/data/image_source.h"

#include <memory>
#include <string>

namespace ijepa {

// Image file types the folder reader takes (lower case; matched case-insensitively).
inline constexpr const char* kImageExtensions[] = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"};

// All images under `root`, recursively, in sorted path order, decoded with OpenCV; grayscale and
// alpha images become RGB. Labels follow torchvision's ImageFolder: each first-level sub-folder is
// a class (sorted by name); files directly in `root` are unlabelled (-1).
// Throws DataError for a missing folder or one without images.
std::shared_ptr<ImageSource> openImageFolder(const std::string& root);

// One image file as [H, W, 3] uint8 RGB (as the folder reader decodes it); throws DataError naming
// the file when it is missing or unreadable.
torch::Tensor readImageFile(const std::string& path);

} // namespace ijepa
