#pragma once

// A run as ijepa train and the workbench start it: every setting in one place (the CLI binds its
// flags to these fields, the workbench starts from the same defaults) and the observers that
// watch a run.

#include "core/train/checkpointer.h"
#include "core/train/diagnostics.h"
#include "core/train/health.h"
#include "core/train/predictor_map.h"
#include "core/train/run_log.h"
#include "core/train/trainer.h"

#include <atomic>
#include <memory>
#include <vector>

namespace ijepa {

struct RunSettings {
    TrainerOptions trainer;
    RunLogOptions log;
    CheckpointOptions checkpoints;
    DiagnosticsOptions diagnostics;
    PredictorMapOptions predictorMap;
    HealthOptions health;
};

// The observers every run attaches, in order: the probe and the predictor's loss map (they fill
// the report the others read), the health verdict (reads them), the run log, the checkpointer.
std::vector<std::unique_ptr<TrainObserver>> standardObservers(const RunSettings& settings);

// train() with the standard observers followed by `observer` (a progress bar, the workbench's worker).
TrainResult runTraining(const RunSettings& settings, TrainObserver& observer, const std::atomic_bool& stop);

} // namespace ijepa
