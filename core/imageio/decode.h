#pragma once

// Decoding encoded images from memory: the whole image (OpenCV), or only the view a loader needs
// (JPEG through libjpeg-turbo: the crop's region at the smallest DCT scale that still covers the
// output, as DALI's region-of-interest decoders; other formats through OpenCV), resized in uint8
// and normalised once.

#include "core/data/image_source.h"

#include <torch/types.h>

namespace cv {
class Mat;
}

#include <cstdint>
#include <string>
#include <vector>

namespace ijepa {

// PIL's Image.MAX_IMAGE_PIXELS: an image with more pixels is refused from its header, before
// anything is decoded (a decompression bomb).
inline constexpr std::int64_t kMaxImagePixels = 89'478'485;

// The whole file; DataError naming it when it is missing or unreadable.
std::vector<std::uint8_t> readFileBytes(const std::string& path);

// Writes `image` (BGR) to `path`, its format from the name (.png, .jpg); a name OpenCV has no
// writer for (a folder, no extension, an empty name) or a write that fails throws DataError naming
// `path` and `what` (e.g. "the masks PNG"), never OpenCV's own exception.
void writeImageFile(const std::string& path, const cv::Mat& image, const std::string& what);

// Width and height from the header of a JPEG, PNG, BMP or WebP (0, 0 for a format it does not
// parse); throws DataError naming `name` for an image over kMaxImagePixels.
struct ImageSize {
    int width = 0;
    int height = 0;
};
ImageSize probeImageSize(const std::uint8_t* data, std::size_t size, const std::string& name);

// The whole image as [H, W, 3] uint8 RGB (grey and palette become RGB, alpha is dropped, 16 bits
// become 8, EXIF orientation is ignored as PIL does); DataError naming `name` when it cannot be read.
torch::Tensor decodeImage(const std::uint8_t* data, std::size_t size, const std::string& name);

// The loaders' view (ImageSource::view): decodes what `pick`'s box needs, resizes it to
// out's size in uint8 with PIL's antialiased bilinear filter (resample.h) and normalises it
// into `out` ([3, S, S] float). A truncated JPEG is refused (DataError naming `name`).
void decodeView(const std::uint8_t* data, std::size_t size, const std::string& name, const ImageSource::BoxPicker& pick,
                torch::Tensor& out);

} // namespace ijepa
