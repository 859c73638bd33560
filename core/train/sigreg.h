#pragma once

// LeJEPA's SIGReg (Balestriero and LeCun, arXiv 2511.08544): how far the embeddings are from an
// isotropic standard normal, as the Epps-Pulley distance between the empirical characteristic
// function of random 1-D projections and that of N(0, 1), averaged over the projections.
//
//   T(a) = n * integral over [-tMax, tMax] of |ecf_a(t) - exp(-t^2/2)|^2 exp(-t^2/2) dt
//
// with ecf_a(t) = mean_i exp(i t <x_i, a>), integrated by the trapezoid rule on `knots` knots of
// [0, tMax] with doubled weights (the integrand is even), n the number of samples. For samples
// of N(0, I) its expectation is about 1.05 whatever n (tMax 3); it grows with n for features that
// are not normal in some direction (constant, rank-deficient, badly scaled).

#include <torch/types.h>

#include <cstdint>

namespace ijepa {

struct LossConfig;

// The quadrature: knots t on [0, tMax], the target N(0, 1) characteristic function phi(t), and
// the trapezoid weights (doubled, for both halves) times the Gaussian window phi(t).
struct EppsPulley {
    explicit EppsPulley(int knots = 17, double tMax = 3.0);
    torch::Tensor t, phi, weights; // [knots], float32
};

// `slices` random unit directions [dim, slices] (float32, columns of norm 1) from a generator
// seeded by (seed, iteration): the same on every rank, and again after a resume.
torch::Tensor sigregProjections(std::int64_t dim, std::int64_t slices, std::int64_t seed, std::int64_t iteration,
                                torch::Device device = torch::kCPU);

// Sums over the samples x [n, dim] of cos(t <x, a>) and sin(t <x, a>): [2, slices, knots], in
// float64 (whatever the input's type, autocast included) and differentiable. Sums (not means) so
// that the slices of a split batch and the ranks of a data-parallel job add theirs before the
// distance is taken.
torch::Tensor ecfSums(const torch::Tensor& x, const torch::Tensor& projections, const EppsPulley& q);

// The statistic from the ECF sums of `n` samples in all: n * mean over slices of
// sum_k w_k ((C_k / n - phi_k)^2 + (S_k / n)^2). A scalar, differentiable in `sums`.
torch::Tensor eppsPulleyStatistic(const torch::Tensor& sums, double n, const EppsPulley& q);

// Both in one: the statistic of x [n, dim] along `projections`.
torch::Tensor sigreg(const torch::Tensor& x, const torch::Tensor& projections, const EppsPulley& q);

// The features SIGReg regularises, from the context encoder's output tokens [R, K, D]: their mean
// over the tokens [R, D] (loss.sigreg_on = context_pooled, and projector: the head runs on these) or
// every token [R * K, D] (context_tokens).
torch::Tensor sigregFeatures(const torch::Tensor& contextTokens, const LossConfig& loss);

// The label-free health signal: the statistic of pooled features [n, dim] along fixed directions
// (seed 0, the same at every diagnostic step and in every run), 256 slices, 17 knots.
double sigregSignal(const torch::Tensor& features);

} // namespace ijepa
