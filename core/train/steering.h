#pragma once

#include "core/config.h"
#include "core/runs/run_folder.h"

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace ijepa {

// A change of run settings, effective from iteration `step` (0-based: the first iteration trained
// with it). Taken while a run is paused (the workbench) or replayed from a run's history.
struct SettingsChange {
    std::int64_t step = 0;
    std::vector<std::string> assignments; // "section.key=value", in the order given
};

// Settings that may change in a running run: the learning rate and its ends, weight decay and its
// final value, the EMA momentum range, the total epochs, the diagnostics cadence.
const std::vector<std::string>& steerableKeys();
// Throws ConfigError naming the key for an assignment that may not change mid-run or does not parse.
void checkSteerable(const std::vector<std::string>& assignments);
// Applies a change's config keys (diagnostics.every is a run setting, not a config key: skipped)
// and validates the result (ConfigError naming the key).
void applyChange(Config& config, const SettingsChange& change);
// The diagnostics cadence a change sets, or -1 when it sets none.
std::int64_t diagnosticsEveryOf(const SettingsChange& change);
std::string describeChange(const SettingsChange& change); // "optimization.lr=0.002; ..."

// A run's history of changes, <run folder>/config_history.jsonl, one change a line:
// {"step": N, "set": ["optimization.lr=0.002", ...]}. A missing file is an empty history; a broken
// line is a ConfigError naming the file and line.
std::string configHistoryPath(const std::string& runDir);
std::vector<SettingsChange> readConfigHistory(const std::string& path);
void appendConfigHistory(const std::string& path, const SettingsChange& change);

// A run read back (core/runs) as it trains now: the changes of its history applied to its config
// (params-ijepa.yaml holds the settings it started with), their keys in run.steered. A history that
// cannot be read or applied is one more of the run's problems; the config stays as it started.
void applySteering(RunRecord& run);

// Changes asked for from another thread (the workbench, while paused); the loop takes them before
// its next step.
class SteeringQueue {
public:
    void request(const std::vector<std::string>& assignments); // checked first (ConfigError)
    std::vector<std::string> take();                            // all pending, in order
private:
    std::mutex m_mutex;
    std::vector<std::string> m_pending;
};

} // namespace ijepa
