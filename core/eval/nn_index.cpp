#include "core/eval/nn_index.h"

#include "core/errors.h"

#include <torch/torch.h>

namespace ijepa {

namespace F = torch::nn::functional;

CosineIndex::CosineIndex(const torch::Tensor& rows, std::int64_t chunk) : m_chunk(chunk)
{
    if (rows.dim() != 2 || rows.size(0) == 0)
        throw Error("index: expected a non-empty [N, D] matrix");
    m_rows = F::normalize(rows.to(torch::kFloat32), F::NormalizeFuncOptions().dim(1)).contiguous();
}

torch::Tensor CosineIndex::similarities(const torch::Tensor& query) const
{
    torch::NoGradGuard noGrad;
    const auto q = F::normalize(query.to(torch::kFloat32).reshape({1, -1}), F::NormalizeFuncOptions().dim(1));
    if (q.size(1) != dim())
        throw Error("index: query has " + std::to_string(q.size(1)) + " dimensions, the index " + std::to_string(dim()));
    return torch::mv(m_rows, q[0]);
}

std::vector<CosineIndex::Hit> CosineIndex::query(const torch::Tensor& query, int k, std::int64_t exclude) const
{
    torch::NoGradGuard noGrad;
    const auto q = F::normalize(query.to(torch::kFloat32).reshape({1, -1}), F::NormalizeFuncOptions().dim(1))[0];
    if (q.size(0) != dim())
        throw Error("index: query has " + std::to_string(q.size(0)) + " dimensions, the index " + std::to_string(dim()));
    const int64_t want = std::min<int64_t>(k + (exclude >= 0 ? 1 : 0), size());
    torch::Tensor bestSim, bestIdx;
    for (int64_t start = 0; start < size(); start += m_chunk) {
        const auto sims = torch::mv(m_rows.slice(0, start, start + m_chunk), q);
        auto [s, i] = sims.topk(std::min<int64_t>(want, sims.size(0)));
        i.add_(start);
        if (bestSim.defined()) {
            s = torch::cat({bestSim, s});
            i = torch::cat({bestIdx, i});
            auto [s2, order] = s.topk(std::min<int64_t>(want, s.size(0)));
            bestSim = s2;
            bestIdx = i.index({order});
        } else {
            bestSim = s;
            bestIdx = i;
        }
    }
    std::vector<Hit> hits;
    const auto* sp = bestSim.data_ptr<float>();
    const auto* ip = bestIdx.data_ptr<int64_t>();
    for (int64_t j = 0; j < bestSim.size(0) && static_cast<int>(hits.size()) < k; ++j)
        if (ip[j] != exclude)
            hits.push_back({ip[j], sp[j]});
    return hits;
}

} // namespace ijepa
