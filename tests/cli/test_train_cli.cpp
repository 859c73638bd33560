// The CLI's training runs as a user starts them: SIGKILL mid-run and a resume give the same weights
// as a straight run; Ctrl-C writes a checkpoint and exits with 130.
#include "core/io/checkpoint.h"
#include "tests/core/test_support.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <thread>

using namespace ijepa;
using ijepa::test::checkpointTensors;
using ijepa::test::csvRows;
using ijepa::test::TempDir;

namespace {

Config tinyConfig() { return test::smallModelConfig(); }

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
                                         "--out", out, "--checkpoint-every", "1", "--threads", "2", "--final-knn", "false", "-q"};
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
namespace {

// Starts a run, sends `sig` after its second step: it finishes the step, writes a checkpoint of it
// and exits with 130.
void expectStoppedWithACheckpoint(int sig)
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
                             "--checkpoint-every", "1000", "--threads", "2", "--final-knn", "false", "-q"});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (csvRows(out + "/jepa_r0.csv") < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ::kill(pid, sig);
    EXPECT_EQ(waitExit(pid), 130) << strsignal(sig);
    const auto meta = checkpointMeta(readTorchFile(out + "/jepa-latest.pth.tar"), "");
    EXPECT_GE(meta.iteration, 2);
    EXPECT_LT(meta.iteration, 30);
    EXPECT_EQ(meta.iteration, csvRows(out + "/jepa_r0.csv")) << "the checkpoint is of the last logged step";
}

} // namespace

TEST(TrainerCli, SigintWritesACheckpointAndExitsCleanly)
{
    expectStoppedWithACheckpoint(SIGINT);
}

// What a closed terminal and a scheduler send (Slurm's --signal=USR1@N warning, a CPU-time limit)
// stop a run the same way, instead of ending it where it is.
TEST(TrainerCli, TerminalAndSchedulerSignalsStopWithACheckpoint)
{
    for (const int sig : {SIGHUP, SIGUSR1, SIGXCPU})
        expectStoppedWithACheckpoint(sig);
}

