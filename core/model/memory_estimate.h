#pragma once

#include <cstdint>
#include <string>

namespace ijepa {

struct Config;

// Memory estimates for the work a config asks for, and the check that refuses, before anything is
// allocated, work this machine cannot hold: a message naming the keys instead of "can't allocate"
// (exit 3) or the kernel's OOM killer. Upper bounds, on the side of refusing only the impossible.

// This machine's physical memory in bytes (0 when unknown: then nothing is refused).
double machineMemoryBytes();

// Throws ConfigError "<what>: needs about N GB, this machine has M GB; <advice>" when bytes is more
// than the machine has.
void requireMemory(double bytes, const std::string& what, const std::string& advice);

// Training on the CPU: weights, the target copy, gradients, two AdamW moments, and the context
// encoder's and predictor's activations over the whole grid.
double trainingBytes(const Config& c);

// A forward pass without gradients over `batch` images of `tokens` patches: the weights, one
// block's activations (about 10 widths and the attention maps a token) and the outputs.
double inferenceBytes(std::int64_t tokens, int width, int depth, int heads, std::int64_t batch);

// The config's shape in words for a message: "data.crop_size 224 / mask.patch_size 16 (196 patches
// an image), data.batch_size 128, a 768-wide encoder".
std::string shapeInWords(const Config& c);

// Refuses building the config's model (weights and a one-image forward pass) when it cannot fit.
void requireModelFits(const Config& c);

} // namespace ijepa
