// Feeds arbitrary bytes to the .npy reader (the embeddings ijepa embed writes and NumPy reads):
// it must return a tensor or throw ijepa::Error, never crash, hang or over-allocate.
#include "core/errors.h"
#include "core/io/npy.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const std::string path = "/tmp/ijepa-fuzz-npy-" + std::to_string(::getpid()) + ".npy";
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                  static_cast<std::streamsize>(size));
    try {
        ijepa::readNpy(path);
    } catch (const ijepa::Error&) {
    }
    return 0;
}
