#pragma once

#include <torch/types.h>

#include <string>

namespace ijepa {

// Writes a contiguous CPU tensor (float32, float64, int64, int32 or uint8) as a NumPy .npy file
// (format 1.0, little endian, C order), atomically. Throws Error naming the file.
void writeNpy(const torch::Tensor& tensor, const std::string& path);

// Reads a .npy file written by writeNpy or NumPy (the same dtypes, C order). Throws DataError
// naming the file for anything else.
torch::Tensor readNpy(const std::string& path);

} // namespace ijepa
