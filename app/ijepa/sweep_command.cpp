// ijepa sweep: which settings work on my data. A grid (or --random draws) of settings x seeds,
// each trial an ordinary run folder trained by a child `ijepa train`, evaluated with labels by
// `ijepa eval knn` (and linear), summed up in SWEEP/results.tsv; --halving gives more steps to the
// settings a label-free criterion ranks best.
#include "app/ijepa/commands.h"

#include "core/errors.h"
#include "core/imageio/data_spec.h"
#include "core/runs/sweep_results.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace ijepa::cli {
namespace {

struct SweepOptions {
    ConfigOptions config; // its overrides are the swept keys (one value: fixed for every trial)
    std::string data = "fashion-mnist";
    std::string budget;
    int seeds = 2;
    std::int64_t firstSeed = 0;
    std::string out;
    int random = 0;
    std::uint64_t drawSeed = 0;
    int parallel = 1;
    int threads = 0;
    bool printCommands = false;
    std::string collect;
    std::string baseline; // "key=value [key2=value2]"
    bool halving = false;
    std::string criterion = "rankme";
    int eta = 2;
    std::int64_t limit = 0;
    std::int64_t diagnosticsEvery = 0;
    std::int64_t evalTrain = 20000, evalTest = 10000;
    bool linear = false;
};

volatile std::sig_atomic_t g_stop = 0;
extern "C" void onSweepSignal(int sig) { g_stop = sig; }

// A child of the sweep: a train or an eval, its output in a log file.
struct Job {
    std::vector<std::string> args;
    std::string log;
    std::string what;       // for the progress lines
    double seconds = 0;     // stop it (SIGINT, a checkpoint) after this long; 0: no limit
    std::function<void(int status, bool timedOut)> done;
};

// Runs the jobs, `parallel` at a time, each in its own process group (a Ctrl-C reaches the sweep
// only, which stops every child once, so each writes its checkpoint). False when stopped.
bool runJobs(std::vector<Job> jobs, int parallel)
{
    struct Running {
        pid_t pid;
        size_t job;
        std::chrono::steady_clock::time_point started;
        bool interrupted = false;
    };
    std::vector<Running> running;
    size_t next = 0, finished = 0;
    const auto t0 = std::chrono::steady_clock::now();
    bool forwarded = false;
    while (!running.empty() || (!g_stop && next < jobs.size())) {
        if (g_stop && !forwarded) {
            for (auto& r : running)
                ::kill(r.pid, SIGINT);
            forwarded = true;
            std::cerr << "sweep: stopping: each running trial writes its checkpoint; the same command continues\n";
        }
        while (!g_stop && next < jobs.size() && static_cast<int>(running.size()) < parallel) {
            const Job& j = jobs[next];
            const std::string log = j.log;
            const pid_t pid = startSelf(j.args, [log] {
                ::setpgid(0, 0);
                ::prctl(PR_SET_PDEATHSIG, SIGINT); // a killed sweep stops its trials at a checkpoint
                const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (fd >= 0) {
                    ::dup2(fd, 1);
                    ::dup2(fd, 2);
                    ::close(fd);
                }
            });
            running.push_back({pid, next, std::chrono::steady_clock::now()});
            std::cerr << "sweep: [" << next + 1 << "/" << jobs.size() << "] " << j.what << "\n";
            ++next;
        }
        for (auto& r : running)
            if (jobs[r.job].seconds > 0 && !r.interrupted &&
                std::chrono::steady_clock::now() - r.started > std::chrono::duration<double>(jobs[r.job].seconds)) {
                ::kill(r.pid, SIGINT);
                r.interrupted = true;
            }
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            continue;
        }
        const auto it = std::find_if(running.begin(), running.end(), [pid](const Running& r) { return r.pid == pid; });
        if (it == running.end())
            continue;
        const Running r = *it;
        running.erase(it);
        ++finished;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const size_t left = jobs.size() - finished;
        std::cerr << "sweep: " << finished << " of " << jobs.size() << " done";
        if (left > 0 && !g_stop)
            std::cerr << ", about " << std::lround(elapsed / static_cast<double>(finished) * static_cast<double>(left) / 60.0)
                      << " min left";
        std::cerr << "\n";
        if (jobs[r.job].done)
            jobs[r.job].done(status, r.interrupted && !forwarded);
    }
    return !g_stop;
}

std::string trialDir(const std::string& sweep, const SweepTrial& t) { return (fs::path(sweep) / t.folder).string(); }
std::string logPath(const std::string& sweep, const SweepTrial& t, const char* kind)
{
    return (fs::path(sweep) / "logs" / (t.folder + "." + kind + ".log")).string();
}

// A minutes budget is spent once the sweep stopped the trial at its time (or it finished).
const char* kBudgetSpent = "sweep-budget-spent";

bool trialDone(const SweepPlan& plan, const std::string& dir, const RunRecord& run, std::int64_t steps)
{
    // "finished" also means "reached its --max-steps", which a halving rung's trial did: only its
    // steps or the end of its epochs say whether it has done this rung.
    const bool epochsDone = run.stepsPlanned > 0 && run.stepsDone >= run.stepsPlanned;
    if (run.state == RunState::Diverged || epochsDone)
        return true;
    if (plan.minutes > 0)
        return fs::exists(fs::path(dir) / kBudgetSpent);
    return run.stepsDone >= steps;
}

// Each of the `--parallel` trials at a time gets its share of the threads.
int threadsPerJob(const SweepOptions& o) { return std::max(1, threadsOrAll(o.threads) / std::max(1, o.parallel)); }

// Trains every trial of `settings` up to `steps` (the plan's minutes instead, when it has them).
bool trainTrials(const SweepPlan& plan, const std::string& sweep, const std::vector<int>& settings, std::int64_t steps,
                 const SweepOptions& o, int* failures)
{
    std::vector<Job> jobs;
    const int threads = threadsPerJob(o);
    for (const auto& t : plan.trials()) {
        if (std::find(settings.begin(), settings.end(), t.setting) == settings.end())
            continue;
        const std::string dir = trialDir(sweep, t);
        const RunRecord run = readRunFolder(dir);
        if (trialDone(plan, dir, run, steps))
            continue;
        Job j;
        j.args = trialTrainArgs(plan, t, sweep, steps, threads);
        j.log = logPath(sweep, t, "train");
        j.what = "train " + t.folder + (run.stepsDone > 0 ? " (from step " + std::to_string(run.stepsDone) + ")" : "");
        if (plan.minutes > 0) // what is left of its minutes, and a little for start-up
            j.seconds = std::max(1.0, plan.minutes * 60.0 - (run.points.empty() ? 0.0 : run.points.back().wallSeconds)) + 5.0;
        j.done = [dir, log = j.log, what = t.folder, failures](int status, bool timedOut) {
            const bool ok = WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 130 || WEXITSTATUS(status) == 4);
            if (timedOut && ok)
                std::ofstream(fs::path(dir) / kBudgetSpent) << "stopped at its time budget\n";
            if (!ok) {
                ++*failures;
                std::cerr << "sweep: " << what << " failed (" << describeExitStatus(status) << "); see " << log << "\n";
            }
        };
        jobs.push_back(std::move(j));
    }
    return runJobs(std::move(jobs), o.parallel);
}

double parsePercent(const std::string& log, const std::string& prefix)
{
    std::ifstream in(log);
    double last = TrialSignals::kNone;
    const std::regex re(prefix + R"(.*top-1 ([0-9.]+)%)");
    std::smatch m;
    for (std::string line; std::getline(in, line);)
        if (std::regex_search(line, m, re))
            last = std::stod(m[1]) / 100.0;
    return last;
}

// k-NN (and linear) of every trial whose last checkpoint has not been measured, when the data has labels.
bool evaluateTrials(const SweepPlan& plan, const std::string& sweep, const SweepOptions& o, int* failures)
{
    const bool fmnist = plan.data.rfind("fashion-mnist", 0) == 0;
    if (!fmnist && openDataSpec(plan.data).named->classes().empty())
        return true; // no labels: the label-free signals only
    std::vector<std::string> split = fmnist ? std::vector<std::string>{"--train", "fashion-mnist", "--test", "fashion-mnist:test"}
                                            : std::vector<std::string>{"--train", plan.data, "--split", "0.8"};
    split.insert(split.end(), {"--limit-train", std::to_string(o.evalTrain), "--limit-test", std::to_string(o.evalTest)});
    std::vector<Job> jobs;
    const int threads = threadsPerJob(o);
    for (const auto& t : plan.trials()) {
        const std::string dir = trialDir(sweep, t);
        const RunRecord run = readRunFolder(dir);
        if (run.checkpoints.empty() || readTrialEval(dir).step == run.stepsDone)
            continue;
        for (const char* kind : {"knn", "linear"}) {
            if (std::string(kind) == "linear" && !o.linear)
                continue;
            Job j;
            j.args = {"eval", kind, "--checkpoint", run.checkpoints.front(), "-q", "--threads", std::to_string(threads)};
            j.args.insert(j.args.end(), split.begin(), split.end());
            j.log = logPath(sweep, t, kind);
            fs::remove(j.log);
            j.what = std::string("eval ") + kind + " " + t.folder;
            j.done = [dir, log = j.log, kind = std::string(kind), step = run.stepsDone, failures, what = j.what](int status, bool) {
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    ++*failures;
                    std::cerr << "sweep: " << what << " failed (" << describeExitStatus(status) << "); see " << log << "\n";
                    return;
                }
                TrialEval e = readTrialEval(dir);
                if (e.step != step)
                    e = TrialEval{step};
                (kind == "knn" ? e.knn : e.linear) = parsePercent(log, kind + ":");
                writeTrialEval(dir, e);
            };
            jobs.push_back(std::move(j));
        }
    }
    return runJobs(std::move(jobs), o.parallel);
}

std::vector<TrialOutcome> outcomes(const SweepPlan& plan, const std::string& sweep)
{
    std::vector<TrialOutcome> out;
    for (const auto& t : plan.trials()) {
        const std::string dir = trialDir(sweep, t);
        TrialOutcome o{t, {}, {}, "not started"};
        if (fs::exists(dir)) {
            const RunRecord run = readRunFolder(dir);
            o.signals = trialSignals(run);
            o.state = runStateName(run.state);
            const TrialEval e = readTrialEval(dir);
            if (e.step == run.stepsDone)
                o.eval = e;
        }
        out.push_back(std::move(o));
    }
    return out;
}

// Scores the settings at one rung: the criterion's mean over their seeds at `steps`.
std::vector<std::pair<int, double>> rungScores(const SweepPlan& plan, const std::string& sweep, const std::vector<int>& alive,
                                               std::int64_t steps)
{
    const SweepCriterion c = parseCriterion(plan.criterion);
    std::vector<std::pair<int, double>> scores;
    for (int s : alive) {
        std::vector<double> values;
        for (const auto& t : plan.trials())
            if (t.setting == s)
                values.push_back(trialSignals(readRunFolder(trialDir(sweep, t)), steps).value(c));
        scores.emplace_back(s, meanSd(values).mean);
    }
    return scores;
}

std::string formatScore(double v) { return std::isnan(v) ? "-" : (std::ostringstream() << v).str(); }

int parseBaseline(const SweepOptions& o, const std::vector<SweepSetting>& settings)
{
    std::vector<std::string> wanted;
    std::istringstream words(o.baseline);
    for (std::string w; words >> w;)
        wanted.push_back(w);
    if (wanted.empty())
        return -1;
    std::vector<int> matches;
    for (size_t s = 0; s < settings.size(); ++s) {
        bool all = true;
        for (const auto& want : wanted) {
            const auto eq = want.find('=');
            const std::string key = want.substr(0, eq), value = eq == std::string::npos ? "" : want.substr(eq + 1);
            bool found = false;
            for (const auto& [k, v] : settings[s])
                found = found || (k == key && (v == value || (std::strtod(v.c_str(), nullptr) == std::strtod(value.c_str(), nullptr) &&
                                                              !value.empty() && std::isdigit(static_cast<unsigned char>(value.back())))));
            all = all && found;
        }
        if (all)
            matches.push_back(static_cast<int>(s));
    }
    if (matches.size() != 1)
        throw ConfigError("--baseline " + o.baseline + ": matches " + std::to_string(matches.size()) +
                          " of the sweep's settings (name one setting by its swept keys)");
    return matches.front();
}

SweepPlan buildPlan(const SweepOptions& o)
{
    SweepPlan p;
    p.config = o.config.path.empty() ? "" : fs::absolute(o.config.path).string();
    p.data = o.data;
    p.limit = o.limit;
    if (o.budget.empty())
        throw ConfigError("--budget: give steps (400) or minutes (10m)");
    try {
        const bool minutes = o.budget.back() == 'm';
        const std::string number = minutes ? o.budget.substr(0, o.budget.size() - 1) : o.budget;
        size_t used = 0;
        if (minutes)
            p.minutes = std::stod(number, &used);
        else
            p.steps = std::stoll(number, &used);
        if (used != number.size())
            throw ConfigError("");
    } catch (const std::exception&) {
        throw ConfigError("--budget " + o.budget + ": steps (400) or minutes (10m)");
    }
    if (p.steps <= 0 && !(p.minutes > 0))
        throw ConfigError("--budget " + o.budget + ": above 0");
    if (o.halving && p.minutes > 0)
        throw ConfigError("--halving: give --budget in steps (the rungs are step counts)");
    for (int i = 0; i < o.seeds; ++i)
        p.seeds.push_back(o.firstSeed + i);
    std::vector<SweepAxis> axes;
    for (const auto& a : o.config.overrides) {
        SweepAxis axis = parseSweepAxis(a);
        if (!axis.range && axis.values.size() == 1)
            p.fixed.push_back(a); // one value: the same for every trial
        else
            axes.push_back(std::move(axis));
    }
    p.settings = o.random > 0 ? randomSettings(axes, o.random, o.drawSeed) : gridSettings(axes);
    {
        Config base = ConfigOptions{o.config.path, p.fixed}.load(); // every setting must be one train accepts
        for (const auto& s : p.settings) {
            Config c = base;
            for (const auto& kv : settingOverrides(s))
                applyOverride(c, kv);
            validateConfig(c);
        }
    }
    p.baseline = parseBaseline(o, p.settings);
    p.halving = o.halving;
    p.criterion = criterionName(parseCriterion(o.criterion));
    p.eta = o.eta;
    const std::int64_t first = p.minutes > 0 ? 0 : p.rungs().front();
    p.diagnosticsEvery = o.diagnosticsEvery > 0 ? o.diagnosticsEvery : first > 0 ? std::max<std::int64_t>(1, first / 4) : 50;
    return p;
}

void printTable(const SweepPlan& plan, const std::string& sweep, const std::string& chosen)
{
    SweepTable table = summariseSweep(plan, outcomes(plan, sweep));
    table.chosen = chosen;
    const std::string tsv = (fs::path(sweep) / "results.tsv").string();
    writeResultsTsv(tsv, table);
    std::cout << formatSweepTable(table) << "results: " << tsv << "\n";
}

void runSweep(const SweepOptions& o)
{
    if (!o.collect.empty()) {
        const SweepPlan plan = readSweepPlan(o.collect);
        int failures = 0;
        for (const int sig : kStopSignals)
            std::signal(sig, onSweepSignal);
        if (!evaluateTrials(plan, o.collect, o, &failures))
            return void(exitCode = 130);
        printTable(plan, o.collect, "");
        return;
    }
    if (o.out.empty())
        throw ConfigError("--out: the sweep's folder (or --collect SWEEP)");
    const SweepPlan plan = buildPlan(o);
    fs::create_directories(fs::path(o.out) / "logs");
    if (fs::exists(fs::path(o.out) / "sweep.json")) {
        const std::string diff = planDifference(readSweepPlan(o.out), plan);
        if (!diff.empty())
            throw ConfigError(o.out + " holds another sweep (" + diff + " differ): give another --out, or the same "
                              "command to continue it");
        std::cerr << "sweep: continuing the sweep in " << o.out << "\n";
    } else {
        writeSweepPlan(o.out, plan);
    }
    if (o.printCommands) {
        if (plan.halving)
            throw ConfigError("--print-commands: a halving sweep decides between rungs; run it with ijepa sweep");
        for (const auto& t : plan.trials())
            std::cout << shellQuote([&] {
                auto a = trialTrainArgs(plan, t, o.out, 0, o.threads);
                a.insert(a.begin(), "ijepa");
                return a;
            }()) << "\n";
        std::cerr << "sweep: then ijepa sweep --collect " << o.out << " evaluates the trials and writes the table\n";
        return;
    }
    for (const int sig : kStopSignals)
        std::signal(sig, onSweepSignal);
    std::cerr << "sweep: " << plan.settings.size() << " settings x " << plan.seeds.size() << " seeds in " << o.out
              << " (logs in " << (fs::path(o.out) / "logs").string() << ")\n";
    int failures = 0;
    std::vector<int> alive(plan.settings.size());
    std::iota(alive.begin(), alive.end(), 0);
    std::string chosen, why;
    const auto rungs = plan.rungs();
    for (size_t r = 0; r < rungs.size(); ++r) {
        if (!trainTrials(plan, o.out, alive, rungs[r], o, &failures))
            return void(exitCode = 130);
        if (!plan.halving)
            continue;
        const auto scores = rungScores(plan, o.out, alive, rungs[r]);
        const SweepCriterion c = parseCriterion(plan.criterion);
        const auto kept = r + 1 < rungs.size() ? halvingSurvivors(scores, plan.eta, c) : halvingSurvivors(scores, 1 << 30, c);
        std::ostringstream line;
        line << "rung " << r + 1 << " at " << rungs[r] << " steps, " << plan.criterion << " ("
             << (higherIsBetter(c) ? "higher" : "lower") << " is better):";
        for (const auto& [s, v] : scores)
            line << " " << settingLabel(plan.settings[static_cast<size_t>(s)]) << " " << formatScore(v) << ";";
        std::cerr << "sweep: " << line.str() << "\n";
        why += "\n  " + line.str();
        if (r + 1 == rungs.size())
            chosen = "chosen: " + settingLabel(plan.settings[static_cast<size_t>(kept.front())]) + ", the best " +
                     plan.criterion + " of the settings left at the full " + std::to_string(rungs[r]) + " steps; the rungs:" + why;
        alive = kept;
    }
    if (!evaluateTrials(plan, o.out, o, &failures))
        return void(exitCode = 130);
    printTable(plan, o.out, chosen);
    if (failures > 0) {
        std::cerr << "sweep: " << failures << " trial jobs failed (see their logs); the same command tries them again\n";
        exitCode = 2;
    }
}

} // namespace

void addSweepCommand(CLI::App& app)
{
    auto* cmd = app.add_subcommand("sweep", "Which settings work on my data: a grid or random search over config keys, "
                                            "seeds, successive halving by a label-free signal, a results table");
    auto o = std::make_shared<SweepOptions>();
    addConfigOptions(*cmd, o->config, false);
    cmd->add_option("--data", o->data, "the data every trial trains on (as ijepa train --data)")->capture_default_str();
    cmd->add_option("--budget", o->budget, "per trial: steps (400) or minutes of training (10m)");
    cmd->add_option("--seeds", o->seeds, "seeds per setting (meta.seed)")->capture_default_str()->check(CLI::Range(1, 100));
    cmd->add_option("--first-seed", o->firstSeed, "the first seed (more seeds of a sweep later)")->check(kCountRange);
    cmd->add_option("--out", o->out, "the sweep's folder: a run folder per trial, sweep.json, results.tsv, logs/")->check(kOutputFolder);
    cmd->get_option("overrides")->description("swept keys: section.key=v1,v2 (a grid), section.key=lo:hi[:log] (with "
                                               "--random) or section.key=v (the same for every trial)");
    cmd->add_option("--random", o->random, "draw N settings instead of the grid")->check(CLI::Range(1, 10000));
    cmd->add_option("--draw-seed", o->drawSeed, "the seed of --random's draws")->capture_default_str();
    cmd->add_option("--parallel", o->parallel, "trials at a time (the threads are shared)")->capture_default_str()->check(CLI::Range(1, 64));
    cmd->add_option("--threads", o->threads, "CPU threads in all (0: every logical CPU)")->check(CLI::Range(0, kMaxThreads));
    cmd->add_flag("--print-commands", o->printCommands,
                  "print one ijepa train line per trial (for Slurm, GNU parallel, other machines) and run nothing");
    cmd->add_option("--collect", o->collect, "evaluate and tabulate a sweep whose trials ran elsewhere")->check(CLI::ExistingDirectory);
    cmd->add_option("--baseline", o->baseline, "the setting the others are compared with (Welch's t): \"key=value [key2=value2]\"");
    cmd->add_flag("--halving", o->halving, "successive halving: the best 1/eta of the settings by --criterion go on at each rung");
    cmd->add_option("--criterion", o->criterion, "halving's label-free signal: loss, rankme or sigreg")->capture_default_str();
    cmd->add_option("--eta", o->eta, "halving keeps 1/eta of the settings at each rung")->capture_default_str()->check(CLI::Range(2, 16));
    cmd->add_option("--limit", o->limit, "train on the first N images only")->check(kCountRange);
    cmd->add_option("--diagnostics-every", o->diagnosticsEvery, "steps between the trials' diagnostics and checkpoints "
                                                               "(0: a quarter of the first rung)")->check(kStepRange);
    cmd->add_option("--eval-train", o->evalTrain, "k-NN database / linear training images")->capture_default_str()->check(kCountRange);
    cmd->add_option("--eval-test", o->evalTest, "evaluation images")->capture_default_str()->check(kCountRange);
    cmd->add_flag("--linear", o->linear, "also the linear probe (ijepa eval linear) of every trial");
    cmd->callback([o] { runSweep(*o); });
}

} // namespace ijepa::cli
