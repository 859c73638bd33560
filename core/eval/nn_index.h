#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace ijepa {

// Exact cosine nearest neighbours over [N, D] rows (images, or patch tokens flattened to rows):
// rows are L2-normalised once; a query is a matrix product against row chunks with a running
// top-k, so memory stays bounded for any N.
class CosineIndex {
public:
    struct Hit {
        std::int64_t index = 0;
        float similarity = 0;
    };

    explicit CosineIndex(const torch::Tensor& rows, std::int64_t chunk = 65536);

    // The k rows most similar to `query` ([D]), best first; `exclude` (e.g. the query's own row)
    // is left out.
    std::vector<Hit> query(const torch::Tensor& query, int k, std::int64_t exclude = -1) const;
    // Neighbours of stored row i (itself excluded).
    std::vector<Hit> queryItem(std::int64_t i, int k) const { return query(m_rows[i], k, i); }
    // Cosine similarity of `query` to every row: [N] (for heat maps over patch tokens).
    torch::Tensor similarities(const torch::Tensor& query) const;

    std::int64_t size() const { return m_rows.size(0); }
    std::int64_t dim() const { return m_rows.size(1); }

private:
    torch::Tensor m_rows; // [N, D], unit rows, float32
    std::int64_t m_chunk;
};

} // namespace ijepa
