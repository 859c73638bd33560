// Feeds arbitrary bytes to the image-folder decoding paths (OpenCV through ImageFolder::image, and
// the loaders' view: libjpeg-turbo's region decoder or OpenCV) as a file of each accepted type,
// chosen by the first byte: each must return an image ([H, W, 3] uint8; a finite [3, 16, 16] view)
// or throw ijepa::Error naming the file, never crash or hang.
#include "core/errors.h"
#include "core/imageio/image_folder.h"

#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const std::string dir = "/tmp/ijepa-fuzz-image-" + std::to_string(::getpid());
    if (size < 1)
        return 0;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string path = dir + "/input" + ijepa::kImageExtensions[data[0] % std::size(ijepa::kImageExtensions)];
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
    try {
        const auto source = ijepa::openImageFolder(dir);
        const auto image = source->image(0);
        if (image.dim() != 3 || image.size(2) != 3 || image.scalar_type() != torch::kUInt8 || source->name(0) != path)
            __builtin_trap();
    } catch (const ijepa::Error& e) {
        if (std::string(e.what()).find(path) == std::string::npos)
            __builtin_trap(); // every decoding error names the file
    }
    try {
        auto view = torch::full({3, 16, 16}, std::nanf(""));
        ijepa::openImageFolder(dir)->view(
            0, [](int h, int w) { return ijepa::CropBox{h / 4, w / 3, std::max(1, h / 2), std::max(1, w / 2)}; }, view);
        if (!torch::isfinite(view).all().item<bool>())
            __builtin_trap();
    } catch (const ijepa::Error& e) {
        if (std::string(e.what()).find(path) == std::string::npos)
            __builtin_trap(); // every decoding error names the file
    }
    return 0;
}
