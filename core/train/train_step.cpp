#include "core/train/train_step.h"

#include "core/parallel.h"

#include <torch/torch.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace ijepa {
namespace {

// The per-token smooth-L1 loss of predictions z against targets h ([R, K, D], rows ordered as
// IJepaModel::targets: block m, context mask r, image i), summed by patch position and by block.
TokenLoss tokenLoss(const torch::Tensor& z, const torch::Tensor& h, const MaskBatch& part, int64_t positions)
{
    torch::NoGradGuard noGrad;
    const auto perToken = torch::smooth_l1_loss(z.detach().to(torch::kFloat32), h.to(torch::kFloat32),
                                                at::Reduction::None, /*beta=*/1.0)
                              .mean(-1)
                              .to(torch::kCPU, torch::kFloat64); // [R, K]
    const int64_t npred = part.pred.size(0), nenc = part.enc.size(0), b = part.pred.size(1), k = part.pred.size(2);
    const auto where = part.pred.to(torch::kCPU).unsqueeze(1).expand({npred, nenc, b, k}).reshape({-1});
    // Every slice of a batch has the same K (masks are truncated batch-wide), so summing the
    // slices' token losses and dividing by their count gives the batch's mean loss.
    TokenLoss t;
    t.positionSum = torch::zeros({positions}, torch::kFloat64).index_add_(0, where, perToken.reshape({-1}));
    t.positionCount = torch::zeros({positions}, torch::kFloat64).index_add_(0, where, torch::ones_like(perToken).reshape({-1}));
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

// Loss of the step on images [from, to) of the batch, weighted by their share of it; `tokens`
// receives where it came from.
torch::Tensor partialLoss(IJepaModel& model, const torch::Tensor& images, const MaskBatch& masks, int64_t from,
                          int64_t to, TokenLoss& tokens)
{
    const MaskBatch part{masks.enc.slice(1, from, to), masks.pred.slice(1, from, to)};
    const auto x = images.slice(0, from, to);
    auto h = model.targets(x, part);
    auto z = model.predictions(x, part);
    tokens = tokenLoss(z, h, part, model.encoder->options.numPatches());
    return torch::smooth_l1_loss(z, h, at::Reduction::Mean, /*beta=*/1.0) *
           (static_cast<double>(to - from) / static_cast<double>(images.size(0)));
}

} // namespace

int64_t trainStepSlices(const torch::Tensor& images)
{
    if (!images.device().is_cpu() || !sharesOpenMpWithTorch())
        return 1;
    return std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), images.size(0)));
}

StepStats trainStep(IJepaModel& model, AdamW& optimizer, const torch::Tensor& images, const MaskBatch& masks,
                    double lr, double weightDecay, double momentum, const std::function<void()>& afterBackward)
{
    const int64_t batch = images.size(0);
    const int64_t chunks = trainStepSlices(images);
    optimizer.zeroGrad();
    double loss = 0;
    TokenLoss tokens;
    if (chunks == 1) {
        auto l = partialLoss(model, images, masks, 0, batch, tokens);
        l.backward();
        loss = l.item<double>();
    } else {
        // On CPU the batch is split into one slice per intra-op thread; each thread runs its
        // slice's forward and backward on its own (parallel.h). The loss is the same mean. Each
        // slice adds its gradients to the sum in slice order and drops them, so the step is
        // deterministic and holds about one extra copy of the gradients, not one per thread.
        std::vector<torch::Tensor> params;
        for (const auto& p : model.trainableParameters())
            if (p.requires_grad())
                params.push_back(p);
        std::vector<torch::Tensor> sum(params.size());
        std::vector<double> losses(chunks);
        std::vector<TokenLoss> sliceTokens(chunks);
        std::mutex mutex;
        std::condition_variable turnChanged;
        int64_t turn = 0;    // the slice whose gradients are added next
        bool failed = false; // a slice threw: the others stop waiting for their turn
        parallelForOnOwnThreads(0, chunks, 1, [&](int64_t first, int64_t last) {
            for (int64_t c = first; c < last; ++c) {
                std::vector<torch::Tensor> grads;
                try {
                    auto l = partialLoss(model, images, masks, batch * c / chunks, batch * (c + 1) / chunks,
                                         sliceTokens[c]);
                    losses[c] = l.item<double>();
                    grads = torch::autograd::grad({l}, params, {}, /*retain_graph=*/false, /*create_graph=*/false,
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
        for (double l : losses)
            loss += l;
        for (const auto& s : sliceTokens)
            addTokenLoss(tokens, s);
    }
    if (afterBackward)
        afterBackward();
    optimizer.step(lr, weightDecay);
    model.updateTargetEncoder(momentum);
    return {loss, masks.enc.size(2), masks.pred.size(2), std::move(tokens)};
}

} // namespace ijepa
