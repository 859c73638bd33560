#pragma once

// What the training loop tells whoever watches it: one small interface, TrainObserver, and the
// value types it passes (TrainStart, StepReport, TrainResult).

#include "core/config.h"
#include "core/train/steering.h"

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ijepa {

struct Batch;
struct IJepaModel;
struct StepStats;
class AdamW;

// One line of the health verdict: a topic, its state in a word, the sentence with the number
// behind it, and a hint when something is wrong.
struct HealthLine {
    std::string topic;   // "probe", "spectrum", "progress"
    std::string state;   // "rising", "flat", "falling", "healthy", "collapsing", "collapse", "not improving", ...
    std::string text;    // e.g. "probe k-NN 61.2%, +3.4 points over the last 400 steps"
    std::string hint;    // what to try; empty when all is well
    bool warning = false;
};

// What the diagnostics measured on a diagnostic step, for the CLI, TensorBoard and the workbench.
struct Signals {
    double probeAccuracy = std::numeric_limits<double>::quiet_NaN(); // online k-NN top-1 (0..1)
    std::string probeOff;                 // why there is no probe ("" when there is one)
    std::int64_t probeDatabase = 0, probeQueries = 0;
    std::vector<double> spectrum;         // singular values of the query features, descending, / their sum
    double sigreg = std::numeric_limits<double>::quiet_NaN(); // SIGReg statistic of the query features (label-free)
    int embedDim = 0;
    double seconds = 0;                   // what the probe and spectrum took on this step
    // Where the predictor fails, over the last `windowSteps` steps:
    int gridSize = 0;
    std::vector<double> positionLoss;     // [grid * grid] mean token loss per patch position (NaN: never a target)
    std::vector<double> blockLoss;        // mean token loss of the m-th target block
    std::vector<std::pair<int, double>> sizeLoss; // (patches per target block, mean token loss), by size
    std::int64_t windowSteps = 0;
    std::vector<HealthLine> verdict;
};

struct TrainStart {
    std::int64_t firstIteration = 0;      // 0, or where a resumed run continues
    std::int64_t totalIterations = 0;     // where this run will stop
    std::int64_t iterationsPerEpoch = 0;
    int epochs = 0;
    std::string resumedFrom;              // checkpoint path, empty for a fresh run
    std::int64_t scheduleIterations = 0;  // epochs x iterations per epoch (the whole schedule)
    Config config;                        // the run's validated config (logging.folder = outDir)
    std::string outDir;                   // the run folder
    std::string data;                     // what the run trains on (the image source's description)
    std::string device = "cpu";
    bool bf16 = false;                    // the matrix products run in bf16 (precision.h)
    std::string precision;                // which number format runs and why, for people
    bool writer = true;                   // this process writes logs and checkpoints (rank 0)
    int worldSize = 1;                    // data-parallel ranks
    // The run's stop request: set, the loop ends after its step, and work after the last step that
    // can be left undone (the end-of-run k-NN) stops at its next batch.
    const std::atomic_bool* stop = nullptr;
};

struct StepReport {
    std::int64_t iteration = 0;           // global, from 1 after the first step
    std::int64_t totalIterations = 0;
    std::int64_t epoch = 0;               // from 1
    std::int64_t stepInEpoch = 0;         // from 1
    std::int64_t iterationsPerEpoch = 0;
    double loss = 0, lr = 0, weightDecay = 0, momentum = 0;
    double jepaLoss = 0;                  // the reference's smooth-L1 (equal to loss without SIGReg)
    double sigregLoss = std::numeric_limits<double>::quiet_NaN(); // SIGReg of the batch; NaN when off
    double sigregWeight = 0;              // loss.sigreg_weight
    double sigregSignal = std::numeric_limits<double>::quiet_NaN(); // label-free: SIGReg of the probe features (diagnostic steps)
    std::int64_t contextSize = 0, targetSize = 0;
    double imagesPerSecond = 0;           // over the last steps (data waits included)
    double etaSeconds = 0;
    double stepMs = 0;
    double rankMe = std::numeric_limits<double>::quiet_NaN();     // NaN on steps without diagnostics
    double featureStd = std::numeric_limits<double>::quiet_NaN();
    double probeAccuracy = std::numeric_limits<double>::quiet_NaN(); // online k-NN top-1 (0..1), NaN without
    // The same probe on the context (online) encoder; its lead over the target encoder's is the EMA's lag.
    double contextProbeAccuracy = std::numeric_limits<double>::quiet_NaN();
    std::shared_ptr<Signals> signals;     // diagnostic steps only (filled by the observers in order)
    std::int64_t skippedFiles = 0;        // unreadable images skipped so far (each named once in a message)
    double gpuMemoryMb = std::numeric_limits<double>::quiet_NaN();     // CUDA: allocated now (NaN on CPU)
    double gpuPeakMemoryMb = std::numeric_limits<double>::quiet_NaN(); // CUDA: peak so far
};

enum class TrainStatus { Finished, MaxSteps, Stopped, Diverged };

struct TrainResult {
    TrainStatus status = TrainStatus::Finished;
    std::int64_t iteration = 0;           // global iterations done
    double loss = 0;                      // last finite loss
    bool nothingToTrain = false;          // resumed where it was to end: no step ran (loss unknown)
    std::string checkpoint;               // last checkpoint written ("" if none)
    double imagesPerSecond = 0;           // mean over the run, the first two steps excluded
    std::int64_t skippedFiles = 0;
    double finalKnn = std::numeric_limits<double>::quiet_NaN(); // the end-of-run k-NN top-1, when run
};

// How a run ended, in words ("finished", "stopped on request", ...): the CLI's summary and the
// workbench's status bar.
std::string describeStatus(TrainStatus status);
// One line: how it ended, at which iteration, loss, img/s, skipped files.
std::string describeResult(const TrainResult& result);
// The verdict in one line per topic ("probe rising: ...; spectrum healthy: ...").
std::string describeVerdict(const std::vector<HealthLine>& verdict);

// One step as the observers see it, after the optimiser and EMA updates. The loop fills `report`;
// an observer may add to it (the diagnostics fill rankMe) for the observers attached after it.
struct Step {
    StepReport& report;
    const Batch& batch;     // the batch just trained (normalised images and masks); copy what you keep
    const StepStats& stats; // the step's loss and where it came from (core/train/train_step.h)
    IJepaModel& model;
    AdamW& optimizer;
};

// How the loop names an unreadable image in a message: this, then the file (the workbench lists them).
inline constexpr std::string_view kSkippedImageMessage = "skipped unreadable image: ";

// Watches a run on the training thread; implementations must return quickly (the workbench's
// worker blocks in stepDone while the run is paused, which pauses the loop).
class TrainObserver {
public:
    virtual ~TrainObserver() = default;
    virtual void started(const TrainStart&) {}
    virtual void stepDone(const Step&) {}
    virtual void message(const std::string&) {} // one line for the log: skipped files, checkpoints, resume
    // Long work outside the steps (the end-of-run k-NN over a whole split): what it is and how far it
    // is, `done` of `total` units (images); done == total when it is over.
    virtual void workProgress(const std::string& /*what*/, std::int64_t /*done*/, std::int64_t /*total*/) {}
    // After the last step (finished, stopped or diverged); may still write (the checkpointer) and
    // annotate the result (its checkpoint).
    virtual void ended(TrainResult&) {}
    // Settings changed from `change.step` on (asked for while paused, or replayed from a history);
    // `now` is the run as it stands after the change (config, schedule length). `record`: a new
    // change for the run's history (false when replayed from that history itself).
    virtual void settingsChanged(const SettingsChange&, const TrainStart& /*now*/, bool /*record*/) {}

protected:
    // Sends a line to every observer of the run (through the list this one is attached to).
    void say(const std::string& line);
    // Sends workProgress to every observer of the run.
    void reportProgress(const std::string& what, std::int64_t done, std::int64_t total);

private:
    friend class ObserverList;
    TrainObserver* top(); // the list at the top of the chain this observer is attached to
    TrainObserver* m_list = nullptr;
};

// Observers called in the order they were added; the loop talks to one of these.
class ObserverList final : public TrainObserver {
public:
    ObserverList() = default;
    ObserverList(std::initializer_list<TrainObserver*> observers);
    ObserverList& add(TrainObserver& observer);

    void started(const TrainStart& start) override;
    void stepDone(const Step& step) override;
    void message(const std::string& line) override;
    void workProgress(const std::string& what, std::int64_t done, std::int64_t total) override;
    void ended(TrainResult& result) override;
    void settingsChanged(const SettingsChange& change, const TrainStart& now, bool record) override;

private:
    std::vector<TrainObserver*> m_observers;
};

} // namespace ijepa
