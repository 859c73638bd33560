#include "core/model/attention.h"

#include "core/compat.h"
#include "core/parallel.h"

#include <torch/torch.h>

#include <algorithm>

namespace ijepa {
namespace {

torch::Tensor explicitAttention(const torch::Tensor& qkv, int64_t numHeads, double scale, int64_t queryFrom)
{
    const auto B = qkv.size(0), N = qkv.size(1), C = qkv.size(2) / 3;
    auto parts = qkv.reshape({B, N, 3, numHeads, C / numHeads}).permute({2, 0, 3, 1, 4}).unbind(0);
    auto out = compat::attention(parts[0].slice(2, queryFrom), parts[1], parts[2], scale);
    return out.transpose(1, 2).reshape({B, N - queryFrom, C});
}

} // namespace

#if IJEPA_BLAS_ATTENTION

extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc);

namespace {

// Row-major C[m x n] = alpha * op(A) op(B) (beta 0) through column-major BLAS: C^T = op(B)^T op(A)^T.
void gemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
          int ldb, float* c, int ldc)
{
    const float beta = 0.0f;
    sgemm_(transB ? "T" : "N", transA ? "T" : "N", &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
}

// Runs body(slice, head) for every (image, head) pair, spread over the intra-op threads, each
// calling BLAS single-threaded.
template <typename Body>
void forEachHead(int64_t batch, int64_t heads, int64_t flopsPerSlice, const Body& body)
{
    const int64_t grain = std::max<int64_t>(1, 200000 / std::max<int64_t>(1, flopsPerSlice));
    parallelForOnOwnThreads(0, batch * heads, grain, [&](int64_t first, int64_t last) {
        for (int64_t i = first; i < last; ++i)
            body(i / heads, i % heads);
    });
}

// Batch, tokens, channels, heads, head size; the queries are tokens [F, N): Q = N - F of them.
struct Dims {
    int64_t B, N, C, H, D, F, Q;
};

Dims dimsOf(const torch::Tensor& qkv, int64_t numHeads, int64_t queryFrom)
{
    const auto N = qkv.size(1), C = qkv.size(2) / 3;
    return {qkv.size(0), N, C, numHeads, C / numHeads, queryFrom, N - queryFrom};
}

class BlasAttention : public torch::autograd::Function<BlasAttention> {
public:
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& qkvIn, int64_t numHeads,
                                 double scale, int64_t queryFrom)
    {
        const auto qkv = qkvIn.contiguous();
        const auto [B, N, C, H, D, F, Q] = dimsOf(qkv, numHeads, queryFrom);
        const int n = static_cast<int>(N), q = static_cast<int>(Q), d = static_cast<int>(D), ld = static_cast<int>(3 * C);
        const float* base = qkv.data_ptr<float>();
        auto scores = torch::empty({B, H, Q, N}, qkv.options());
        float* s = scores.data_ptr<float>();
        forEachHead(B, H, Q * N * D, [&](int64_t b, int64_t h) {
            const float* row = base + b * N * 3 * C + h * D; // image b, head h, token 0: its query
            gemm(false, true, q, n, d, static_cast<float>(scale), row + F * 3 * C, ld, row + C, ld, s + (b * H + h) * Q * N, n);
        });
        auto probs = at::_softmax(scores, -1, false);
        scores.reset();
        auto out = torch::empty({B, Q, C}, qkv.options());
        const float* p = probs.data_ptr<float>();
        float* o = out.data_ptr<float>();
        forEachHead(B, H, Q * N * D, [&](int64_t b, int64_t h) {
            const float* v = base + b * N * 3 * C + 2 * C + h * D;
            gemm(false, false, q, d, n, 1.0f, p + (b * H + h) * Q * N, n, v, ld, o + b * Q * C + h * D,
                 static_cast<int>(C));
        });
        ctx->save_for_backward({qkv, probs});
        ctx->saved_data["heads"] = numHeads;
        ctx->saved_data["scale"] = scale;
        ctx->saved_data["queryFrom"] = queryFrom;
        return out;
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto& qkv = saved[0];
        const auto& probs = saved[1];
        const auto scale = static_cast<float>(ctx->saved_data["scale"].toDouble());
        const auto [B, N, C, H, D, F, Q] =
            dimsOf(qkv, ctx->saved_data["heads"].toInt(), ctx->saved_data["queryFrom"].toInt());
        const int n = static_cast<int>(N), q = static_cast<int>(Q), d = static_cast<int>(D), ld = static_cast<int>(3 * C),
                  ldo = static_cast<int>(C);
        const auto gradOut = grads[0].contiguous();
        auto gradQkv = torch::empty_like(qkv);
        if (F > 0) // tokens that asked nothing: no gradient for their queries
            gradQkv.slice(1, 0, F).slice(2, 0, C).zero_();
        auto gradProbs = torch::empty_like(probs);
        const float* base = qkv.data_ptr<float>();
        const float* p = probs.data_ptr<float>();
        const float* go = gradOut.data_ptr<float>();
        float* gq = gradQkv.data_ptr<float>();
        float* gp = gradProbs.data_ptr<float>();
        // Where image b's token 0 has head h's query (its key at +C, its value at +2C).
        const auto rows = [&](int64_t b, int64_t h) { return b * N * 3 * C + h * D; };
        forEachHead(B, H, 2 * Q * N * D, [&](int64_t b, int64_t h) {
            const int64_t row = rows(b, h), slice = (b * H + h) * Q * N;
            const float* dO = go + b * Q * C + h * D;
            gemm(true, false, n, d, q, 1.0f, p + slice, n, dO, ldo, gq + row + 2 * C, ld); // dV = P^T dO
            gemm(false, true, q, n, d, 1.0f, dO, ldo, base + row + 2 * C, ld, gp + slice, n); // dP = dO V^T
        });
        const auto gradScores = at::_softmax_backward_data(gradProbs, probs, -1, probs.scalar_type());
        gradProbs.reset();
        const float* gs = gradScores.data_ptr<float>();
        forEachHead(B, H, 2 * Q * N * D, [&](int64_t b, int64_t h) {
            const int64_t row = rows(b, h), first = row + F * 3 * C, slice = (b * H + h) * Q * N;
            gemm(false, false, q, d, n, scale, gs + slice, n, base + row + C, ld, gq + first, ld); // dQ = s dS K
            gemm(true, false, n, d, q, scale, gs + slice, n, base + first, ld, gq + row + C, ld); // dK = s dS^T Q
        });
        return {gradQkv, torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

} // namespace

bool blasAttentionAvailable() { return true; }

torch::Tensor selfAttention(const torch::Tensor& qkv, int64_t numHeads, double scale, int64_t queryFrom)
{
    if (qkv.device().is_cpu() && qkv.scalar_type() == torch::kFloat && qkv.dim() == 3)
        return BlasAttention::apply(qkv, numHeads, scale, queryFrom);
    return explicitAttention(qkv, numHeads, scale, queryFrom);
}

#else

bool blasAttentionAvailable() { return false; }

torch::Tensor selfAttention(const torch::Tensor& qkv, int64_t numHeads, double scale, int64_t queryFrom)
{
    return explicitAttention(qkv, numHeads, scale, queryFrom);
}

#endif

} // namespace ijepa
