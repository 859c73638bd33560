// Feeds arbitrary bytes to the tar shard reader as one shard: indexing must give samples or throw
// ijepa::Error naming the shard, and every sample must decode or throw an error naming the shard,
// never crash, hang or read past the file.
#include "core/errors.h"
#include "core/imageio/tar_shards.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const std::string path = "/tmp/ijepa-fuzz-tar-" + std::to_string(::getpid()) + ".tar";
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    try {
        const auto source = ijepa::openTarShards(path);
        for (std::int64_t i = 0; i < source->size() && i < 8; ++i) {
            try {
                auto view = torch::empty({3, 8, 8});
                source->view(i, [](int h, int w) { return ijepa::CropBox{0, 0, h, w}; }, view);
            } catch (const ijepa::Error& e) {
                if (std::string(e.what()).find(path) == std::string::npos)
                    __builtin_trap();
            }
        }
    } catch (const ijepa::Error& e) {
        if (std::string(e.what()).find(path) == std::string::npos)
            __builtin_trap(); // every error names the shard
    }
    return 0;
}
