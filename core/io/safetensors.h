#pragma once

// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the raw row-major
// data. No code runs on reading, unlike a pickle.

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ijepa {

struct SafeTensors {
    std::vector<std::pair<std::string, torch::Tensor>> tensors; // in file order
    std::map<std::string, std::string> metadata;
    // The tensor called `name`, or an undefined tensor.
    torch::Tensor find(const std::string& name) const;
};

// Writes the tensors (CPU; f64, f32, f16, bf16, i64, i32, i16, i8, u8 or bool) in the given order,
// the header padded to 8 bytes, atomically: a temp file, fsync, rename. Throws CheckpointError
// naming the file.
void writeSafetensors(const std::string& path, const SafeTensors& file);

// Reads and checks a file: the header's length within the file, JSON, no duplicate names, known
// dtypes, shapes that match their bytes, offsets that cover the data exactly (no overlap, no gap,
// nothing past the end). Throws CheckpointError naming the file and what is wrong; allocates only
// what the file's own size justifies.
SafeTensors readSafetensors(const std::string& path);
SafeTensors parseSafetensors(const std::uint8_t* data, std::size_t size, const std::string& name);

} // namespace ijepa
