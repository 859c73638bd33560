#pragma once

#include <ATen/core/ivalue.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ijepa::pickle {

// Returns the flat storage named by a persistent id: `numel` elements of `dtype`. Throws if the
// archive has no such record or its size does not match.
using StorageLoader = std::function<at::Tensor(const std::string& key, at::ScalarType dtype, int64_t numel)>;

// A restricted unpickler for what torch.save writes for state dicts and optimiser states: dicts
// (and collections.OrderedDict), lists, tuples, str, int, float, bool, None, and tensors rebuilt by
// torch._utils._rebuild_tensor_v2 / _rebuild_parameter from typed storages. Any other global, any
// opcode outside that subset, cycles, nesting deeper than 100 or out-of-range views throw
// CheckpointError: reading an untrusted file never executes code.
c10::IValue unpickle(const char* data, size_t size, const StorageLoader& loadStorage);

// The inverse for the same subset (protocol 2, as torch.save): returns the pickle bytes and
// appends each tensor's storage (contiguous, CPU) under its key "0", "1", ...
std::string picklePayload(const c10::IValue& value, std::vector<std::pair<std::string, at::Tensor>>& storages);

} // namespace ijepa::pickle
