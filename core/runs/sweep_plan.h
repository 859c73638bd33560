#pragma once

#include "core/config.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ijepa {

// A sweep (ijepa sweep): settings x seeds, each trial an ordinary run folder under the sweep's
// folder, the plan kept in <sweep>/sweep.json so a killed sweep continues and --collect reads it.

// One swept key: a grid's values ("optimization.lr=1e-4,3e-4,1e-3"; a comma inside [...] belongs
// to the value) or, for --random, a range ("optimization.lr=1e-4:3e-3:log", "data.batch_size=32:128").
struct SweepAxis {
    std::string key;
    std::vector<std::string> values; // grid values (one: the key is fixed for every trial)
    bool range = false;
    double lo = 0, hi = 0;
    bool log = false;
};
// Throws ConfigError naming the argument for a missing '=', an unknown key, an empty value or a
// range whose bounds are not numbers (or not positive on a log scale).
SweepAxis parseSweepAxis(const std::string& arg);

// A setting: one value per swept key, in the order the keys were given.
using SweepSetting = std::vector<std::pair<std::string, std::string>>;

// Every combination of the axes' values, the first key slowest. A range axis is an error (--random).
std::vector<SweepSetting> gridSettings(const std::vector<SweepAxis>& axes);
// `count` settings drawn with `seed`: a range uniformly (log-uniformly with :log; integer keys
// rounded), a grid axis one of its values. The same seed draws the same settings.
std::vector<SweepSetting> randomSettings(const std::vector<SweepAxis>& axes, int count, std::uint64_t seed);

// "lr=0.001 batch_size=64": the keys without their section where no two swept keys share a name.
std::string settingLabel(const SweepSetting& setting);
// "optimization.lr=0.001" for each key: what ijepa train takes.
std::vector<std::string> settingOverrides(const SweepSetting& setting);

struct SweepTrial {
    int setting = 0;
    std::int64_t seed = 0;
    std::string folder; // relative to the sweep folder: "s01-lr=0.001-seed0"
};

struct SweepPlan {
    static constexpr int kVersion = 1;
    std::string config;              // the YAML file every trial starts from (absolute)
    std::vector<std::string> fixed;  // key=value overrides of every trial
    std::string data = "fashion-mnist";
    std::int64_t limit = 0;          // ijepa train --limit
    std::int64_t steps = 0;          // budget in steps (halving: the last rung's), or
    double minutes = 0;              // in minutes of training per trial
    std::vector<std::int64_t> seeds; // meta.seed of each trial of a setting
    std::vector<SweepSetting> settings;
    int baseline = -1;               // the setting the others are compared with (-1: none)
    bool halving = false;
    std::string criterion = "rankme"; // loss, rankme or sigreg (core/runs/sweep_results.h)
    int eta = 2;                     // halving keeps 1/eta of the settings at each rung
    std::int64_t diagnosticsEvery = 0; // ijepa train --diagnostics-every (and --checkpoint-every)

    std::vector<SweepTrial> trials() const; // setting-major, seeds inner
    // The budgets of the halving rungs, smallest first, the last = steps (one rung without halving).
    std::vector<std::int64_t> rungs() const;
};

// The `ijepa train` arguments of a trial (without the program), to run `steps` steps (0: the
// plan's budget; a minutes budget is ended from outside). --resume-if-any makes the same line
// continue the trial after a kill. `threads` 0: every logical CPU.
std::vector<std::string> trialTrainArgs(const SweepPlan& plan, const SweepTrial& trial, const std::string& sweepDir,
                                        std::int64_t steps, int threads);

// <sweep>/sweep.json: written atomically; read back with every field checked (ConfigError naming
// the file and field). `samePlan` says what differs between two plans ("" when none), so a rerun
// with other settings into the same folder is refused instead of mixing two sweeps.
void writeSweepPlan(const std::string& sweepDir, const SweepPlan& plan);
SweepPlan readSweepPlan(const std::string& sweepDir);
std::string planDifference(const SweepPlan& a, const SweepPlan& b);

// Shell-quoted, for --print-commands: one line a scheduler can run (and run again).
std::string shellQuote(const std::vector<std::string>& args);

} // namespace ijepa
