#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace ijepa {

// Frozen-feature evaluation: k-NN and linear probe on [N, D] features with [N] int64 labels.

struct KnnOptions {
    int k = 20;                 // neighbours that vote
    double temperature = 0.07;  // votes weigh exp(cosine / temperature), as DINO's eval_knn
    std::int64_t chunk = 1024;  // test rows per similarity block (bounds memory)
};

// Top-1 accuracy (0..1) of cosine k-NN: each test feature's k most similar training features vote
// for their class with weight exp(sim / T) (DINO's protocol).
double knnAccuracy(const torch::Tensor& trainFeatures, const torch::Tensor& trainLabels,
                   const torch::Tensor& testFeatures, const torch::Tensor& testLabels, const KnnOptions& options = {});

struct LinearProbeOptions {
    std::vector<double> weightDecays{0.0, 1e-4, 1e-3, 1e-2}; // swept on a held-out part of train
    double heldOut = 0.1;                                    // fraction of train held out for the sweep
    int epochs = 100;                                        // full-batch L-BFGS iterations
    std::uint64_t seed = 0;
};

struct LinearProbeResult {
    double accuracy = 0;               // top-1 on the test split, trained on all of train
    double bestWeightDecay = 0;
    std::vector<double> heldOutAccuracy; // per swept weight decay
};

// A softmax classifier on standardised features (mean/std of train), cross-entropy + L2, trained
// with full-batch L-BFGS; the weight decay is chosen on a held-out part of train.
LinearProbeResult linearProbe(const torch::Tensor& trainFeatures, const torch::Tensor& trainLabels,
                              const torch::Tensor& testFeatures, const torch::Tensor& testLabels,
                              const LinearProbeOptions& options = {});

// RankMe (Garrido et al. 2023): exp of the entropy of the normalised singular values of the
// [N, D] embedding matrix; between 1 (collapsed) and min(N, D) (full rank, flat spectrum).
double rankMe(const torch::Tensor& features);
// The same from singular values already computed (float64, any order).
double rankMeFromSingularValues(const torch::Tensor& singularValues);
// Singular values of the [N, D] feature matrix, float64, descending.
torch::Tensor singularValues(const torch::Tensor& features);

// Mean over dimensions of the standard deviation of L2-normalised features: 0 when collapsed,
// about 1/sqrt(D) for well-spread features.
double normalisedFeatureStd(const torch::Tensor& features);

} // namespace ijepa
