#pragma once

#include "core/config.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace ijepa {

// One row of a run's CSV log, with the global step and the wall time so far.
struct RunPoint {
    static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
    std::int64_t step = 0;  // global, from 1
    double epoch = 0;       // fractional: step / iterations per epoch
    double wallSeconds = 0; // sum of the step times up to this row
    double loss = kNone, lr = kNone, weightDecay = kNone, momentum = kNone, imagesPerSecond = kNone;
    double rankMe = kNone, featureStd = kNone, probe = kNone;
    double jepaLoss = kNone, sigregStat = kNone; // the loss's JEPA part; the label-free SIGReg statistic
};

enum class RunState { Running, Stopped, Finished, Diverged, Unknown };
const char* runStateName(RunState state);

// What the files of a run folder say (ijepa train's and the workbench's, or the reference's
// params-ijepa.yaml + <tag>_r0.csv + <tag>-latest.pth.tar), read without writing anything. A
// broken or missing part is a line in `problems`; the rest stays usable.
struct RunRecord {
    std::string folder;
    std::string name;                // run.json's name, else the folder's
    std::optional<Config> config;    // params-ijepa.yaml
    std::string data;                // the data the run trained on (run.json), else the config's folder
    std::string model;               // e.g. "vit_tiny 192x6, predictor 96x4"
    std::int64_t iterationsPerEpoch = 0;
    std::int64_t stepsDone = 0;
    std::int64_t stepsPlanned = 0;   // epochs x iterations per epoch (0: unknown)
    double lastLoss = RunPoint::kNone;
    double lastProbe = RunPoint::kNone;
    double finalKnn = RunPoint::kNone; // the end-of-run k-NN (ijepa eval knn on the whole split, or a sweep's evaluation), when run
    double wallSeconds = 0;
    RunState state = RunState::Unknown;
    std::string parent;              // the checkpoint a branched run started from
    std::int64_t branchStep = -1;    // and its step
    std::vector<std::string> checkpoints; // <tag>-latest and snapshots, newest first
    std::vector<std::string> steered; // keys changed while it trained, once applySteering put their latest values in config
    std::vector<RunPoint> points;
    std::vector<std::string> problems;
};

RunRecord readRunFolder(const std::string& dir);

// A run's headline accuracy: the end-of-run k-NN when it was run, else the last online probe.
inline double headlineKnn(const RunRecord& r) { return r.finalKnn == r.finalKnn ? r.finalKnn : r.lastProbe; }

// Run folders (holding a params-ijepa.yaml or a *_r0.csv) at `root` or below it, up to `depth`
// levels, sorted. A missing root gives none.
std::vector<std::string> findRunFolders(const std::string& root, int depth = 3);

// The run folder's writer (its .ijepa.lock) is alive: read from /proc/locks, without touching the
// lock itself.
bool runFolderLocked(const std::string& dir);

// The run's metadata file (run.json) that ijepa train writes and readRunFolder reads: the data, the
// iterations per epoch, the status, a branch's parent. Written atomically.
struct RunMeta {
    static constexpr int kVersion = 1;
    int version = kVersion;
    std::string data;
    std::int64_t iterationsPerEpoch = 0;
    std::int64_t scheduleIterations = 0;
    std::string status = "running"; // running, stopped, finished, max-steps, diverged
    std::string parent;
    std::int64_t branchStep = -1;
    std::string precision; // the training step's number format and why (core/train/precision.h)
    std::string name;      // a name a person gave the run (or that describes it); "" for the folder's
    double finalKnn = std::numeric_limits<double>::quiet_NaN(); // the end-of-run k-NN top-1 (0..1), when run
};
void writeRunMeta(const std::string& dir, const RunMeta& meta);
// Gives a finished or stopped run a name (run.json); throws Error naming the folder for a live run
// (its writer rewrites run.json) or a folder without run.json (the reference's: nowhere to keep it).
void renameRun(const std::string& dir, const std::string& name);
std::optional<RunMeta> readRunMeta(const std::string& dir, std::string* problem);

// Keys whose values differ between two configs, in schema order: section.key, value a, value b.
struct ConfigDifference {
    std::string key, a, b;
};
std::vector<ConfigDifference> configDifferences(const Config& a, const Config& b);
// What `c` changes against `base`, in words for a run's name: "lr=0.002 batch_size=64" (the keys
// without their section where that is unambiguous), at most `most` of them and "+N more"; "" if none.
std::string describeDifferences(const Config& base, const Config& c, int most = 3);
// A run's name from run.json alone (its CSV unread): the name given, else the folder's.
std::string runName(const std::string& dir);
// A branch's name: its parent run's name, the step it starts from and what it changes
// ("fm-base @400 lr=0.002").
std::string branchName(const std::string& parentName, std::int64_t step, const Config& parent, const Config& c);

} // namespace ijepa
