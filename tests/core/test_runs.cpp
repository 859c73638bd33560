// Runs on disk: a run folder read back as the runs panel shows it (ijepa train's layout and the
// reference's), its problems named without losing the rest, config differences, the lock state.
#include "core/errors.h"
#include "core/io/event_writer.h"
#include "core/io/run_lock.h"
#include "core/runs/run_folder.h"
#include "core/train/run.h"
#include "core/train/schedules.h"
#include "core/train/steering.h"
#include "tests/core/test_support.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace ijepa;
using ijepa::test::TempDir;

namespace {

namespace fs = std::filesystem;

struct Quiet : TrainObserver {};

// A tiny run of `steps` steps of 16 images into `dir`.
RunSettings tinySettings(const std::string& dir, std::int64_t steps, const Config& c = test::smallModelConfig())
{
    RunSettings o;
    o.trainer.config = c;
    o.trainer.data = limitSource(openFashionMnist("train"), 64); // 4 steps an epoch
    o.trainer.outDir = dir;
    o.trainer.maxSteps = steps;
    o.log.imageEvery = 0;
    o.diagnostics.every = 0;
    return o;
}

TrainResult tinyRun(const std::string& dir, std::int64_t steps, const Config& c = test::smallModelConfig())
{
    Quiet quiet;
    std::atomic_bool stop{false};
    return runTraining(tinySettings(dir, steps, c), quiet, stop);
}

std::string fileText(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// The CSV's rows after the header, each checked whole (17 fields, newline-ended).
std::vector<std::string> wholeCsvRows(const std::string& path)
{
    const std::string text = fileText(path);
    EXPECT_EQ(text.back(), '\n') << "torn last row";
    std::vector<std::string> rows;
    std::istringstream in(text);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        EXPECT_EQ(std::count(line.begin(), line.end(), ','), 16) << line;
        rows.push_back(line);
    }
    return rows;
}

// After step `after`, limits every file to `bytes` (a disk that fills up); the run's write-error
// handlers "free space" by lifting it and ask for the write again.
struct FillsTheDisk : TrainObserver {
    std::int64_t after = 2;
    rlim_t bytes = 0;
    rlimit old{};
    int failures = 0;
    void stepDone(const Step& step) override
    {
        if (step.report.iteration != after)
            return;
        std::signal(SIGXFSZ, SIG_IGN);
        ::getrlimit(RLIMIT_FSIZE, &old);
        rlimit small = old;
        small.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &small);
    }
    bool freeSpace(const std::string& message)
    {
        EXPECT_NE(message.find(std::strerror(EFBIG)), std::string::npos) << message;
        ++failures;
        ::setrlimit(RLIMIT_FSIZE, &old);
        return true;
    }
};

} // namespace

TEST(RunLog, AFullDiskWaitsForSpaceAndLosesNoRow)
{
    TempDir dir;
    RunSettings o = tinySettings(dir.path.string(), 8);
    FillsTheDisk disk;
    disk.bytes = 400; // past the header and two rows of the CSV, and below every other log's size
    o.log.onWriteError = [&](const std::string& m) { return disk.freeSpace(m); };
    o.checkpoints.onWriteError = o.log.onWriteError;
    std::atomic_bool stop{false};
    EXPECT_EQ(runTraining(o, disk, stop).iteration, 8);
    EXPECT_GE(disk.failures, 1);
    const auto rows = wholeCsvRows(dir.file("jepa_r0.csv"));
    ASSERT_EQ(rows.size(), 8u);
    for (size_t i = 0; i < rows.size(); ++i) // each step once, in order (epoch, itr)
        EXPECT_EQ(rows[i].substr(0, rows[i].find(',', 2)), std::to_string(i / 4 + 1) + "," + std::to_string(i % 4)) << rows[i];
}

TEST(RunLog, AFullDiskWithoutAHandlerEndsTheRunWithWholeRows)
{
    TempDir dir;
    RunSettings o = tinySettings(dir.path.string(), 8);
    FillsTheDisk disk;
    disk.bytes = 400;
    std::atomic_bool stop{false};
    EXPECT_THROW(runTraining(o, disk, stop), WriteError);
    ::setrlimit(RLIMIT_FSIZE, &disk.old);
    const auto rows = wholeCsvRows(dir.file("jepa_r0.csv"));
    EXPECT_GE(rows.size(), 2u);
    EXPECT_LT(rows.size(), 8u);
}

TEST(RunLog, ResumeDropsARowAndARecordCutShort)
{
    TempDir dir;
    tinyRun(dir.path.string(), 4); // one epoch: a checkpoint at step 4
    { // step 2's row cut short (the disk filled, later rows went on after it), and a last row cut by a crash
        std::string csv = fileText(dir.file("jepa_r0.csv"));
        const size_t row2 = csv.find("\n1,1,") + 1;
        csv.erase(csv.find(',', row2 + 8), csv.find('\n', row2) - csv.find(',', row2 + 8));
        std::ofstream(dir.file("jepa_r0.csv"), std::ios::trunc) << csv << "2,0,0.12345,40";
    }
    std::string events;
    for (const auto& f : fs::directory_iterator(dir.path / "tb"))
        events = f.path().string();
    const size_t eventBytes = fs::file_size(events);
    std::ofstream(events, std::ios::app | std::ios::binary) << std::string("\x20\0\0\0\0\0\0\0\1\2", 10);
    RunSettings o = tinySettings(dir.path.string(), 6);
    o.trainer.resume = true;
    Quiet quiet;
    std::atomic_bool stop{false};
    EXPECT_EQ(runTraining(o, quiet, stop).iteration, 6);
    const auto rows = wholeCsvRows(dir.file("jepa_r0.csv"));
    ASSERT_EQ(rows.size(), 5u); // steps 1, 3, 4 kept; 5 and 6 new
    EXPECT_EQ(rows[1].substr(0, 4), "1,2,");
    EXPECT_EQ(rows[4].substr(0, 4), "2,1,");
    EXPECT_GE(fs::file_size(events), eventBytes); // the resumed run may append to it (a name per second)
    for (const auto& f : fs::directory_iterator(dir.path / "tb"))
        EXPECT_EQ(cutTornRecords(f.path().string()), 0) << f.path() << " still holds a cut record";
}

TEST(RunFolder, ReadsWhatTrainWrote)
{
    TempDir dir;
    const auto result = tinyRun(dir.path.string(), 6);
    ASSERT_EQ(result.iteration, 6);
    const RunRecord r = readRunFolder(dir.path.string());
    EXPECT_TRUE(r.problems.empty()) << r.problems.front();
    ASSERT_TRUE(r.config.has_value());
    EXPECT_EQ(r.config->data.batch_size, 16);
    EXPECT_EQ(r.iterationsPerEpoch, 4);
    EXPECT_EQ(r.stepsDone, 6);
    EXPECT_EQ(r.stepsPlanned, 8); // 2 epochs of 4
    EXPECT_EQ(r.state, RunState::Finished); // it reached its step limit (--max-steps): what it was told to do
    EXPECT_TRUE(std::isnan(r.finalKnn));    // no end-of-run k-NN in this run
    ASSERT_EQ(r.points.size(), 6u);
    for (size_t i = 0; i < r.points.size(); ++i) {
        EXPECT_EQ(r.points[i].step, static_cast<std::int64_t>(i + 1));
        EXPECT_NEAR(r.points[i].epoch, (i + 1) / 4.0, 1e-12);
    }
    EXPECT_NEAR(r.lastLoss, result.loss, 1e-5);
    EXPECT_GT(r.wallSeconds, 0.0);
    EXPECT_GT(r.points[5].wallSeconds, r.points[0].wallSeconds);
    EXPECT_EQ(r.data.rfind("Fashion-MNIST train", 0), 0u) << r.data;
    EXPECT_NE(r.model.find("64x2"), std::string::npos) << r.model;
    ASSERT_FALSE(r.checkpoints.empty());
    EXPECT_EQ(fs::path(r.checkpoints.front()).filename(), "jepa-latest.pth.tar");
    EXPECT_FALSE(runFolderLocked(dir.path.string()));
    {
        RunLock lock(dir.path.string()); // a live writer
        EXPECT_TRUE(runFolderLocked(dir.path.string()));
        EXPECT_EQ(readRunFolder(dir.path.string()).state, RunState::Running);
    }
    EXPECT_FALSE(runFolderLocked(dir.path.string()));
    // A live run has no checkpoint until its first one: not a problem while its writer holds the lock.
    for (const auto& c : r.checkpoints)
        fs::remove(c);
    {
        RunLock lock(dir.path.string());
        EXPECT_TRUE(readRunFolder(dir.path.string()).problems.empty());
    }
    EXPECT_EQ(readRunFolder(dir.path.string()).problems, std::vector<std::string>{"no checkpoint"});
    // The end-of-run k-NN, when it ran, is the run's headline figure; the last probe otherwise.
    RunMeta meta = *readRunMeta(dir.path.string(), nullptr);
    meta.finalKnn = 0.7514;
    writeRunMeta(dir.path.string(), meta);
    const RunRecord withKnn = readRunFolder(dir.path.string());
    EXPECT_DOUBLE_EQ(withKnn.finalKnn, 0.7514);
    EXPECT_DOUBLE_EQ(headlineKnn(withKnn), 0.7514);
    TempDir whole; // the whole schedule: finished
    tinyRun(whole.path.string(), 0);
    const RunRecord f = readRunFolder(whole.path.string());
    EXPECT_EQ(f.state, RunState::Finished);
    EXPECT_EQ(f.stepsDone, 8);
}

TEST(RunFolder, NamesWhatIsBrokenAndKeepsTheRest)
{
    TempDir dir;
    tinyRun(dir.path.string(), 3);
    const auto d = dir.path.string();
    { // a torn line in the middle, a half line at the end
        std::ofstream csv(dir.file("jepa_r0.csv"), std::ios::app);
        csv << "1,x,garbage\n2,1,0.3";
    }
    fs::remove(dir.file("jepa-latest.pth.tar"));
    {
        std::ofstream meta(dir.file("run.json"));
        meta << R"({"version": 99, "data": "somewhere", "iterations_per_epoch": 4, "status": "stopped"})";
    }
    const RunRecord r = readRunFolder(d);
    ASSERT_EQ(r.problems.size(), 3u);
    EXPECT_NE(r.problems[0].find("newer"), std::string::npos) << r.problems[0];
    EXPECT_NE(r.problems[1].find("line 5 is broken"), std::string::npos) << r.problems[1];
    EXPECT_EQ(r.problems[2], "no checkpoint");
    EXPECT_EQ(r.points.size(), 4u); // 3 good rows and the half line's step 2,1 (loss 0.3)
    EXPECT_EQ(r.data, "somewhere");
    EXPECT_EQ(r.state, RunState::Stopped);
    std::ofstream(dir.file("run.json")) << "{ not json";
    const RunRecord broken = readRunFolder(d);
    EXPECT_NE(broken.problems[0].find("run.json: unreadable"), std::string::npos) << broken.problems[0];
    EXPECT_EQ(broken.stepsDone, 5); // still read: ipe guessed from the CSV (itr 0..2 in epoch 1 -> 3)
}

TEST(RunFolder, ReadsTheReferenceLayout)
{
    TempDir dir;
    fs::copy_file(test::sharedFixture("official-tiny/params-ijepa.yaml"), dir.file("params-ijepa.yaml"));
    fs::copy_file(test::sharedFixture("official-tiny/checkpoint.pth.tar"), dir.file("jepa-latest.pth.tar"));
    {
        std::ofstream csv(dir.file("jepa_r0.csv"));
        csv << "epoch,itr,loss,mask-A,mask-B,time (ms)\n";
        for (int e = 1; e <= 2; ++e)
            for (int i = 0; i < 5; ++i)
                csv << e << "," << i << "," << 0.5 / (e * 5 + i) << ",40,12,250.0\n";
    }
    const RunRecord r = readRunFolder(dir.path.string());
    EXPECT_TRUE(r.problems.empty()) << r.problems.front();
    EXPECT_EQ(r.iterationsPerEpoch, 5);
    EXPECT_EQ(r.stepsDone, 10);
    EXPECT_NEAR(r.wallSeconds, 2.5, 1e-9);
    EXPECT_EQ(r.config->meta.embed_dim, 64);
    EXPECT_FALSE(std::isfinite(r.lastProbe));
    const auto found = findRunFolders(dir.path.parent_path().string(), 1);
    EXPECT_NE(std::find(found.begin(), found.end(), dir.path.string()), found.end());
    EXPECT_TRUE(findRunFolders(dir.file("missing")).empty());
}

TEST(ConfigDiff, ExactlyTheKeysThatDiffer)
{
    Config a = test::smallModelConfig(), b = a;
    EXPECT_TRUE(configDifferences(a, b).empty());
    b.optimization.lr = 0.002;
    b.mask.position_mode = "corrected";
    b.optimization.ema = {0.99, 1.0};
    const auto d = configDifferences(a, b);
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d[0].key, "mask.position_mode");
    EXPECT_EQ(d[0].a, "faithful");
    EXPECT_EQ(d[0].b, "corrected");
    EXPECT_EQ(d[1].key, "optimization.ema");
    EXPECT_EQ(d[2].key, "optimization.lr");
    EXPECT_EQ(d[2].b, "0.002");
}

TEST(RunFolder, ABranchRecordsItsParentAndStartsAtItsStep)
{
    TempDir parent, child;
    tinyRun(parent.path.string(), 3);
    const std::string checkpoint = parent.file("jepa-latest.pth.tar");
    Config c = test::smallModelConfig();
    c.optimization.lr = 0.0005; // the branch's change
    RunSettings o;
    o.trainer.config = c;
    o.trainer.data = limitSource(openFashionMnist("train"), 64);
    o.trainer.outDir = child.path.string();
    o.trainer.resumeFrom = checkpoint;
    o.trainer.maxSteps = 6;
    o.log.imageEvery = 0;
    o.log.parent = checkpoint;
    o.diagnostics.every = 0;
    Quiet quiet;
    std::atomic_bool stop{false};
    runTraining(o, quiet, stop);
    const RunRecord r = readRunFolder(child.path.string());
    EXPECT_EQ(r.parent, fs::absolute(checkpoint).string());
    EXPECT_EQ(r.branchStep, 3);
    ASSERT_EQ(r.points.size(), 3u); // steps 4..6: drawn from the parent's step on
    EXPECT_EQ(r.points.front().step, 4);
    EXPECT_EQ(r.stepsDone, 6);
    const auto diff = configDifferences(*readRunFolder(parent.path.string()).config, *r.config);
    ASSERT_EQ(diff.size(), 2u); // the lr, and logging.folder (each run's own)
    EXPECT_EQ(diff[0].key, "logging.folder");
    EXPECT_EQ(diff[1].key, "optimization.lr");
    // Resuming the branch keeps its parent.
    o.trainer.resumeFrom.clear();
    o.trainer.resume = true;
    o.trainer.maxSteps = 7;
    runTraining(o, quiet, stop);
    EXPECT_EQ(readRunFolder(child.path.string()).branchStep, 3);
}

namespace {

// Asks for a change after a given step (as the workbench does while paused) and stops after another.
struct Steerer : TrainObserver {
    std::shared_ptr<SteeringQueue> queue;
    std::int64_t changeAfter = -1, stopAfter = -1;
    std::vector<std::string> change;
    std::atomic_bool* stop = nullptr;
    std::vector<StepReport> steps;
    void stepDone(const Step& step) override
    {
        steps.push_back(step.report);
        if (step.report.iteration == changeAfter)
            queue->request(change);
        if (step.report.iteration == stopAfter)
            stop->store(true);
    }
};

RunSettings steeredSettings(const std::string& dir)
{
    RunSettings o;
    o.trainer.config = test::smallModelConfig(); // 2 epochs of 4 steps
    o.trainer.data = limitSource(openFashionMnist("train"), 64);
    o.trainer.outDir = dir;
    o.trainer.threads = 2;
    o.log.imageEvery = 0;
    o.diagnostics.every = 0;
    return o;
}

} // namespace

TEST(Steering, AStoppedAndResumedSteeredRunEqualsItsHistoryReplayed)
{
    TempDir live, replayed;
    const std::vector<std::string> change{"optimization.lr=0.003", "optimization.epochs=3", "optimization.ema=[0.99, 1.0]"};
    { // steered after step 2, stopped after step 5, resumed to the (new) end: 3 epochs = 12 steps
        RunSettings o = steeredSettings(live.path.string());
        o.trainer.steering = std::make_shared<SteeringQueue>();
        std::atomic_bool stop{false};
        Steerer s;
        s.queue = o.trainer.steering;
        s.changeAfter = 2;
        s.stopAfter = 5;
        s.change = change;
        s.stop = &stop;
        const auto first = runTraining(o, s, stop);
        EXPECT_EQ(first.iteration, 5);
        EXPECT_NEAR(s.steps[1].lr, Schedules(test::smallModelConfig().optimization, 4).learningRate(2), 1e-12);
        Config steered = test::smallModelConfig();
        applyOverride(steered, "optimization.lr=0.003");
        applyOverride(steered, "optimization.epochs=3");
        EXPECT_NEAR(s.steps[2].lr, Schedules(steered.optimization, 4).learningRate(3), 1e-12); // from step 3 on
        EXPECT_EQ(s.steps[2].totalIterations, 12);
        RunSettings again = steeredSettings(live.path.string());
        again.trainer.resume = true;
        stop = false;
        Steerer quiet;
        EXPECT_EQ(runTraining(again, quiet, stop).iteration, 12);
    }
    const auto history = readConfigHistory(configHistoryPath(live.path.string()));
    ASSERT_EQ(history.size(), 1u); // the resume replayed it without recording it again
    EXPECT_EQ(history[0].step, 2);
    EXPECT_EQ(history[0].assignments, change);
    { // a fresh run given that history
        RunSettings o = steeredSettings(replayed.path.string());
        o.trainer.replay = history;
        std::atomic_bool stop{false};
        Steerer quiet;
        EXPECT_EQ(runTraining(o, quiet, stop).iteration, 12);
    }
    const auto a = test::checkpointTensors(live.file("jepa-latest.pth.tar"));
    const auto b = test::checkpointTensors(replayed.file("jepa-latest.pth.tar"));
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [name, t] : a)
        EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
    // The run's files say what changed and when: the CSV's settings column on step 3, the folder's
    // history, and the panel's reading of the run.
    const RunRecord r = readRunFolder(live.path.string());
    EXPECT_EQ(r.stepsPlanned, 12);
    EXPECT_EQ(r.state, RunState::Finished);
    std::ifstream csv(live.file("jepa_r0.csv"));
    std::string line;
    std::getline(csv, line);
    EXPECT_EQ(line.substr(line.rfind(',') + 1), "settings");
    for (int i = 1; i <= 3; ++i)
        std::getline(csv, line);
    EXPECT_NE(line.find("\"optimization.lr=0.003; optimization.epochs=3; optimization.ema=[0.99, 1.0]\""), std::string::npos) << line;
    EXPECT_THROW(SteeringQueue().request({"mask.patch_size=8"}), ConfigError);
    EXPECT_THROW(SteeringQueue().request({"optimization.lr=fast"}), ConfigError);
    EXPECT_THROW(SteeringQueue().request({"diagnostics.every=-3"}), ConfigError);
}

// SIGReg's weight steers like a schedule: off up to the change, in the loss from the next step on.
TEST(Steering, TheSigregWeightTakesEffectFromTheNextStep)
{
    TempDir dir;
    RunSettings o = steeredSettings(dir.path.string());
    o.trainer.maxSteps = 5;
    o.trainer.steering = std::make_shared<SteeringQueue>();
    std::atomic_bool stop{false};
    Steerer s;
    s.queue = o.trainer.steering;
    s.changeAfter = 2;
    s.change = {"loss.sigreg_weight=0.25"};
    runTraining(o, s, stop);
    ASSERT_EQ(s.steps.size(), 5u);
    for (size_t i = 0; i < 2; ++i) { // the reference's loss: SIGReg off
        EXPECT_EQ(s.steps[i].sigregWeight, 0.0);
        EXPECT_TRUE(std::isnan(s.steps[i].sigregLoss));
        EXPECT_EQ(s.steps[i].loss, s.steps[i].jepaLoss);
    }
    for (size_t i = 2; i < 5; ++i) { // (1 - w) * JEPA + w * SIGReg, within float rounding
        EXPECT_EQ(s.steps[i].sigregWeight, 0.25);
        ASSERT_TRUE(std::isfinite(s.steps[i].sigregLoss));
        EXPECT_NEAR(s.steps[i].loss, 0.75 * s.steps[i].jepaLoss + 0.25 * s.steps[i].sigregLoss, 1e-5 * s.steps[i].loss);
    }
    EXPECT_THROW(SteeringQueue().request({"loss.sigreg_weight=1.5"}), ConfigError); // out of [0, 1)
    EXPECT_THROW(SteeringQueue().request({"loss.sigreg_on=projector"}), ConfigError); // the head exists from the start or never
}

// Short epochs (a small folder: seconds each) do not write a checkpoint at every epoch end; the
// log says so once. The step cadence and the last step still write one; long epochs write at their end.
TEST(Checkpointer, ShortEpochsWriteNoCheckpointAtEveryEpochEnd)
{
    struct Lines : TrainObserver {
        std::vector<std::string> lines;
        void message(const std::string& line) override { lines.push_back(line); }
        long count(const std::string& prefix) const
        {
            return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
        }
    };
    for (const double epochEndSeconds : {60.0, 0.0}) {
        TempDir dir;
        RunSettings o = tinySettings(dir.path.string(), 0); // the whole schedule: 2 epochs of 4 steps
        o.checkpoints.every = 0;
        o.checkpoints.epochEndSeconds = epochEndSeconds;
        Lines lines;
        std::atomic_bool stop{false};
        ASSERT_EQ(runTraining(o, lines, stop).iteration, 8);
        if (epochEndSeconds > 0) { // seconds-long epochs: the last step's only (and the stop's, none here)
            EXPECT_EQ(lines.count("checkpoint "), 1);
            EXPECT_EQ(lines.count("epochs here are short"), 1);
        } else { // every epoch end is old enough: steps 4 and 8
            EXPECT_EQ(lines.count("checkpoint "), 2);
            EXPECT_EQ(lines.count("epochs here are short"), 0);
        }
        EXPECT_TRUE(fs::exists(dir.file("jepa-latest.pth.tar")));
    }
}

// Runs have names people tell apart: what a run changes, a branch's parent and step, a name given
// afterwards (kept in run.json; refused for a live run and for a folder without run.json).
TEST(RunFolder, NamesDescribeRunsAndCanBeChanged)
{
    const Config base = test::smallModelConfig();
    Config changed = base;
    EXPECT_EQ(describeDifferences(base, changed), "");
    changed.data.batch_size = 64;
    changed.optimization.lr = 0.002;
    EXPECT_EQ(describeDifferences(base, changed), "batch_size=64 lr=0.002"); // schema order
    changed.optimization.ema = {0.99, 1.0};
    changed.mask.min_keep = 2;
    EXPECT_EQ(describeDifferences(base, changed), "batch_size=64 min_keep=2 ema=[0.99,1.0] +1 more");

    TempDir dir;
    tinyRun(dir.path.string(), 4);
    EXPECT_EQ(readRunFolder(dir.path.string()).name, dir.path.filename().string()); // no name given: the folder's
    EXPECT_EQ(runName(dir.path.string()), dir.path.filename().string());
    EXPECT_EQ(branchName(runName(dir.path.string()), 4, base, changed),
              dir.path.filename().string() + " @4 batch_size=64 min_keep=2 ema=[0.99,1.0] +1 more");
    renameRun(dir.path.string(), "baseline, seed 0");
    EXPECT_EQ(readRunFolder(dir.path.string()).name, "baseline, seed 0");
    EXPECT_EQ(runName(dir.path.string()), "baseline, seed 0");
    EXPECT_EQ(readRunFolder(dir.path.string()).state, RunState::Finished); // the rest of run.json kept
    {
        RunLock lock(dir.path.string());
        EXPECT_THROW(renameRun(dir.path.string(), "x"), Error);
    }
    TempDir bare;
    EXPECT_THROW(renameRun(bare.path.string(), "x"), Error);
}

// The Runs tab compares runs as they train now: a run's steered settings replace those it started
// with, named as steered; a broken history is a problem of the run, not a wrong config.
TEST(RunFolder, SteeredSettingsAreTheRunsSettings)
{
    TempDir dir;
    tinyRun(dir.path.string(), 4);
    appendConfigHistory(configHistoryPath(dir.path.string()), SettingsChange{2, {"optimization.lr=0.002", "optimization.epochs=3"}});
    appendConfigHistory(configHistoryPath(dir.path.string()), SettingsChange{3, {"optimization.lr=0.003"}});
    RunRecord r = readRunFolder(dir.path.string());
    const double started = r.config->optimization.lr;
    applySteering(r);
    EXPECT_DOUBLE_EQ(r.config->optimization.lr, 0.003);
    EXPECT_EQ(r.config->optimization.epochs, 3);
    EXPECT_EQ(r.steered, (std::vector<std::string>{"optimization.lr", "optimization.epochs"}));
    EXPECT_TRUE(r.problems.empty());
    std::ofstream(configHistoryPath(dir.path.string()), std::ios::app) << "{broken\n";
    RunRecord broken = readRunFolder(dir.path.string());
    applySteering(broken);
    EXPECT_DOUBLE_EQ(broken.config->optimization.lr, started);
    ASSERT_EQ(broken.problems.size(), 1u);
    EXPECT_NE(broken.problems[0].find("config_history.jsonl"), std::string::npos) << broken.problems[0];
}
