#pragma once

#include "core/config.h"

#include <CLI/CLI.hpp>

#include <csignal>
#include <functional>
#include <sys/types.h>
#include <string>
#include <vector>

namespace ijepa::cli {

// Options every command that reads a config shares: the YAML file and key=value overrides.
struct ConfigOptions {
    std::string path;                   // --config; empty: built-in defaults
    std::vector<std::string> overrides; // section.key=value
    Config load() const;
};
void addConfigOptions(CLI::App& cmd, ConfigOptions& options, bool required);

// Each adds a subcommand whose callback runs it; a command that ends with a code other than 0 sets
// `exitCode`, errors propagate as ijepa::Error to main (exit 2).
void addInfoCommand(CLI::App& app);
void addMasksCommand(CLI::App& app);
void addVizCommand(CLI::App& app);     // viz attention, viz predictor
void addBenchCommand(CLI::App& app);
void addTrainCommand(CLI::App& app);
void addEvalCommands(CLI::App& app);    // embed, eval knn, eval linear
void addExportCommand(CLI::App& app);
void addConfigCommand(CLI::App& app);   // config show, config keys
void addIndexBench(CLI::App& bench);     // bench index
void addDataBench(CLI::App& bench);      // bench data

// The signals that stop a run after its current step, with a checkpoint (exit 130): Ctrl-C, kill,
// a closed terminal (SIGHUP), a scheduler's warning or time limit (SIGUSR1/2 as Slurm's --signal,
// SIGXCPU at a CPU-time limit). A second one ends the process at once.
inline constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGXCPU};

// --threads: at most this many (more would only wait on each other; thousands hang LibTorch's pool).
inline constexpr int kMaxThreads = 256;
// Image counts (--limit...: 0 means all) and step counts (--max-steps, --checkpoint-every...): the
// ranges every such option is checked against at parse time (and shows in --help).
inline const CLI::Range kCountRange{std::int64_t{0}, std::int64_t{1'000'000'000}};
inline const CLI::Range kStepRange{std::int64_t{0}, std::int64_t{1'000'000'000'000}};
// Where a command writes: an output file (a non-empty name, not a folder, in a folder that exists)
// or an output folder (created when missing; a non-empty name that is not a file). Checked at parse
// time, so no write fails late with a confusing message.
extern const CLI::Validator kOutputFile;
extern const CLI::Validator kOutputFolder;
extern const CLI::Validator kOutputPath; // a file or a folder: a non-empty name whose folder exists
// IJEPA_PARSE_ONLY=1 (the docs test): `app` and its subcommands parse a command line against their
// options and value ranges, but run nothing and leave files unchecked (a shown CHECKPOINT may not exist).
void parseOnly(CLI::App& app);
// `threads`, or every logical CPU for 0.
int threadsOrAll(int threads);

// The command line this process was started with (for --nproc, which re-runs it per rank).
inline std::vector<std::string> programArgs;
// Runs `args` (a command line of this program) as `nproc` local ranks under torchrun's variables,
// forwards SIGINT/SIGTERM, ends the others when one fails; returns the exit code.
int launchLocalRanks(int nproc, const std::vector<std::string>& args);
// Starts this program with `args` (without argv[0]) as a child; `inChild` runs in the child before
// exec (environment, process group, output). Stop signals are reset to their defaults there.
pid_t startSelf(const std::vector<std::string>& args, const std::function<void()>& inChild = {});
// A child's waitpid status in words: "exited with code 2", "was killed by signal 9 (Killed)".
std::string describeExitStatus(int status);
void addSweepCommand(CLI::App& app);    // sweep: settings x seeds, halving, a results table

// The process exit code a command asks for (0 unless it sets one; errors exit with 2).
inline int exitCode = 0;

} // namespace ijepa::cli
