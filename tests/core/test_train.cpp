// The trainer: loss falls, stop and resume (also after SIGKILL, through the CLI), divergence,
// resuming a reference checkpoint, refusing to overwrite a run.
#include "checkpoint.h"
#include "errors.h"
#include "image_folder.h"
#include "trainer.h"
#include "test_support.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

using namespace ijepa;
using ijepa::test::TempDir;

namespace {

Config tinyConfig() { return test::smallModelConfig(); }

struct Recorder : TrainObserver {
    std::vector<StepReport> steps;
    std::vector<std::string> messages;
    TrainStart start;
    std::atomic_bool* stopAt = nullptr;
    std::int64_t stopAfter = -1;
    void started(const TrainStart& s) override { start = s; }
    void stepDone(const StepReport& r) override
    {
        steps.push_back(r);
        if (stopAt && r.iteration == stopAfter)
            stopAt->store(true);
    }
    void message(const std::string& m) override { messages.push_back(m); }
};

TrainerOptions options(const Config& c, std::int64_t images, const std::string& out)
{
    TrainerOptions o;
    o.config = c;
    o.data = limitSource(openFashionMnist("train"), images);
    o.outDir = out;
    o.imageEvery = 0;
    return o;
}

// Every tensor of the three networks and the optimiser state, by name.
std::map<std::string, torch::Tensor> checkpointTensors(const std::string& path)
{
    std::map<std::string, torch::Tensor> out;
    const auto d = readTorchFile(path).toGenericDict();
    for (const char* net : {"encoder", "predictor", "target_encoder"})
        for (const auto& e : d.at(net).toGenericDict())
            out[std::string(net) + "/" + e.key().toStringRef()] = e.value().toTensor();
    for (const auto& e : d.at("opt").toGenericDict().at("state").toGenericDict())
        for (const auto& s : e.value().toGenericDict())
            if (s.value().isTensor())
                out["opt/" + std::to_string(e.key().toInt()) + "/" + s.key().toStringRef()] = s.value().toTensor();
    return out;
}

int csvRows(const std::string& path)
{
    std::ifstream in(path);
    int n = -1;
    for (std::string line; std::getline(in, line);)
        ++n;
    return std::max(n, 0);
}

pid_t spawn(const std::vector<std::string>& args)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> argv;
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

int waitExit(pid_t pid)
{
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace

TEST(Trainer, LossFallsOverTheFirstEpochAndLogsAreWritten)
{
    TempDir dir;
    auto c = tinyConfig();
    c.optimization.epochs = 1;
    c.optimization.warmup = 0.2;
    Recorder rec;
    std::atomic_bool stop{false};
    const auto r = train(options(c, 640, dir.path.string()), rec, stop); // 40 steps
    ASSERT_EQ(r.status, TrainStatus::Finished);
    ASSERT_EQ(rec.steps.size(), 40u);
    double first = 0, last = 0;
    for (int i = 0; i < 5; ++i) {
        first += rec.steps[i].loss / 5;
        last += rec.steps[35 + i].loss / 5;
    }
    // Measured (deterministic for this seed): 0.440 -> 0.184. Asserted: the last five steps average under 70% of the first five.
    std::cout << "mean loss, first 5 steps " << first << ", last 5 steps " << last << "\n";
    EXPECT_LT(last, 0.7 * first);
    EXPECT_EQ(csvRows(dir.file("jepa_r0.csv")), 40);
    EXPECT_TRUE(std::filesystem::exists(dir.file("jepa-latest.pth.tar")));
    EXPECT_TRUE(std::filesystem::exists(dir.file("params-ijepa.yaml")));
    EXPECT_FALSE(std::filesystem::is_empty(dir.path / "tb"));
    EXPECT_EQ(checkpointMeta(readTorchFile(dir.file("jepa-latest.pth.tar")), "").iteration, 40);
    EXPECT_EQ(checkpointMeta(readTorchFile(dir.file("jepa-latest.pth.tar")), "").epoch, 1);
}

TEST(Trainer, StopWritesACheckpointAndResumeMatchesAStraightRun)
{
    TempDir straightDir, stoppedDir;
    const auto c = tinyConfig(); // 64 images / 16 = 4 steps per epoch, 2 epochs
    std::atomic_bool never{false};
    Recorder straight;
    train(options(c, 64, straightDir.path.string()), straight, never);
    ASSERT_EQ(straight.steps.size(), 8u);

    std::atomic_bool stop{false};
    Recorder first;
    first.stopAt = &stop;
    first.stopAfter = 3;
    const auto r1 = train(options(c, 64, stoppedDir.path.string()), first, stop);
    EXPECT_EQ(r1.status, TrainStatus::Stopped);
    EXPECT_EQ(r1.iteration, 3);
    stop = false;
    auto resumed = options(c, 64, stoppedDir.path.string());
    resumed.resume = true;
    Recorder second;
    const auto r2 = train(resumed, second, stop);
    EXPECT_EQ(second.start.firstIteration, 3);
    ASSERT_EQ(second.steps.size(), 5u);
    for (size_t i = 0; i < 5; ++i)
        EXPECT_EQ(second.steps[i].loss, straight.steps[3 + i].loss) << "iteration " << 4 + i;
    const auto a = checkpointTensors(straightDir.file("jepa-latest.pth.tar"));
    const auto b = checkpointTensors(stoppedDir.file("jepa-latest.pth.tar"));
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [k, t] : a)
        EXPECT_TRUE(torch::equal(t, b.at(k))) << k;
    EXPECT_EQ(csvRows(stoppedDir.file("jepa_r0.csv")), 8);
}

// The test: 6 steps straight, against 3 steps, SIGKILL, and a resume for the rest; run
// through the CLI. The kill lands after checkpoint 3 (during step 4 or 5: the test checks which
// checkpoint it left); the final weights must be bitwise identical.
TEST(TrainerCli, ResumeAfterSigkillIsBitwiseIdentical)
{
    TempDir straightDir, killedDir;
    const std::string cfg = straightDir.file("tiny.yaml");
    auto c = tinyConfig();
    c.meta.embed_dim = 192;
    c.meta.depth = 4;
    c.meta.num_heads = 3; // slow enough (~0.2 s/step) that the kill comes before the end
    c.meta.pred_emb_dim = 48;
    c.data.batch_size = 32;
    c.optimization.epochs = 2; // 96 images: 3 steps per epoch, 6 in all
    saveConfig(c, cfg);
    const auto args = [&](const std::string& out) {
        return std::vector<std::string>{IJEPA_CLI, "train", "-c", cfg, "--data", "fashion-mnist", "--limit", "96",
                                         "--out", out, "--checkpoint-every", "1", "--threads", "2", "-q"};
    };
    ASSERT_EQ(waitExit(spawn(args(straightDir.path.string()))), 0);

    const pid_t pid = spawn(args(killedDir.path.string()));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    // Row 4 of the log is written after checkpoint 3.
    while (csvRows(killedDir.file("jepa_r0.csv")) < 4 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ::kill(pid, SIGKILL);
    ASSERT_EQ(waitExit(pid), 128 + SIGKILL);
    const auto killedAt = checkpointMeta(readTorchFile(killedDir.file("jepa-latest.pth.tar")), "").iteration;
    EXPECT_GE(killedAt, 3);
    ASSERT_LT(killedAt, 6) << "the run finished before the kill; the test proves nothing";

    auto resume = args(killedDir.path.string());
    resume.push_back("--resume");
    ASSERT_EQ(waitExit(spawn(resume)), 0);
    const auto a = checkpointTensors(straightDir.file("jepa-latest.pth.tar"));
    const auto b = checkpointTensors(killedDir.file("jepa-latest.pth.tar"));
    ASSERT_EQ(a.size(), b.size());
    int differing = 0;
    for (const auto& [k, t] : a)
        differing += !torch::equal(t, b.at(k));
    EXPECT_EQ(differing, 0) << "tensors differ after resume (killed at iteration " << killedAt << ")";
    EXPECT_EQ(checkpointMeta(readTorchFile(killedDir.file("jepa-latest.pth.tar")), "").iteration, 6);
    EXPECT_EQ(csvRows(killedDir.file("jepa_r0.csv")), 6);
}

// Ctrl-C: the step in flight finishes, a checkpoint of it is written, exit code 130.
TEST(TrainerCli, SigintWritesACheckpointAndExitsCleanly)
{
    TempDir dir;
    const std::string cfg = dir.file("tiny.yaml");
    auto c = tinyConfig();
    c.meta.embed_dim = 192;
    c.meta.depth = 4;
    c.meta.num_heads = 3;
    c.meta.pred_emb_dim = 48;
    c.data.batch_size = 32;
    c.optimization.epochs = 10; // 30 steps: far more than the test lets run
    saveConfig(c, cfg);
    const std::string out = dir.file("run");
    const pid_t pid = spawn({IJEPA_CLI, "train", "-c", cfg, "--data", "fashion-mnist", "--limit", "96", "--out", out,
                             "--checkpoint-every", "1000", "--threads", "2", "-q"});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (csvRows(out + "/jepa_r0.csv") < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ::kill(pid, SIGINT);
    EXPECT_EQ(waitExit(pid), 130);
    const auto meta = checkpointMeta(readTorchFile(out + "/jepa-latest.pth.tar"), "");
    EXPECT_GE(meta.iteration, 2);
    EXPECT_LT(meta.iteration, 30);
    EXPECT_EQ(meta.iteration, csvRows(out + "/jepa_r0.csv")) << "the checkpoint is of the last logged step";
}

TEST(Trainer, NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint)
{
    TempDir dir;
    auto c = tinyConfig();
    c.optimization.lr = c.optimization.start_lr = 1e30; // the first update blows the weights up
    c.optimization.warmup = 0;
    auto o = options(c, 64, dir.path.string());
    o.checkpointEvery = 1;
    Recorder rec;
    std::atomic_bool stop{false};
    const auto r = train(o, rec, stop);
    ASSERT_EQ(r.status, TrainStatus::Diverged);
    const auto meta = checkpointMeta(readTorchFile(dir.file("jepa-latest.pth.tar")), "");
    EXPECT_EQ(meta.iteration, r.iteration) << "the checkpoint must be from the last finite step";
    EXPECT_TRUE(std::isfinite(meta.loss));
    EXPECT_NE(rec.messages.back().find("stopping"), std::string::npos) << rec.messages.back();
}

TEST(Trainer, RefusesToOverwriteAnotherRunAndRejectsBadCheckpoints)
{
    TempDir dir;
    auto c = tinyConfig();
    c.optimization.epochs = 1;
    Recorder rec;
    std::atomic_bool stop{false};
    auto o = options(c, 32, dir.path.string());
    o.resume = true;
    EXPECT_THROW(train(o, rec, stop), CheckpointError); // nothing to resume
    o.resume = false;
    train(o, rec, stop);
    try {
        train(o, rec, stop);
        FAIL() << "a second run overwrote the first";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
    }
    // A truncated checkpoint is an error naming the file, and is left as it was.
    const auto latest = dir.file("jepa-latest.pth.tar");
    std::filesystem::resize_file(latest, std::filesystem::file_size(latest) / 2);
    const auto size = std::filesystem::file_size(latest);
    o.resume = true;
    try {
        train(o, rec, stop);
        FAIL();
    } catch (const CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find("jepa-latest.pth.tar"), std::string::npos) << e.what();
    }
    EXPECT_EQ(std::filesystem::file_size(latest), size);
    // A checkpoint of another architecture is refused, naming the mismatched keys.
    TempDir other;
    auto first = options(c, 32, other.path.string());
    train(first, rec, stop);
    auto wide = c;
    wide.meta.embed_dim = 96;
    auto w = options(wide, 32, dir.file("wide"));
    w.resumeFrom = other.file("jepa-latest.pth.tar");
    try {
        train(w, rec, stop);
        FAIL();
    } catch (const CheckpointError& e) {
        EXPECT_NE(std::string(e.what()).find("patch_embed.proj.weight"), std::string::npos) << e.what();
    }
}

TEST(Trainer, ResumesAReferenceCheckpoint)
{
    TempDir dir;
    const std::string fixture = test::sharedFixture("official-tiny/");
    TrainerOptions o;
    o.config = loadConfig(fixture + "params-ijepa.yaml");
    o.config.data.num_workers = 0;
    o.data = openImageFolder(fixture + "images");
    o.outDir = dir.path.string();
    o.resumeFrom = fixture + "checkpoint.pth.tar";
    o.imageEvery = 0;
    const auto refMeta = checkpointMeta(readTorchFile(o.resumeFrom), o.resumeFrom);
    o.maxSteps = refMeta.epoch * 1 + 1; // 4 images, batch 4: one iteration per epoch
    Recorder rec;
    std::atomic_bool stop{false};
    const auto r = train(o, rec, stop);
    EXPECT_EQ(rec.start.firstIteration, refMeta.epoch);
    ASSERT_EQ(r.iteration, refMeta.epoch + 1);
    ASSERT_EQ(rec.steps.size(), 1u);
    // The step continued from the reference's weights: one AdamW step (lr <= 1e-3) away from them.
    const auto ref = readTorchFile(o.resumeFrom).toGenericDict();
    const auto ours = readTorchFile(r.checkpoint).toGenericDict();
    const auto key = std::string("module.blocks.0.attn.qkv.weight");
    const auto before = ref.at("encoder").toGenericDict().at(key).toTensor();
    const auto after = ours.at("encoder").toGenericDict().at(key).toTensor();
    EXPECT_LT(test::maxAbsDiff(before, after), 5e-3);
    EXPECT_GT(test::maxAbsDiff(before, after), 0.0);
    EXPECT_EQ(ours.at("epoch").toInt(), refMeta.epoch + 1);
}
