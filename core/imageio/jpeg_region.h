#pragma once

// JPEG region-of-interest decoding with libjpeg-turbo (decode.cpp's fast path).

#include "core/data/image_source.h"

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ijepa {

// True when the bytes start as a JPEG (SOI marker).
bool isJpeg(const std::uint8_t* data, std::size_t size);

// False when the data cannot hold a whole JPEG: no end-of-image marker in its last 64 KB (a file
// cut short; the decoder would fill the missing rows with grey).
bool jpegHasEnd(const std::uint8_t* data, std::size_t size);

// Decodes the rows and columns of a JPEG that `pick`'s box needs (the box is drawn from the
// header's full size, so it is the same box a whole decode gives), at the smallest DCT scale
// (1/8, 1/4, 1/2, 1) that keeps the box at least `minSide` pixels on each side. `rgb` gets the
// decoded pixels (CV_8UC3, RGB) and `box` the crop within them. Returns false, having called
// neither pick nor decoded anything, for a colour space libjpeg-turbo cannot turn into RGB
// (CMYK, YCCK): the caller decodes those otherwise. Throws DataError naming `name` for a corrupt
// or truncated JPEG.
bool decodeJpegRegion(const std::uint8_t* data, std::size_t size, const std::string& name,
                      const ImageSource::BoxPicker& pick, int minSide, cv::Mat& rgb, cv::Rect& box);

} // namespace ijepa
