#pragma once

#include "core/data/image_source.h"
#include "core/eval/embeddings.h"
#include "core/eval/evaluation.h"
#include "core/model/vision_transformer.h"
#include "core/train/observer.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

namespace ijepa {

struct DiagnosticsOptions {
    std::int64_t every = 100;   // steps between diagnostics (and the last step); 0: none
    // The probe set: held-out query images (their spectrum, RankMe and feature std; the k-NN
    // queries) and a labelled database the k-NN votes with. Fixed: `images` and `databaseImages`
    // spread evenly over each (spreadSource: every class of a sorted folder gets its share).
    std::shared_ptr<ImageSource> source;   // queries; null: no diagnostics
    std::int64_t images = 500;
    std::shared_ptr<ImageSource> database; // null: no online probe (probeOff says why)
    std::int64_t databaseImages = 600;
    std::string probeOff = "no labelled images for a probe";
    bool contextProbe = true;   // the same k-NN probe of the context encoder (report.contextProbeAccuracy)
    KnnOptions knn;
    // At the end of a run that finished (or reached its step limit): the full k-NN evaluation of
    // `ijepa eval knn` (all of finalTrain votes for all of finalTest), reported once.
    std::shared_ptr<ImageSource> finalTrain, finalTest;
};

// A probe set, decoded once: query views (with labels where there are) and the database the k-NN
// votes with (empty without labels; `off` says why).
struct ProbeSet {
    EvalViews queries, database;
    std::string off;
};
// The learning signals of the target encoder on the probe set, every `every` steps: the online
// k-NN probe (DINO vote, the code of `ijepa eval knn`), the singular-value spectrum of the query
// features with RankMe from the same decomposition, and the std of the normalised features;
// written into the step's report (report.signals, rankMe, featureStd, probeAccuracy) for the
// observers after it; and the same k-NN probe of the context encoder (contextProbeAccuracy), whose
// lead over the target encoder shows how far the EMA lags. In the step's precision (TrainStart::bf16). Rank 0 only.
class ProbeDiagnostics final : public TrainObserver {
public:
    explicit ProbeDiagnostics(DiagnosticsOptions options) : m_options(std::move(options)) {}

    void started(const TrainStart& start) override;
    void stepDone(const Step& step) override;
    void ended(TrainResult& result) override;
    void settingsChanged(const SettingsChange& change, const TrainStart& now, bool record) override; // diagnostics.every

private:
    DiagnosticsOptions m_options;
    TrainStart m_start;
    ProbeSet m_probe;
    bool m_on = false;
    IJepaModel* m_model = nullptr;
};

ProbeSet makeProbeSet(const ImageSource& queries, const ImageSource* database, int crop, const std::string& off = {});

// The probe's k-NN top-1 of `encoder` (NaN without a database): the probe set's own images. bf16:
// embedded under bf16 autocast, as the run's step (a bf16 run's probe: within 0.2 points of the fp32
// figure on 400-step checkpoints, 2.6x faster on a CPU with AMX; docs/guide/signals.md, "Online probe").
double probeKnn(VisionTransformer& encoder, const ProbeSet& probe, const KnnOptions& knn = {}, bool bf16 = false);

// One measurement of the representation: `encoder` embeds the probe set; RankMe and feature std of
// the query features, their spectrum, the k-NN top-1 of the database voting for the queries (NaN
// without a database or labels; signals.probeOff says why).
struct Measurement {
    double rankMe = std::numeric_limits<double>::quiet_NaN();
    double featureStd = std::numeric_limits<double>::quiet_NaN();
    Signals signals;
};
Measurement measureRepresentation(VisionTransformer& encoder, const ProbeSet& probe, const KnnOptions& knn = {},
                                  bool bf16 = false);

// The probe's k-NN top-1 of `encoder` with `database` voting for `queries` (the probe's images of
// each): exactly `ijepa eval knn`'s figure on those images.
// `progress` counts the images embedded, database then queries.
double probeAccuracy(VisionTransformer& encoder, const ImageSource& database, const ImageSource& queries, int crop,
                     const KnnOptions& knn = {}, const EmbedProgress& progress = {});

} // namespace ijepa
