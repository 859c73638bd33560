#pragma once

#include <string>
#include <vector>

namespace ijepa {

// A run folder belongs to one writer: an advisory lock (flock) on <dir>/.ijepa.lock held for the
// whole run. The lock file names the holder's process id; the kernel drops the lock when that
// process ends, however it ends, so a stale lock never blocks.
class RunLock {
public:
    // Takes the lock or throws Error naming the folder and the process that holds it.
    explicit RunLock(const std::string& dir);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

private:
    int m_fd = -1;
};

// Removes checkpoint temp files (<name>.pth.tar.tmp<pid>) that a killed writer left in `dir`;
// returns the names removed. Call while holding the folder's RunLock: no one else writes there.
std::vector<std::string> removeStaleCheckpointTemps(const std::string& dir);

} // namespace ijepa
