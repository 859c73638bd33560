#include "core/imageio/decode.h"

#include "core/data/augment.h"
#include "core/errors.h"
#include "core/imageio/jpeg_region.h"
#include "core/imageio/resample.h"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ijepa {
namespace {

std::uint32_t bigEndian32(const std::uint8_t* p) { return (std::uint32_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }
std::uint32_t littleEndian32(const std::uint8_t* p) { return (std::uint32_t(p[3]) << 24) | (p[2] << 16) | (p[1] << 8) | p[0]; }
std::uint32_t littleEndian24(const std::uint8_t* p) { return (std::uint32_t(p[2]) << 16) | (p[1] << 8) | p[0]; }

// The JPEG frame header (SOFn) after the markers before it.
ImageSize jpegSize(const std::uint8_t* d, std::size_t n)
{
    std::size_t i = 2;
    while (i + 9 < n) {
        if (d[i] != 0xFF) {
            ++i;
            continue;
        }
        const std::uint8_t marker = d[i + 1];
        if (marker == 0xFF || (marker >= 0xD0 && marker <= 0xD8) || marker == 0x01) {
            ++i;
            continue;
        }
        const std::size_t length = (std::size_t(d[i + 2]) << 8) | d[i + 3];
        const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof)
            return {(d[i + 7] << 8) | d[i + 8], (d[i + 5] << 8) | d[i + 6]};
        i += 2 + length;
    }
    return {};
}

ImageSize webpSize(const std::uint8_t* d, std::size_t n)
{
    if (n < 30)
        return {};
    if (!std::memcmp(d + 12, "VP8X", 4))
        return {static_cast<int>(littleEndian24(d + 24) + 1), static_cast<int>(littleEndian24(d + 27) + 1)};
    if (!std::memcmp(d + 12, "VP8L", 4)) {
        const std::uint32_t bits = littleEndian32(d + 21);
        return {static_cast<int>((bits & 0x3FFF) + 1), static_cast<int>(((bits >> 14) & 0x3FFF) + 1)};
    }
    if (!std::memcmp(d + 12, "VP8 ", 4))
        return {(d[26] | (d[27] << 8)) & 0x3FFF, (d[28] | (d[29] << 8)) & 0x3FFF};
    return {};
}

ImageSize headerSize(const std::uint8_t* d, std::size_t n)
{
    if (isJpeg(d, n))
        return jpegSize(d, n);
    if (n >= 24 && !std::memcmp(d, "\x89PNG\r\n\x1a\n", 8))
        return {static_cast<int>(std::min<std::uint32_t>(bigEndian32(d + 16), 1u << 30)),
                static_cast<int>(std::min<std::uint32_t>(bigEndian32(d + 20), 1u << 30))};
    if (n >= 26 && d[0] == 'B' && d[1] == 'M') {
        const auto h = static_cast<std::int32_t>(littleEndian32(d + 22));
        return {static_cast<int>(std::min<std::uint32_t>(littleEndian32(d + 18), 1u << 30)),
                h == INT32_MIN ? 1 << 30 : std::min(std::abs(h), 1 << 30)};
    }
    if (n >= 16 && !std::memcmp(d, "RIFF", 4) && !std::memcmp(d + 8, "WEBP", 4))
        return webpSize(d, n);
    return {};
}

// OpenCV's own pixel limit for the formats headerSize does not parse (TIFF), set before its first
// decode (it reads the variable once).
void limitOpenCv()
{
    static const bool once = [] {
        ::setenv("OPENCV_IO_MAX_IMAGE_PIXELS", std::to_string(kMaxImagePixels).c_str(), 0);
        cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
        return true;
    }();
    (void)once;
}

// What is refused before any decoding: a header over the pixel limit, a JPEG cut short.
void refuseBeforeDecoding(const std::uint8_t* data, std::size_t size, const std::string& name)
{
    probeImageSize(data, size, name);
    if (isJpeg(data, size) && !jpegHasEnd(data, size))
        throw DataError(name + ": truncated JPEG (no end-of-image marker: the file was cut short)");
}

// The whole image as an RGB cv::Mat (OpenCV decodes every format the folder reader lists); the
// caller has run refuseBeforeDecoding.
cv::Mat decodeMat(const std::uint8_t* data, std::size_t size, const std::string& name)
{
    limitOpenCv();
    cv::Mat bgr;
    try {
        const cv::Mat encoded(1, static_cast<int>(size), CV_8U, const_cast<std::uint8_t*>(data));
        bgr = cv::imdecode(encoded, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
    } catch (const cv::Exception& e) {
        throw DataError(name + ": cannot decode (" + e.msg + ")");
    }
    if (bgr.empty())
        throw DataError(name + ": not a readable image (corrupt, truncated, over " + std::to_string(kMaxImagePixels) +
                        " pixels, or not an image)");
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

} // namespace

std::vector<std::uint8_t> readFileBytes(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw DataError(path + (errno == ENOENT ? ": no such file" : ": cannot open (" + std::string(std::strerror(errno)) + ")"));
    struct stat st {};
    std::vector<std::uint8_t> bytes;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        bytes.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    for (;;) {
        if (got == bytes.size())
            bytes.resize(std::max<std::size_t>(4096, bytes.size() * 2));
        const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            throw DataError(path + ": cannot read (" + std::strerror(err) + ")");
        }
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    bytes.resize(got);
    return bytes;
}

ImageSize probeImageSize(const std::uint8_t* data, std::size_t size, const std::string& name)
{
    const ImageSize s = headerSize(data, size);
    if (static_cast<std::int64_t>(s.width) * s.height > kMaxImagePixels)
        throw DataError(name + ": " + std::to_string(s.width) + "x" + std::to_string(s.height) + " pixels, over the limit of " +
                        std::to_string(kMaxImagePixels) + " (a decompression bomb, as PIL refuses it); not decoded");
    return s;
}

torch::Tensor decodeImage(const std::uint8_t* data, std::size_t size, const std::string& name)
{
    refuseBeforeDecoding(data, size, name);
    const cv::Mat rgb = decodeMat(data, size, name);
    return torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8).clone();
}

void decodeView(const std::uint8_t* data, std::size_t size, const std::string& name, const ImageSource::BoxPicker& pick,
                torch::Tensor& out)
{
    refuseBeforeDecoding(data, size, name);
    cv::Mat pixels;
    cv::Rect roi;
    if (!isJpeg(data, size) || !decodeJpegRegion(data, size, name, pick, static_cast<int>(out.size(-1)), pixels, roi)) {
        pixels = decodeMat(data, size, name);
        const CropBox box = pick(pixels.rows, pixels.cols);
        roi = cv::Rect(box.left, box.top, box.width, box.height) & cv::Rect(0, 0, pixels.cols, pixels.rows);
        if (roi.empty())
            throw DataError(name + ": the crop box lies outside the " + std::to_string(pixels.cols) + "x" +
                            std::to_string(pixels.rows) + " image");
    }
    const cv::Mat region = pixels(roi);
    resampleNormalize(region.data, region.rows, region.cols, region.step, out);
}

void writeImageFile(const std::string& path, const cv::Mat& image, const std::string& what)
{
    bool ok = false;
    try {
        ok = !path.empty() && cv::haveImageWriter(path) && cv::imwrite(path, image);
    } catch (const cv::Exception& e) {
        throw DataError(path + ": cannot write " + what + " (" + e.msg + ")");
    }
    if (!ok)
        throw DataError((path.empty() ? std::string("''") : path) + ": cannot write " + what +
                        " (a missing folder, a folder of that name, no space, or a name without .png?)");
}

} // namespace ijepa
