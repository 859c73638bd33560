// Feeds arbitrary bytes to the checkpoint unpickler: it must either return a value or throw
// CheckpointError, never crash, hang or leak. Storages are zero tensors capped at 1M elements.
#include "core/errors.h"
#include "core/io/pickle.h"

#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto load = [](const std::string&, at::ScalarType dtype, int64_t numel) {
        if (numel > (1 << 20))
            throw ijepa::CheckpointError("storage too large for the fuzzer");
        return at::zeros({numel}, at::TensorOptions().dtype(dtype));
    };
    try {
        ijepa::pickle::unpickle(reinterpret_cast<const char*>(data), size, load);
    } catch (const ijepa::CheckpointError&) {
    }
    return 0;
}
