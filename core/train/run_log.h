#pragma once

#include "core/io/atomic_file.h"
#include "core/runs/run_folder.h"
#include "core/train/observer.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ijepa {

class EventWriter;

struct RunLogOptions {
    std::int64_t logEvery = 10;   // steps between TensorBoard scalars
    std::int64_t imageEvery = 200; // steps between TensorBoard mask grids (0: none)
    // Draws a batch's masks over its images as a PNG (height and width out); optional, as the core
    // has no image codec (core/imageio's batchMaskRenderer is one).
    std::function<std::string(const Batch&, int& height, int& width)> renderMasks;
    // Draws a grid x grid map of values as a PNG (the predictor's loss by position); optional, as
    // above (core/imageio's heatmapRenderer is one).
    std::function<std::string(const std::vector<double>&, int grid, int& height, int& width)> renderHeatmap;
    // A branched run: the checkpoint it started from (recorded in run.json with its step).
    std::string parent;
    // The run's name for people (run.json; the Runs tab shows it instead of the folder's); "" keeps
    // the name it has (a resumed run), or none.
    std::string name;
    // Called on the training thread when a log write fails (a full disk), with the message; true
    // writes it again (the user freed space), false gives up and the WriteError ends the run.
    // Unset: give up at once (the CLI: exit 5). No row or record is ever left half written.
    std::function<bool(const std::string& message)> onWriteError;
};

// The run's files, rank 0 only: params-ijepa.yaml (the config used), <tag>_r0.csv (the
// reference's CSV columns plus lr, wd, momentum, img/s and the diagnostics: rankme, feat_std,
// probe_knn; the loss split jepa_loss, sigreg_loss; the label-free sigreg_stat; `settings`, the
// changes that took effect at that step), config_history.jsonl (the run's changes) and TensorBoard
// events under tb/ (scalars every logEvery steps; on diagnostic steps
// the probe, RankMe, feature std, the spectrum as a histogram, the predictor's loss by position as
// an image and by target block; mask grids; the final k-NN once) and run.json (the data, iterations
// per epoch, status, a branch's parent: core/runs/run_folder.h). When a run resumes, CSV rows
// past its checkpoint (steps a crash lost) and rows or event records cut short are dropped first.
class RunLog final : public TrainObserver {
public:
    explicit RunLog(RunLogOptions options);
    ~RunLog() override;

    void started(const TrainStart& start) override;
    void stepDone(const Step& step) override;
    void ended(TrainResult& result) override;
    void settingsChanged(const SettingsChange& change, const TrainStart& now, bool record) override;

private:
    void openCsv(const std::string& path, std::int64_t keepBelow, std::int64_t ipe);
    void csvRow(const StepReport& r);
    void scalars(const StepReport& r);
    void signals(const StepReport& r);
    void flushEvents();

    RunLogOptions m_options;
    RunMeta m_meta;
    std::string m_dir;
    std::string m_marker; // settings changed since the last CSV row
    std::int64_t m_first = 0;
    AppendFile m_csv;
    std::unique_ptr<EventWriter> m_events;
};

} // namespace ijepa
