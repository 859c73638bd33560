// `ijepa train --nproc N`: starts N ranks of this program on this machine under torchrun's
// variables and supervises them.
#include "app/ijepa/commands.h"

#include "core/cpu_blas.h"
#include "core/dist/distributed.h"
#include "core/errors.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <thread>

namespace ijepa::cli {
namespace {

volatile std::sig_atomic_t g_forward = 0;
extern "C" void onLauncherSignal(int sig)
{
    g_forward = sig;
}

} // namespace

std::string describeExitStatus(int status)
{
    if (WIFEXITED(status))
        return "exited with code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return "ended";
}

pid_t startSelf(const std::vector<std::string>& args, const std::function<void()>& inChild)
{
    const std::string self = ownExecutable(); // the child keeps the program's name
    const pid_t pid = ::fork();
    if (pid < 0)
        throw Error(std::string("cannot start a process: ") + std::strerror(errno));
    if (pid > 0)
        return pid;
    for (const int sig : kStopSignals)
        std::signal(sig, SIG_DFL);
    if (inChild)
        inChild();
    std::vector<char*> argv{const_cast<char*>(self.c_str())};
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(self.c_str(), argv.data());
    std::cerr << "cannot run " << self << ": " << std::strerror(errno) << "\n";
    ::_exit(127);
}

int launchLocalRanks(int nproc, const std::vector<std::string>& args)
{
    const int port = freeLocalPort();
    std::cerr << "train: starting " << nproc << " processes (c10d rendezvous at 127.0.0.1:" << port << ")\n";
    for (const int sig : kStopSignals)
        std::signal(sig, onLauncherSignal);
    std::vector<pid_t> pids(nproc, -1);
    const std::vector<std::string> rest(args.begin() + std::min<size_t>(1, args.size()), args.end()); // without argv[0]
    for (int r = 0; r < nproc; ++r) {
        pids[r] = startSelf(rest, [r, nproc, port] {
            ::setenv("RANK", std::to_string(r).c_str(), 1);
            ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
            ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
            ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
            ::setenv("MASTER_ADDR", "127.0.0.1", 1);
            ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
            ::unsetenv("TORCHELASTIC_USE_AGENT_STORE"); // rank 0 serves this rendezvous itself
            // The cores are shared among the ranks unless --threads or OMP_NUM_THREADS says otherwise.
            const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
            ::setenv("OMP_NUM_THREADS", std::to_string(std::max(1L, cores / nproc)).c_str(), /*overwrite=*/0);
        });
    }

    // Wait for all; forward Ctrl-C / SIGTERM (each rank stops with the others after its step);
    // when one rank fails, end the others rather than let them wait on it.
    int result = 0, running = nproc;
    bool ending = false;
    auto deadline = std::chrono::steady_clock::time_point::max();
    while (running > 0) {
        if (g_forward) {
            for (pid_t pid : pids)
                if (pid > 0)
                    ::kill(pid, g_forward);
            g_forward = 0;
        }
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            const int rank = static_cast<int>(std::find(pids.begin(), pids.end(), pid) - pids.begin());
            pids[rank] = -1;
            --running;
            const bool ok = WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 130);
            if (!ok && !ending) {
                std::cerr << "train: rank " << rank << " " << describeExitStatus(status)
                          << "; stopping the other ranks (the last checkpoint is kept)\n";
                ending = true;
                result = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
                for (pid_t other : pids)
                    if (other > 0)
                        ::kill(other, SIGTERM);
                deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
            } else if (result == 0 && WIFEXITED(status)) {
                result = WEXITSTATUS(status);
            }
            continue;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            for (pid_t other : pids)
                if (other > 0)
                    ::kill(other, SIGKILL);
            deadline = std::chrono::steady_clock::time_point::max();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (const int sig : kStopSignals)
        std::signal(sig, SIG_DFL);
    return result;
}

} // namespace ijepa::cli
