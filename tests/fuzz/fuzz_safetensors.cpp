// Feeds arbitrary bytes to the safetensors reader: it must return tensors that fit the file or
// throw ijepa::CheckpointError naming it, never crash, hang or allocate more than the file justifies.
#include "core/errors.h"
#include "core/io/safetensors.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    try {
        const auto file = ijepa::parseSafetensors(data, size, "fuzz.safetensors");
        std::size_t bytes = 0;
        for (const auto& [name, t] : file.tensors)
            bytes += t.nbytes();
        if (bytes > size)
            __builtin_trap(); // more tensor bytes than the file holds
    } catch (const ijepa::CheckpointError& e) {
        if (std::string(e.what()).find("fuzz.safetensors") == std::string::npos)
            __builtin_trap();
    }
    return 0;
}
