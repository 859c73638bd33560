#pragma once

#include <ATen/core/ivalue.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace ijepa {

struct ParamGroup {
    std::vector<torch::Tensor> params;
    bool excludeWeightDecay = false; // the reference's WD_exclude groups (biases, 1-D params)
};

// AdamW with the update of torch.optim.AdamW (decoupled decay p *= 1 - lr * wd, bias-corrected
// moments), applied group-wide with foreach tensor ops. Its state dict has the layout of
// torch.optim.Optimizer.state_dict(), with parameters numbered across groups in order, so it
// loads from and saves to the reference's checkpoints. Parameters without a gradient are skipped
// and get no state, as in PyTorch.
class AdamW {
public:
    explicit AdamW(std::vector<ParamGroup> groups, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);

    // One update with the scheduled learning rate and weight decay (0 for excluded groups).
    void step(double lr, double weightDecay);
    void zeroGrad();

    c10::IValue stateDict() const;
    // Throws CheckpointError (prefixed with context) if the groups or shapes differ.
    void loadStateDict(const c10::IValue& state, const std::string& context);

    const std::vector<ParamGroup>& groups() const { return m_groups; }

private:
    struct ParamState {
        double step = 0;
        torch::Tensor expAvg;
        torch::Tensor expAvgSq;
    };

    std::vector<ParamGroup> m_groups;
    std::vector<ParamState> m_state; // indexed across groups, as the reference numbers params
    double m_beta1, m_beta2, m_eps;
    double m_lr = 0.0;
    double m_weightDecay = 0.0;
};

} // namespace ijepa
