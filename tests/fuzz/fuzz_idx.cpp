// Feeds arbitrary bytes to the Fashion-MNIST reader (gzip-compressed IDX images and labels, or the
// same uncompressed: zlib reads both): it must open the pair and decode every image, or throw
// ijepa::Error, never crash, hang or over-allocate. The input is split in two at the position its
// first two bytes give: the images file, then the labels file.
#include "core/data/image_source.h"
#include "core/errors.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

void writeFile(const std::string& path, const uint8_t* data, size_t size)
{
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const std::string dir = "/tmp/ijepa-fuzz-idx-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    if (size < 2)
        return 0;
    const size_t cut = std::min<size_t>((size_t(data[0]) << 8 | data[1]), size - 2);
    writeFile(dir + "/train-images-idx3-ubyte.gz", data + 2, cut);
    writeFile(dir + "/train-labels-idx1-ubyte.gz", data + 2 + cut, size - 2 - cut);
    try {
        const auto source = ijepa::openFashionMnist("train", dir);
        for (std::int64_t i = 0; i < source->size(); ++i) {
            const auto image = source->image(i);
            if (image.dim() != 3 || image.size(2) != 3 || source->label(i) < 0)
                __builtin_trap();
        }
        (void)source->description();
    } catch (const ijepa::Error&) {
    }
    return 0;
}
