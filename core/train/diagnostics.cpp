#include "core/train/diagnostics.h"

#include "core/eval/embeddings.h"
#include "core/model/ijepa_model.h"
#include "core/train/sigreg.h"

#include <chrono>
#include <cmath>
#include <cstdio>

namespace ijepa {

double probeAccuracy(VisionTransformer& encoder, const ImageSource& database, const ImageSource& queries, int crop,
                     const KnnOptions& knn, const EmbedProgress& progress)
{
    const std::int64_t total = database.size() + queries.size();
    const auto offset = [&](std::int64_t before) -> EmbedProgress {
        if (!progress)
            return {};
        return [&progress, before, total](std::int64_t done, std::int64_t) { progress(before + done, total); };
    };
    const auto db = embedImages(encoder, database, crop, false, kEmbedBatch, offset(0));
    const auto q = embedImages(encoder, queries, crop, false, kEmbedBatch, offset(database.size()));
    return knnAccuracy(db.features, db.labels, q.features, q.labels, knn);
}

ProbeSet makeProbeSet(const ImageSource& queries, const ImageSource* database, int crop, const std::string& off)
{
    ProbeSet p;
    p.queries = evalViews(queries, crop);
    p.off = database ? "" : (off.empty() ? "no labelled images for a probe" : off);
    const auto hasLabels = [](const EvalViews& v) { return v.labels.numel() > 0 && v.labels.min().item<std::int64_t>() >= 0; };
    if (database) {
        p.database = evalViews(*database, crop);
        if (!hasLabels(p.database) || !hasLabels(p.queries)) {
            p.database = {};
            p.off = "the probe images have no labels (class sub-folders)";
        }
    }
    return p;
}

namespace {
// The probe database embedded by `encoder` voting for `queries` (the probe's queries, embedded by it).
double knnOnProbe(VisionTransformer& encoder, const ProbeSet& probe, const torch::Tensor& queries, const KnnOptions& knn,
                  bool bf16)
{
    if (!probe.database.images.defined())
        return std::numeric_limits<double>::quiet_NaN();
    return knnAccuracy(embedViews(encoder, probe.database.images, kEmbedBatch, bf16), probe.database.labels, queries,
                       probe.queries.labels, knn);
}
} // namespace

double probeKnn(VisionTransformer& encoder, const ProbeSet& probe, const KnnOptions& knn, bool bf16)
{
    return knnOnProbe(encoder, probe, embedViews(encoder, probe.queries.images, kEmbedBatch, bf16), knn, bf16);
}

Measurement measureRepresentation(VisionTransformer& encoder, const ProbeSet& probe, const KnnOptions& knn, bool bf16)
{
    const auto t0 = std::chrono::steady_clock::now();
    Measurement m;
    Signals& s = m.signals;
    const auto q = embedViews(encoder, probe.queries.images, kEmbedBatch, bf16);
    s.embedDim = static_cast<int>(q.size(1));
    s.probeQueries = q.size(0);
    if (q.size(0) >= 2) {
        const auto sv = singularValues(q);
        m.rankMe = rankMeFromSingularValues(sv);
        m.featureStd = normalisedFeatureStd(q);
        const auto normalised = (sv / sv.sum().clamp_min(1e-300)).contiguous();
        s.spectrum.assign(normalised.data_ptr<double>(), normalised.data_ptr<double>() + normalised.numel());
        s.sigreg = sigregSignal(q);
    }
    s.probeOff = probe.off;
    s.probeAccuracy = knnOnProbe(encoder, probe, q, knn, bf16);
    if (probe.database.images.defined())
        s.probeDatabase = probe.database.images.size(0);
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return m;
}

void ProbeDiagnostics::started(const TrainStart& start)
{
    m_start = start;
    m_on = start.writer && m_options.source && m_options.every > 0;
    if (!m_on)
        return;
    // Spread over the sets, not their first images: an image folder is sorted by class, and its
    // first 600 images would leave the later classes out of the vote (a probe stuck at 54% on 8
    // classes of photos while the final k-NN read 90%).
    const auto database = m_options.database ? spreadSource(m_options.database, m_options.databaseImages) : nullptr;
    m_probe = makeProbeSet(*spreadSource(m_options.source, m_options.images), database.get(), start.config.data.crop_size,
                           m_options.probeOff);
}

void ProbeDiagnostics::settingsChanged(const SettingsChange& change, const TrainStart& now, bool)
{
    const auto every = diagnosticsEveryOf(change);
    if (every < 0)
        return;
    const bool loaded = m_on;
    m_options.every = every;
    m_start.totalIterations = now.totalIterations;
    if (!loaded && every > 0)
        started(m_start); // turned on mid-run: load the probe set now
    m_on = m_start.writer && m_options.source && every > 0;
}

void ProbeDiagnostics::stepDone(const Step& step)
{
    m_model = &step.model;
    StepReport& r = step.report;
    if (!m_on || (r.iteration % m_options.every != 0 && r.iteration != r.totalIterations))
        return;
    Measurement m = measureRepresentation(step.model.targetEncoder, m_probe, m_options.knn, m_start.bf16);
    r.rankMe = m.rankMe;
    r.featureStd = m.featureStd;
    r.probeAccuracy = m.signals.probeAccuracy;
    r.sigregSignal = m.signals.sigreg;
    if (m_options.contextProbe) {
        const auto t0 = std::chrono::steady_clock::now();
        r.contextProbeAccuracy = probeKnn(step.model.encoder, m_probe, m_options.knn, m_start.bf16);
        m.signals.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    if (!r.signals)
        r.signals = std::make_shared<Signals>();
    Signals& s = *r.signals;
    s.probeAccuracy = m.signals.probeAccuracy;
    s.probeOff = std::move(m.signals.probeOff);
    s.probeDatabase = m.signals.probeDatabase;
    s.probeQueries = m.signals.probeQueries;
    s.spectrum = std::move(m.signals.spectrum);
    s.sigreg = m.signals.sigreg;
    s.embedDim = m.signals.embedDim;
    s.seconds = m.signals.seconds;
}

void ProbeDiagnostics::ended(TrainResult& result)
{
    const bool complete = result.status == TrainStatus::Finished || result.status == TrainStatus::MaxSteps;
    if (!m_on || !complete || !m_model || !m_options.finalTrain || !m_options.finalTest)
        return;
    say("final k-NN evaluation (ijepa eval knn): embedding " + std::to_string(m_options.finalTrain->size()) + " + " +
        std::to_string(m_options.finalTest->size()) + " images");
    struct StopRequested {};
    try {
        const std::string what = "final k-NN";
        reportProgress(what, 0, m_options.finalTrain->size() + m_options.finalTest->size()); // it starts: its clock too
        const auto progress = [&](std::int64_t done, std::int64_t total) {
            if (m_start.stop && m_start.stop->load())
                throw StopRequested{}; // between two batches: Ctrl+C or Stop does not wait minutes for it
            reportProgress(what, done, total);
        };
        const double acc = probeAccuracy(m_model->targetEncoder, *m_options.finalTrain, *m_options.finalTest,
                                         m_start.config.data.crop_size, m_options.knn, progress);
        result.finalKnn = acc;
        char line[160];
        std::snprintf(line, sizeof(line), "final k-NN top-1 %.2f%% (k=%d, T=%.2f; %lld train -> %lld test images)",
                      100.0 * acc, m_options.knn.k, m_options.knn.temperature,
                      static_cast<long long>(m_options.finalTrain->size()), static_cast<long long>(m_options.finalTest->size()));
        say(line);
    } catch (const StopRequested&) {
        say("final k-NN evaluation left undone: stop requested (ijepa eval knn on the checkpoint gives it)");
    } catch (const std::exception& e) {
        say(std::string("final k-NN evaluation failed: ") + e.what());
    }
}

} // namespace ijepa
