#include "core/eval/evaluation.h"

#include "core/errors.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>

namespace ijepa {
namespace {

void checkPair(const torch::Tensor& f, const torch::Tensor& l, const char* what)
{
    if (f.dim() != 2 || l.dim() != 1 || f.size(0) != l.size(0) || f.size(0) == 0)
        throw Error(std::string(what) + ": expected [N, D] features and [N] labels with N > 0");
}

double accuracy(const torch::Tensor& logits, const torch::Tensor& labels)
{
    return logits.argmax(1).eq(labels).to(torch::kDouble).mean().item<double>();
}

// Trains a softmax classifier (weights [D, C], bias [C]) with L-BFGS; returns its test logits.
torch::Tensor fitSoftmax(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& test, int64_t classes,
                         double weightDecay, int iterations)
{
    auto w = torch::zeros({x.size(1), classes}, x.options()).requires_grad_(true);
    auto b = torch::zeros({classes}, x.options()).requires_grad_(true);
    torch::optim::LBFGS opt({w, b}, torch::optim::LBFGSOptions(1.0).max_iter(iterations).history_size(20)
                                        .line_search_fn("strong_wolfe").tolerance_grad(1e-9).tolerance_change(1e-12));
    opt.step([&] {
        opt.zero_grad();
        auto loss = torch::nn::functional::cross_entropy(torch::addmm(b, x, w), y) + 0.5 * weightDecay * w.pow(2).sum();
        loss.backward();
        return loss;
    });
    torch::NoGradGuard noGrad;
    return torch::addmm(b, test, w);
}

} // namespace

double knnAccuracy(const torch::Tensor& trainFeatures, const torch::Tensor& trainLabels,
                   const torch::Tensor& testFeatures, const torch::Tensor& testLabels, const KnnOptions& o)
{
    torch::NoGradGuard noGrad;
    checkPair(trainFeatures, trainLabels, "k-NN train");
    checkPair(testFeatures, testLabels, "k-NN test");
    const int64_t k = std::min<int64_t>(o.k, trainFeatures.size(0));
    const int64_t classes = std::max(trainLabels.max().item<int64_t>(), testLabels.max().item<int64_t>()) + 1;
    const auto train = torch::nn::functional::normalize(trainFeatures.to(torch::kFloat32),
                                                        torch::nn::functional::NormalizeFuncOptions().dim(1));
    const auto test = torch::nn::functional::normalize(testFeatures.to(torch::kFloat32),
                                                       torch::nn::functional::NormalizeFuncOptions().dim(1));
    int64_t correct = 0;
    for (int64_t start = 0; start < test.size(0); start += o.chunk) {
        const auto q = test.slice(0, start, start + o.chunk);
        const auto [sim, idx] = torch::matmul(q, train.t()).topk(k, 1);
        const auto votes = torch::zeros({q.size(0), classes});
        votes.scatter_add_(1, trainLabels.index({idx}), sim.div(o.temperature).exp());
        correct += votes.argmax(1).eq(testLabels.slice(0, start, start + o.chunk)).sum().item<int64_t>();
    }
    return static_cast<double>(correct) / static_cast<double>(test.size(0));
}

LinearProbeResult linearProbe(const torch::Tensor& trainFeatures, const torch::Tensor& trainLabels,
                              const torch::Tensor& testFeatures, const torch::Tensor& testLabels,
                              const LinearProbeOptions& o)
{
    checkPair(trainFeatures, trainLabels, "linear probe train");
    checkPair(testFeatures, testLabels, "linear probe test");
    const int64_t classes = std::max(trainLabels.max().item<int64_t>(), testLabels.max().item<int64_t>()) + 1;
    const auto x = trainFeatures.to(torch::kFloat32);
    const auto mean = x.mean(0), stdev = x.std(0).clamp_min(1e-6);
    const auto standard = [&](const torch::Tensor& f) { return (f.to(torch::kFloat32) - mean) / stdev; };
    const auto xs = standard(x), ts = standard(testFeatures);

    const auto gen = at::detail::createCPUGenerator(o.seed);
    const auto perm = torch::randperm(xs.size(0), gen, torch::kInt64);
    const int64_t held = std::max<int64_t>(1, static_cast<int64_t>(o.heldOut * static_cast<double>(xs.size(0))));
    const auto heldIdx = perm.slice(0, 0, held), fitIdx = perm.slice(0, held);

    LinearProbeResult r;
    double best = -1;
    for (const double wd : o.weightDecays) {
        const auto logits = fitSoftmax(xs.index({fitIdx}), trainLabels.index({fitIdx}), xs.index({heldIdx}), classes,
                                       wd, o.epochs);
        const double acc = accuracy(logits, trainLabels.index({heldIdx}));
        r.heldOutAccuracy.push_back(acc);
        if (acc > best) {
            best = acc;
            r.bestWeightDecay = wd;
        }
    }
    r.accuracy = accuracy(fitSoftmax(xs, trainLabels, ts, classes, r.bestWeightDecay, o.epochs), testLabels);
    return r;
}

torch::Tensor singularValues(const torch::Tensor& features)
{
    torch::NoGradGuard noGrad;
    return at::linalg_svdvals(features.to(torch::kFloat64));
}

double rankMeFromSingularValues(const torch::Tensor& s)
{
    const auto p = s / s.sum() + std::numeric_limits<float>::epsilon();
    return torch::exp(-(p * p.log()).sum()).item<double>();
}

double rankMe(const torch::Tensor& features)
{
    return rankMeFromSingularValues(singularValues(features));
}

double normalisedFeatureStd(const torch::Tensor& features)
{
    torch::NoGradGuard noGrad;
    const auto f = torch::nn::functional::normalize(features.to(torch::kFloat32),
                                                    torch::nn::functional::NormalizeFuncOptions().dim(1));
    return f.std(0).mean().item<double>();
}

} // namespace ijepa
