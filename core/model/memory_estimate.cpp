#include "core/model/memory_estimate.h"

#include "core/config.h"
#include "core/errors.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace ijepa {

double machineMemoryBytes()
{
    static const double bytes = [] {
        const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
        return pages > 0 && size > 0 ? static_cast<double>(pages) * static_cast<double>(size) : 0.0;
    }();
    return bytes;
}

void requireMemory(double bytes, const std::string& what, const std::string& advice)
{
    const double have = machineMemoryBytes();
    if (have <= 0 || bytes <= have)
        return;
    char amounts[128];
    std::snprintf(amounts, sizeof amounts, ": needs about %.0f GB, this machine has %.0f GB; ", bytes / 1e9, have / 1e9);
    throw ConfigError(what + amounts + advice);
}

double trainingBytes(const Config& c)
{
    const auto e = c.encoderSize();
    const double tokens = std::pow(static_cast<double>(c.gridSize()), 2.0);
    const double d = e.embed_dim, dp = c.meta.pred_emb_dim;
    const double params = 12.0 * d * d * e.depth + 12.0 * dp * dp * c.meta.pred_depth;
    const double activations = static_cast<double>(c.data.batch_size) * tokens *
                               (e.depth * (10.0 * d + 2.0 * e.num_heads * tokens) +
                                c.meta.pred_depth * (10.0 * dp + 2.0 * e.num_heads * tokens) * c.mask.num_pred_masks);
    return 4.0 * (5.0 * params + activations);
}

double inferenceBytes(std::int64_t tokens, int width, int depth, int heads, std::int64_t batch)
{
    const double t = static_cast<double>(tokens), d = width;
    const double params = 12.0 * d * d * depth + t * d; // blocks and the position embedding
    const double block = static_cast<double>(batch) * t * (10.0 * d + 2.0 * heads * t);
    return 4.0 * (params + block);
}

std::string shapeInWords(const Config& c)
{
    char text[200];
    std::snprintf(text, sizeof text, "data.crop_size %d / mask.patch_size %d (%.0f patches an image), data.batch_size %d, a %d-wide encoder",
                  c.data.crop_size, c.mask.patch_size, std::pow(static_cast<double>(c.gridSize()), 2.0), c.data.batch_size,
                  c.encoderSize().embed_dim);
    return text;
}

void requireModelFits(const Config& c)
{
    const auto e = c.encoderSize();
    const std::int64_t tokens = static_cast<std::int64_t>(c.gridSize()) * c.gridSize();
    // Two encoders (context and target) and the predictor's weights, one image through one of them.
    const double bytes = inferenceBytes(tokens, e.embed_dim, e.depth, e.num_heads, 1) * 2.0 +
                         inferenceBytes(tokens, c.meta.pred_emb_dim, c.meta.pred_depth, e.num_heads, 1);
    requireMemory(bytes, shapeInWords(c) + ": building the model",
                  "lower data.crop_size or raise mask.patch_size (or choose a smaller encoder)");
}

} // namespace ijepa
