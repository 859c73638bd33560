#include "core/train/train_step.h"

#include "core/compat.h"
#include "core/parallel.h"
#include "core/train/sigreg.h"

#include <torch/torch.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace ijepa {
namespace {

// The per-token smooth-L1 loss of predictions z against targets h ([R, K, D], rows ordered as
// IJepaModel::targets: block m, context mask r, image i), summed by patch position and by block.
TokenLoss tokenLoss(const torch::Tensor& z, const torch::Tensor& h, const MaskBatch& part, int64_t positions)
{
    torch::NoGradGuard noGrad;
    // On the model's device: a copy to the host here would make a GPU step wait mid-way (the sums
    // come to the host at the end of trainStep, after the step's work is queued).
    const auto perToken = torch::smooth_l1_loss(z.detach().to(torch::kFloat32), h.to(torch::kFloat32),
                                                at::Reduction::None, /*beta=*/1.0)
                              .mean(-1)
                              .to(torch::kFloat64); // [R, K]
    const int64_t npred = part.pred.size(0), nenc = part.enc.size(0), b = part.pred.size(1), k = part.pred.size(2);
    const auto where = part.pred.to(perToken.device()).unsqueeze(1).expand({npred, nenc, b, k}).reshape({-1});
    // Every slice of a batch has the same K (masks are truncated batch-wide), so summing the
    // slices' token losses and dividing by their count gives the batch's mean loss.
    TokenLoss t;
    const auto zeros = torch::zeros({positions}, perToken.options());
    t.positionSum = zeros.clone().index_add_(0, where, perToken.reshape({-1}));
    t.positionCount = zeros.clone().index_add_(0, where, torch::ones_like(perToken).reshape({-1}));
    t.blockSum = perToken.reshape({npred, -1}).sum(1);
    t.tokensPerBlock = nenc * b * k;
    return t;
}

void addTokenLoss(TokenLoss& sum, const TokenLoss& part)
{
    if (!sum.positionSum.defined()) {
        sum = part;
        return;
    }
    sum.positionSum += part.positionSum;
    sum.positionCount += part.positionCount;
    sum.blockSum += part.blockSum;
    sum.tokensPerBlock += part.tokensPerBlock;
}

// One slice's forward, images [from, to) of the batch: its share of the JEPA loss (the loss times
// the slice's share of the batch), the features SIGReg regularises (when `sigreg`), and where the
// loss came from.
struct SliceForward {
    torch::Tensor jepa, features;
    TokenLoss tokens;
};

SliceForward forwardSlice(IJepaModel& model, const torch::Tensor& images, const MaskBatch& masks, int64_t from,
                          int64_t to, const LossConfig* sigreg, bool bf16)
{
    const compat::AutocastGuard autocast(images.device().type(), bf16); // on this slice's thread
    const MaskBatch part{masks.enc.slice(1, from, to), masks.pred.slice(1, from, to)};
    const auto x = images.slice(0, from, to);
    auto h = model.targets(x, part);
    const auto enc = maskList(part.enc);
    auto context = model.encoder->forward(x, enc); // model.predictions, with the context tokens kept
    auto z = model.predictor->forward(context, enc, maskList(part.pred));
    SliceForward f;
    f.tokens = tokenLoss(z, h, part, model.encoder->options.numPatches());
    f.jepa = torch::smooth_l1_loss(z.to(torch::kFloat32), h.to(torch::kFloat32), at::Reduction::Mean, /*beta=*/1.0) *
             (static_cast<double>(to - from) / static_cast<double>(images.size(0)));
    if (sigreg)
        f.features = sigregFeatures(context, *sigreg);
    return f;
}

// SIGReg of the whole batch, from every slice's (and every rank's) ECF sums: its value, and for
// each slice the gradient of weight * worldSize * SIGReg with respect to the slice's features (the
// world size because data parallel averages the gradients of the ranks, whose sum is wanted); with
// a projector, which runs once on all slices' features (BatchNorm over the whole batch), also the
// gradients of its parameters.
struct SigRegTerm {
    double value = std::numeric_limits<double>::quiet_NaN();
    std::vector<torch::Tensor> featureGrads, projectorGrads;
};

SigRegTerm sigregTerm(IJepaModel& model, const std::vector<SliceForward>& slices, const StepSettings& s)
{
    const EppsPulley q(s.loss.sigreg_knots);
    std::vector<torch::Tensor> leaves;
    for (const auto& f : slices)
        leaves.push_back(f.features.detach().requires_grad_(true));
    std::vector<torch::Tensor> heads; // what SIGReg sees, per slice (or one for all, with a projector)
    if (model.projector)
        heads.push_back(model.projector->forward(torch::cat(leaves)));
    else
        heads = leaves;
    const auto projections =
        sigregProjections(heads.front().size(1), s.loss.sigreg_slices, s.seed, s.iteration, heads.front().device());
    torch::Tensor sums;
    double n = 0;
    for (const auto& h : heads) {
        const auto part = ecfSums(h, projections, q);
        sums = sums.defined() ? sums + part : part;
        n += static_cast<double>(h.size(0));
    }
    auto global = sums.detach().clone();
    if (s.allReduceSum)
        s.allReduceSum(global);
    // The global sums' value with this rank's gradient path: d(global)/d(sums) = 1.
    const auto stat = eppsPulleyStatistic(sums + (global - sums.detach()), n * s.worldSize, q);
    SigRegTerm term;
    term.value = stat.item<double>();
    auto inputs = leaves;
    const auto projectorParams = model.projector ? model.projector->parameters() : std::vector<torch::Tensor>{};
    inputs.insert(inputs.end(), projectorParams.begin(), projectorParams.end());
    auto grads = torch::autograd::grad({stat * (s.loss.sigreg_weight * s.worldSize)}, inputs);
    term.projectorGrads.assign(grads.begin() + static_cast<std::ptrdiff_t>(leaves.size()), grads.end());
    grads.resize(leaves.size());
    term.featureGrads = std::move(grads);
    return term;
}

// What slice c minimises: (1 - w) * its JEPA share, plus its features' part of the SIGReg term.
torch::Tensor sliceObjective(const SliceForward& f, const SigRegTerm* term, double weight, size_t c)
{
    if (!term)
        return f.jepa;
    return f.jepa * (1.0 - weight) + (f.features * term->featureGrads[c]).sum();
}

// Backward of every slice on its own thread; the gradients are summed in slice order into .grad.
void backwardSlices(IJepaModel& model, const std::vector<SliceForward>& slices, const SigRegTerm* t, double weight)
{
    const auto chunks = static_cast<int64_t>(slices.size());
    std::vector<torch::Tensor> params;
    for (const auto& p : model.trainableParameters())
        if (p.requires_grad())
            params.push_back(p);
    std::vector<torch::Tensor> sum(params.size());
    std::mutex mutex;
    std::condition_variable turnChanged;
    int64_t turn = 0;    // the slice whose gradients are added next
    bool failed = false; // a slice threw: the others stop waiting for their turn
    parallelForOnOwnThreads(0, chunks, 1, [&](int64_t first, int64_t last) {
        for (int64_t c = first; c < last; ++c) {
            std::vector<torch::Tensor> grads;
            try {
                grads = torch::autograd::grad({sliceObjective(slices[c], t, weight, c)},
                                              params, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                              /*allow_unused=*/true);
            } catch (...) {
                const std::lock_guard lock(mutex);
                failed = true;
                turnChanged.notify_all();
                throw;
            }
            std::unique_lock lock(mutex);
            turnChanged.wait(lock, [&] { return turn == c || failed; });
            if (failed)
                return; // at::parallel_for rethrows the failing slice's exception
            for (size_t i = 0; i < params.size(); ++i)
                if (grads[i].defined())
                    sum[i] = sum[i].defined() ? sum[i] + grads[i] : grads[i];
            ++turn;
            turnChanged.notify_all();
        }
    });
    for (size_t i = 0; i < params.size(); ++i)
        params[i].mutable_grad() = sum[i];
}

} // namespace

int64_t trainStepSlices(const torch::Tensor& images)
{
    if (!images.device().is_cpu() || !sharesOpenMpWithTorch())
        return 1;
    return std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), images.size(0)));
}

StepStats trainStep(IJepaModel& model, AdamW& optimizer, const torch::Tensor& images, const MaskBatch& masks,
                    const StepSettings& settings)
{
    const int64_t batch = images.size(0);
    const int64_t chunks = trainStepSlices(images);
    const bool sigregOn = settings.loss.sigreg_weight > 0;
    optimizer.zeroGrad();
    // On CPU the batch is split into one slice per intra-op thread; each thread runs its slice's
    // forward, then (after SIGReg, which needs every slice's features) its backward, on its own
    // (parallel.h). The loss is the same mean. Each slice adds its gradients to the sum in slice
    // order and drops them, so the step is deterministic and holds about one extra copy of the
    // gradients, not one per thread.
    std::vector<SliceForward> slices(chunks);
    const auto forward = [&](int64_t c) {
        slices[c] = forwardSlice(model, images, masks, batch * c / chunks, batch * (c + 1) / chunks,
                                 sigregOn ? &settings.loss : nullptr, settings.bf16);
    };
    if (chunks == 1)
        forward(0);
    else
        parallelForOnOwnThreads(0, chunks, 1, [&](int64_t first, int64_t last) {
            for (int64_t c = first; c < last; ++c)
                forward(c);
        });
    std::optional<SigRegTerm> term;
    if (sigregOn)
        term = sigregTerm(model, slices, settings);
    const SigRegTerm* t = term ? &*term : nullptr;
    if (chunks == 1) {
        sliceObjective(slices[0], t, settings.loss.sigreg_weight, 0).backward();
    } else {
        backwardSlices(model, slices, t, settings.loss.sigreg_weight);
    }
    if (t && model.projector) { // after the slices' backward, which sets every trainable .grad
        const auto params = model.projector->parameters();
        for (size_t i = 0; i < params.size(); ++i)
            params[i].mutable_grad() = t->projectorGrads[i];
    }
    if (settings.afterBackward)
        settings.afterBackward();
    optimizer.step(settings.lr, settings.weightDecay);
    model.updateTargetEncoder(settings.momentum);
    // Read on the host only now, once the whole step is queued (on a GPU, .item() waits for it).
    StepStats stats;
    TokenLoss tokens;
    for (const auto& f : slices) {
        stats.jepaLoss += f.jepa.item<double>();
        addTokenLoss(tokens, f.tokens);
    }
    stats.loss = stats.jepaLoss;
    if (t) {
        stats.sigregLoss = t->value;
        stats.loss = (1.0 - settings.loss.sigreg_weight) * stats.jepaLoss + settings.loss.sigreg_weight * t->value;
    }
    tokens.positionSum = tokens.positionSum.to(torch::kCPU);
    tokens.positionCount = tokens.positionCount.to(torch::kCPU);
    tokens.blockSum = tokens.blockSum.to(torch::kCPU);
    stats.contextSize = masks.enc.size(2);
    stats.targetSize = masks.pred.size(2);
    stats.tokens = std::move(tokens);
    return stats;
}

StepStats trainStep(IJepaModel& model, AdamW& optimizer, const torch::Tensor& images, const MaskBatch& masks,
                    double lr, double weightDecay, double momentum, const std::function<void()>& afterBackward)
{
    StepSettings settings;
    settings.lr = lr;
    settings.weightDecay = weightDecay;
    settings.momentum = momentum;
    settings.afterBackward = afterBackward;
    return trainStep(model, optimizer, images, masks, settings);
}

} // namespace ijepa
