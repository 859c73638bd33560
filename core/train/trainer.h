#pragma once

#include "core/config.h"
#include "core/data/image_source.h"
#include "core/train/observer.h"
#include "core/train/steering.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace ijepa {

class ProcessGroup;

// What the loop itself needs. The settings of what watches a run (logs, checkpoints,
// diagnostics) are in core/train/run.h.
struct TrainerOptions {
    Config config;                              // validated; logging.folder is replaced by outDir
    std::shared_ptr<const ImageSource> data;    // training images
    std::string outDir;                         // logs and checkpoints (empty: config.logging.folder)
    std::string device = "cpu";                 // cpu, cuda or cuda:N
    int threads = 0;                            // LibTorch intra-op threads (0: every logical CPU)
    bool resume = false;                        // continue from <outDir>/<tag>-latest.pth.tar
    bool resumeIfAny = false;                   // the same when it exists, else a fresh run (a re-runnable command line)
    std::string resumeFrom;                     // continue from this checkpoint (the reference's too)
    // Start a new run from exported weights (encoder_export.h: .safetensors or a Hugging Face
    // folder): encoder and target encoder from the file, the predictor too when it holds one.
    std::string initFrom;
    std::int64_t maxSteps = 0;                  // stop after this global iteration (0: run every epoch)
    // Data parallel: this process's group (null: one process). Each rank trains its shard of every
    // epoch with its own masks; weights start from rank 0's, gradients are averaged; only rank 0
    // writes (TrainStart::writer). Stopping is agreed by all ranks after each step.
    std::shared_ptr<ProcessGroup> group;
    // Settings changes applied at their steps (a run re-run from another run's history); a run that
    // resumes in its own folder also replays that folder's config_history.jsonl.
    std::vector<SettingsChange> replay;
    // Changes asked for while the run is paused (the workbench); taken before the next step.
    std::shared_ptr<SteeringQueue> steering;
};

// The I-JEPA pretraining loop: data loading with masks, the training step, schedules, stop and
// divergence; everything else (CSV and TensorBoard, checkpoints, diagnostics, progress) is an
// observer. Setting `stop` ends the run after the current step (the checkpointer then writes). A
// non-finite loss ends it without a step report. All randomness after initialisation is a function
// of (meta.seed, iteration), so a resumed run continues exactly as if it had not stopped.
// Throws Error subclasses for bad data, config or checkpoints, before training starts.
TrainResult train(const TrainerOptions& options, TrainObserver& observer, const std::atomic_bool& stop);

// <outDir>/<write_tag>-latest.pth.tar
std::string latestCheckpointPath(const std::string& outDir, const Config& config);

} // namespace ijepa
