#include "core/train/diagnostics.h"

#include "core/errors.h"
#include "core/eval/embeddings.h"
#include "core/eval/evaluation.h"
#include "core/model/ijepa_model.h"

#include <vector>

namespace ijepa {

void CollapseDiagnostics::started(const TrainStart& start)
{
    m_images = torch::Tensor();
    if (!start.writer || !m_options.source || m_options.every <= 0)
        return;
    const auto source = limitSource(m_options.source, m_options.images);
    std::vector<torch::Tensor> views;
    for (std::int64_t i = 0; i < source->size(); ++i) {
        try {
            views.push_back(evalTransform(source->image(i), start.config.data.crop_size));
        } catch (const DataError&) {
        }
    }
    if (views.size() >= 2)
        m_images = torch::stack(views).to(torch::Device(start.device));
}

void CollapseDiagnostics::stepDone(const Step& step)
{
    StepReport& r = step.report;
    if (!m_images.defined() || (r.iteration % m_options.every != 0 && r.iteration != r.totalIterations))
        return;
    torch::NoGradGuard noGrad;
    const auto features = step.model.targetEncoder->forward(m_images).mean(1).to(torch::kCPU, torch::kFloat32);
    r.rankMe = rankMe(features);
    r.featureStd = normalisedFeatureStd(features);
}

} // namespace ijepa
