#include "core/train/adamw.h"

#include "core/errors.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <cmath>

namespace ijepa {

AdamW::AdamW(std::vector<ParamGroup> groups, double beta1, double beta2, double eps)
    : m_groups(std::move(groups)), m_beta1(beta1), m_beta2(beta2), m_eps(eps)
{
    size_t count = 0;
    for (const auto& g : m_groups)
        count += g.params.size();
    m_state.resize(count);
}

void AdamW::step(double lr, double weightDecay)
{
    torch::NoGradGuard noGrad;
    m_lr = lr;
    m_weightDecay = weightDecay;
    size_t index = 0;
    for (const auto& group : m_groups) {
        std::vector<torch::Tensor> params, grads, expAvg, expAvgSq;
        std::vector<c10::Scalar> stepSize, bc2Sqrt;
        for (const auto& p : group.params) {
            auto& state = m_state[index++];
            if (!p.grad().defined())
                continue;
            if (!state.expAvg.defined()) {
                state.expAvg = torch::zeros_like(p, torch::MemoryFormat::Preserve);
                state.expAvgSq = torch::zeros_like(p, torch::MemoryFormat::Preserve);
            }
            state.step += 1;
            params.push_back(p);
            grads.push_back(p.grad());
            expAvg.push_back(state.expAvg);
            expAvgSq.push_back(state.expAvgSq);
            stepSize.emplace_back(-lr / (1.0 - std::pow(m_beta1, state.step)));
            bc2Sqrt.emplace_back(std::sqrt(1.0 - std::pow(m_beta2, state.step)));
        }
        if (params.empty())
            continue;
        const double wd = group.excludeWeightDecay ? 0.0 : weightDecay;
        if (wd != 0.0)
            at::_foreach_mul_(params, 1.0 - lr * wd);
        at::_foreach_mul_(expAvg, m_beta1);
        at::_foreach_add_(expAvg, grads, 1.0 - m_beta1);
        at::_foreach_mul_(expAvgSq, m_beta2);
        at::_foreach_addcmul_(expAvgSq, grads, grads, 1.0 - m_beta2);
        auto denom = at::_foreach_sqrt(expAvgSq);
        at::_foreach_div_(denom, bc2Sqrt);
        at::_foreach_add_(denom, m_eps);
        at::_foreach_addcdiv_(params, expAvg, denom, stepSize);
    }
}

void AdamW::zeroGrad()
{
    for (const auto& group : m_groups)
        for (const auto& p : group.params)
            if (p.grad().defined())
                p.mutable_grad().reset();
}

c10::IValue AdamW::stateDict() const
{
    using c10::IValue;
    auto stateMap = c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get());
    for (size_t i = 0; i < m_state.size(); ++i) {
        const auto& s = m_state[i];
        if (!s.expAvg.defined())
            continue;
        auto entry = c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get());
        entry.insert("step", IValue(torch::tensor(static_cast<float>(s.step))));
        entry.insert("exp_avg", IValue(s.expAvg));
        entry.insert("exp_avg_sq", IValue(s.expAvgSq));
        stateMap.insert(IValue(static_cast<int64_t>(i)), IValue(entry));
    }
    auto groups = c10::impl::GenericList(c10::AnyType::get());
    int64_t index = 0;
    for (const auto& g : m_groups) {
        auto group = c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get());
        if (g.excludeWeightDecay)
            group.insert("WD_exclude", true);
        group.insert("weight_decay", g.excludeWeightDecay ? 0.0 : m_weightDecay);
        group.insert("lr", m_lr);
        group.insert("betas", c10::ivalue::Tuple::create({IValue(m_beta1), IValue(m_beta2)}));
        group.insert("eps", m_eps);
        group.insert("amsgrad", false);
        group.insert("foreach", IValue());
        group.insert("maximize", false);
        group.insert("capturable", false);
        auto ids = c10::impl::GenericList(c10::AnyType::get());
        for (size_t k = 0; k < g.params.size(); ++k)
            ids.push_back(index++);
        group.insert("params", ids);
        groups.push_back(group);
    }
    auto out = c10::impl::GenericDict(c10::AnyType::get(), c10::AnyType::get());
    out.insert("state", stateMap);
    out.insert("param_groups", groups);
    return out;
}

void AdamW::loadStateDict(const c10::IValue& value, const std::string& context)
{
    const auto fail = [&](const std::string& m) { throw CheckpointError(context + ": " + m); };
    if (!value.isGenericDict())
        fail("optimiser state is not a dict");
    const auto dict = value.toGenericDict();
    if (!dict.contains("state") || !dict.contains("param_groups"))
        fail("optimiser state lacks 'state' or 'param_groups'");
    const auto groups = dict.at("param_groups");
    if (!groups.isList() || groups.toListRef().size() != m_groups.size())
        fail("expected " + std::to_string(m_groups.size()) + " parameter groups");
    for (size_t g = 0; g < m_groups.size(); ++g) {
        const c10::IValue group = groups.toListRef()[g]; // by value: GCC 13 takes a reference here for dangling
        if (!group.isGenericDict() || !group.toGenericDict().contains("params"))
            fail("param_groups[" + std::to_string(g) + "] has no 'params'");
        const auto& ids = group.toGenericDict().at("params");
        if (!ids.isList() || ids.toListRef().size() != m_groups[g].params.size())
            fail("param_groups[" + std::to_string(g) + "] holds " +
                 std::to_string(ids.isList() ? ids.toListRef().size() : 0) + " parameters, the model has " +
                 std::to_string(m_groups[g].params.size()));
        const auto gd = group.toGenericDict();
        if (gd.contains("lr") && gd.at("lr").isDouble())
            m_lr = gd.at("lr").toDouble();
        if (!m_groups[g].excludeWeightDecay && gd.contains("weight_decay") && gd.at("weight_decay").isDouble())
            m_weightDecay = gd.at("weight_decay").toDouble();
    }
    std::vector<torch::Tensor> flat;
    for (const auto& g : m_groups)
        flat.insert(flat.end(), g.params.begin(), g.params.end());
    std::vector<ParamState> loaded(m_state.size());
    const auto state = dict.at("state");
    if (!state.isGenericDict())
        fail("'state' is not a dict");
    for (const auto& entry : state.toGenericDict()) {
        if (!entry.key().isInt() || entry.key().toInt() < 0 || entry.key().toInt() >= static_cast<int64_t>(flat.size()))
            fail("state for an unknown parameter index");
        const auto i = static_cast<size_t>(entry.key().toInt());
        const std::string where = "state[" + std::to_string(i) + "]";
        if (!entry.value().isGenericDict())
            fail(where + " is not a dict");
        const auto s = entry.value().toGenericDict();
        for (const char* key : {"step", "exp_avg", "exp_avg_sq"})
            if (!s.contains(key))
                fail(where + " lacks '" + key + "'");
        const auto step = s.at("step");
        if (!(step.isTensor() && step.toTensor().numel() == 1) && !step.isScalar())
            fail(where + "['step'] is not a number");
        loaded[i].step = step.isTensor() ? step.toTensor().item<double>() : step.toScalar().toDouble();
        if (!(loaded[i].step >= 0) || !std::isfinite(loaded[i].step))
            fail(where + "['step']: " + std::to_string(loaded[i].step) + " (must be a finite count, 0 or more)");
        for (auto [key, slot] : {std::pair{"exp_avg", &loaded[i].expAvg}, std::pair{"exp_avg_sq", &loaded[i].expAvgSq}}) {
            const auto t = s.at(key);
            if (!t.isTensor() || !t.toTensor().sizes().equals(flat[i].sizes()))
                fail(where + "['" + key + "']: shape differs from the parameter's " + c10::str(flat[i].sizes()));
            *slot = t.toTensor().to(flat[i].options()).clone();
            if (!torch::isfinite(*slot).all().item<bool>())
                fail(where + "['" + key + "'] holds NaN or infinite values");
            if (std::string(key) == "exp_avg_sq" && (*slot < 0).any().item<bool>())
                fail(where + "['exp_avg_sq'] holds negative values (a second moment is never negative)");
        }
    }
    m_state = std::move(loaded);
}

} // namespace ijepa
