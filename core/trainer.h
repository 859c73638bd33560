#pragma once

#include "config.h"
#include "data_loader.h"
#include "image_source.h"
#include "vision_transformer.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>

namespace ijepa {

class ProcessGroup;

struct TrainerOptions {
    Config config;                              // validated; logging.folder is replaced by outDir
    std::shared_ptr<const ImageSource> data;    // training images
    std::string outDir;                         // logs and checkpoints (empty: config.logging.folder)
    std::string device = "cpu";                 // cpu, cuda or cuda:N
    bool resume = false;                        // continue from <outDir>/<tag>-latest.pth.tar
    std::string resumeFrom;                     // continue from this checkpoint (the reference's too)
    std::int64_t maxSteps = 0;                  // stop after this global iteration (0: run every epoch)
    std::int64_t checkpointEvery = 200;         // steps between <tag>-latest writes (and every epoch end)
    int snapshotEvery = 0;                      // epochs between numbered snapshots <tag>-ep<N> (0: none)
    std::int64_t logEvery = 10;                 // steps between TensorBoard scalars
    std::int64_t imageEvery = 200;              // steps between TensorBoard mask grids (0: none)
    // Collapse diagnostics (RankMe, std of normalised features) of the target encoder on these
    // fixed images (evaluation view), every diagnosticsEvery steps and at the last step.
    std::shared_ptr<const ImageSource> diagnostics;
    std::int64_t diagnosticsEvery = 100;
    // Draws a batch's masks over its images as a PNG (height and width out); optional, as core has
    // no image codec.
    std::function<std::string(const Batch&, int& height, int& width)> renderMasks;
    // Data parallel: this process's group (null: one process). Each rank trains its shard of every
    // epoch with its own masks; weights start from rank 0's, gradients are averaged; only rank 0
    // writes logs and checkpoints. Stopping is agreed by all ranks after each step.
    std::shared_ptr<ProcessGroup> group;
};

struct TrainStart {
    std::int64_t firstIteration = 0;      // 0, or where a resumed run continues
    std::int64_t totalIterations = 0;     // where this run will stop
    std::int64_t iterationsPerEpoch = 0;
    int epochs = 0;
    std::string resumedFrom;              // checkpoint path, empty for a fresh run
};

struct StepReport {
    std::int64_t iteration = 0;           // global, from 1 after the first step
    std::int64_t totalIterations = 0;
    std::int64_t epoch = 0;               // from 1
    std::int64_t stepInEpoch = 0;         // from 1
    std::int64_t iterationsPerEpoch = 0;
    double loss = 0, lr = 0, weightDecay = 0, momentum = 0;
    std::int64_t contextSize = 0, targetSize = 0;
    double imagesPerSecond = 0;           // over the last steps (data waits included)
    double etaSeconds = 0;
    double stepMs = 0;
    double rankMe = std::numeric_limits<double>::quiet_NaN();     // NaN on steps without diagnostics
    double featureStd = std::numeric_limits<double>::quiet_NaN();
    double gpuMemoryMb = std::numeric_limits<double>::quiet_NaN();     // CUDA: allocated now (NaN on CPU)
    double gpuPeakMemoryMb = std::numeric_limits<double>::quiet_NaN(); // CUDA: peak so far
};

enum class TrainStatus { Finished, MaxSteps, Stopped, Diverged };

struct TrainResult {
    TrainStatus status = TrainStatus::Finished;
    std::int64_t iteration = 0;           // global iterations done
    double loss = 0;                      // last finite loss
    std::string checkpoint;               // last checkpoint written ("" if none)
    double imagesPerSecond = 0;           // mean over the run, the first two steps excluded
    std::int64_t skippedFiles = 0;
};

// Receives the trainer's progress on the training thread; implementations must return quickly.
class TrainObserver {
public:
    virtual ~TrainObserver() = default;
    virtual void started(const TrainStart&) {}
    virtual void stepDone(const StepReport&) {}
    virtual void message(const std::string&) {} // one line for the log: skipped files, checkpoints, resume
    // The batch just trained (normalised images and masks), before stepDone; copy what you keep.
    virtual void batchTrained(const Batch&) {}
    // Asked after every step; when true, `encoder` receives the target encoder (e.g. to clone a
    // snapshot of the weights for an embedding browser) before the next step starts.
    virtual bool wantsEncoder() { return false; }
    virtual void encoder(const VisionTransformer&) {}
};

// Runs I-JEPA pretraining: data loading with masks, the training step, schedules, CSV log
// (<tag>_r0.csv), TensorBoard events (<outDir>/tb), checkpoints (<tag>-latest.pth.tar). Setting
// `stop` ends the run after the current step with a checkpoint. A non-finite loss ends it without
// one (the last good checkpoint stays). All randomness after initialisation is a function of
// (meta.seed, iteration), so a resumed run continues exactly as if it had not stopped.
// Throws Error subclasses for bad data, config or checkpoints, before training starts.
TrainResult train(const TrainerOptions& options, TrainObserver& observer, const std::atomic_bool& stop);

// <outDir>/<write_tag>-latest.pth.tar
std::string latestCheckpointPath(const std::string& outDir, const Config& config);

} // namespace ijepa
