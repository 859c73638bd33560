#include "core/train/sigreg.h"

#include "core/config.h"

#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/torch.h>

namespace ijepa {

EppsPulley::EppsPulley(int knots, double tMax)
{
    TORCH_CHECK(knots >= 2 && tMax > 0, "SIGReg needs at least 2 knots and tMax > 0");
    t = torch::linspace(0.0, tMax, knots, torch::kFloat32);
    phi = torch::exp(-0.5 * t * t);
    const double dt = tMax / (knots - 1);
    auto w = torch::full({knots}, 2.0 * dt, torch::kFloat32);
    w[0] = dt;
    w[knots - 1] = dt;
    weights = w * phi;
}

torch::Tensor sigregProjections(std::int64_t dim, std::int64_t slices, std::int64_t seed, std::int64_t iteration,
                                torch::Device device)
{
    auto generator = at::make_generator<at::CPUGeneratorImpl>(
        static_cast<std::uint64_t>(seed) * 1000003ULL + static_cast<std::uint64_t>(iteration) + 1);
    auto a = at::normal(0.0, 1.0, {dim, slices}, generator, torch::TensorOptions().dtype(torch::kFloat32));
    a = a / a.norm(2, {0}, /*keepdim=*/true);
    return a.to(device);
}

torch::Tensor ecfSums(const torch::Tensor& x, const torch::Tensor& projections, const EppsPulley& q)
{
    // In float64, also inside an autocast region: the statistic is a small difference of means
    // (float32 sums of the slices or ranks in another order moved the weights by 1e-5 after three
    // steps; float64, by 2e-6). The tensors are [n, slices, knots], cheap beside the encoders.
    const c10::impl::ExcludeDispatchKeyGuard noAutocast(c10::autocast_dispatch_keyset);
    const auto dtype = torch::kFloat64;
    const auto t = q.t.to(x.device(), dtype);
    const auto xt = torch::matmul(x.to(dtype), projections.to(dtype)).unsqueeze(-1) * t; // [n, slices, knots]
    return torch::stack({xt.cos().sum(0), xt.sin().sum(0)});
}

torch::Tensor eppsPulleyStatistic(const torch::Tensor& sums, double n, const EppsPulley& q)
{
    const auto phi = q.phi.to(sums.device(), sums.scalar_type()), w = q.weights.to(sums.device(), sums.scalar_type());
    const auto err = (sums[0] / n - phi).square() + (sums[1] / n).square(); // [slices, knots]
    return torch::matmul(err, w).mean() * n;
}

torch::Tensor sigreg(const torch::Tensor& x, const torch::Tensor& projections, const EppsPulley& q)
{
    return eppsPulleyStatistic(ecfSums(x, projections, q), static_cast<double>(x.size(0)), q);
}

torch::Tensor sigregFeatures(const torch::Tensor& contextTokens, const LossConfig& loss)
{
    if (loss.sigreg_on == "context_tokens")
        return contextTokens.reshape({-1, contextTokens.size(-1)});
    return contextTokens.mean(1);
}

double sigregSignal(const torch::Tensor& features)
{
    torch::NoGradGuard noGrad;
    static const EppsPulley q(17, 3.0);
    const auto x = features.to(torch::kCPU); // ecfSums computes in float64
    return sigreg(x, sigregProjections(x.size(1), 256, 0, 0), q).item<double>();
}

} // namespace ijepa
