#include "core/imageio/jpeg_region.h"

#include "core/errors.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio> // jpeglib.h needs FILE
#include <cstring>

#include <jerror.h>
#include <jpeglib.h>

namespace ijepa {
namespace {

// libjpeg reports errors through a callback that must not return: it jumps back to decodeRows.
struct ErrorManager {
    jpeg_error_mgr pub{};
    std::jmp_buf jump{};
    bool truncated = false;
    char message[JMSG_LENGTH_MAX] = {};
};

void onError(j_common_ptr cinfo)
{
    auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, e->message);
    std::longjmp(e->jump, 1);
}

void onMessage(j_common_ptr cinfo, int level)
{
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF)
        reinterpret_cast<ErrorManager*>(cinfo->err)->truncated = true;
}

// Everything decodeRows touches after its setjmp lives here, behind a reference, so nothing it
// reads after a longjmp was held in a register.
struct Job {
    const std::uint8_t* data;
    std::size_t size;
    const ImageSource::BoxPicker* pick;
    int minSide;
    jpeg_decompress_struct cinfo{};
    ErrorManager error;
    cv::Mat rgb;
    cv::Rect box;
    bool unsupported = false;
};

// The smallest M in {1, 2, 4, 8} with the box at least minSide pixels at scale M/8.
unsigned scaleNumerator(const CropBox& box, int minSide)
{
    unsigned num = 8;
    while (num > 1 && std::min(box.width, box.height) * (num / 2) >= 8 * minSide)
        num /= 2;
    return num;
}

// Returns 0, or 1 after a libjpeg error (job.error.message says which). No C++ object is created
// between the setjmp and a call that may jump back to it.
int decodeRows(Job& job)
{
    jpeg_decompress_struct& cinfo = job.cinfo;
    if (setjmp(job.error.jump))
        return 1;
    jpeg_mem_src(&cinfo, job.data, static_cast<unsigned long>(job.size));
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space != JCS_YCbCr && cinfo.jpeg_color_space != JCS_GRAYSCALE &&
        cinfo.jpeg_color_space != JCS_RGB) {
        job.unsupported = true;
        return 0;
    }
    const CropBox box = (*job.pick)(static_cast<int>(cinfo.image_height), static_cast<int>(cinfo.image_width));
    const unsigned num = scaleNumerator(box, job.minSide);
    cinfo.scale_num = num;
    cinfo.scale_denom = 8;
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    // The box at the decoding scale, widened to whole pixels (by under one output pixel).
    const double s = num / 8.0;
    const auto outW = static_cast<int>(cinfo.output_width), outH = static_cast<int>(cinfo.output_height);
    const int x0 = std::clamp(static_cast<int>(std::floor(box.left * s)), 0, outW - 1);
    const int y0 = std::clamp(static_cast<int>(std::floor(box.top * s)), 0, outH - 1);
    const int x1 = std::clamp(static_cast<int>(std::ceil((box.left + box.width) * s)), x0 + 1, outW);
    const int y1 = std::clamp(static_cast<int>(std::ceil((box.top + box.height) * s)), y0 + 1, outH);
    JDIMENSION xoff = static_cast<JDIMENSION>(x0), width = static_cast<JDIMENSION>(x1 - x0);
    if (width < cinfo.output_width)
        jpeg_crop_scanline(&cinfo, &xoff, &width); // widens to whole iMCU columns
    if (y0 > 0)
        jpeg_skip_scanlines(&cinfo, static_cast<JDIMENSION>(y0));
    job.rgb.create(y1 - y0, static_cast<int>(width), CV_8UC3);
    while (cinfo.output_scanline < static_cast<JDIMENSION>(y1)) {
        JSAMPROW row = job.rgb.ptr<JSAMPLE>(static_cast<int>(cinfo.output_scanline) - y0);
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    job.box = cv::Rect(x0 - static_cast<int>(xoff), 0, x1 - x0, y1 - y0);
    return 0;
}

} // namespace

bool isJpeg(const std::uint8_t* data, std::size_t size) { return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF; }

bool jpegHasEnd(const std::uint8_t* data, std::size_t size)
{
    // Entropy-coded data never holds 0xFF 0xD9 (0xFF is stuffed), so the pair in the tail is the
    // end marker, followed by at most some trailing bytes.
    const std::size_t from = size > (64u << 10) ? size - (64u << 10) : 0;
    for (std::size_t i = size; i-- > from + 1;)
        if (data[i] == 0xD9 && data[i - 1] == 0xFF)
            return true;
    return false;
}

bool decodeJpegRegion(const std::uint8_t* data, std::size_t size, const std::string& name,
                      const ImageSource::BoxPicker& pick, int minSide, cv::Mat& rgb, cv::Rect& box)
{
    Job job{data, size, &pick, minSide};
    job.cinfo.err = jpeg_std_error(&job.error.pub);
    job.error.pub.error_exit = onError;
    job.error.pub.emit_message = onMessage;
    jpeg_create_decompress(&job.cinfo);
    const int failed = decodeRows(job);
    jpeg_destroy_decompress(&job.cinfo);
    if (failed)
        throw DataError(name + ": not a readable JPEG (" + job.error.message + ")");
    if (job.error.truncated)
        throw DataError(name + ": truncated JPEG (the data ends before the image does)");
    if (job.unsupported)
        return false;
    rgb = job.rgb;
    box = job.box;
    return true;
}

} // namespace ijepa
