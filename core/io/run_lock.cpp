#include "core/io/run_lock.h"

#include "core/errors.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace ijepa {

namespace fs = std::filesystem;

RunLock::RunLock(const std::string& dir)
{
    const std::string path = (fs::path(dir) / ".ijepa.lock").string();
    m_fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (m_fd < 0)
        throw Error(path + ": cannot open the run folder's lock file: " + std::strerror(errno));
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char holder[64] = {};
        const ssize_t n = ::pread(m_fd, holder, sizeof(holder) - 1, 0);
        ::close(m_fd);
        m_fd = -1;
        if (err == EWOULDBLOCK)
            throw Error(dir + " is in use by another run (process " + std::string(holder, n > 0 ? static_cast<size_t>(n) : 0) +
                        "): wait for it to end, or choose another output folder");
        throw Error(path + ": cannot lock: " + std::strerror(err));
    }
    const std::string pid = std::to_string(::getpid());
    if (::ftruncate(m_fd, 0) == 0 && ::pwrite(m_fd, pid.data(), pid.size(), 0) < 0) {
        // The pid is only for the message a second writer sees; the lock itself holds.
    }
}

RunLock::~RunLock()
{
    if (m_fd >= 0)
        ::close(m_fd); // releases the lock
}

std::vector<std::string> removeStaleCheckpointTemps(const std::string& dir)
{
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        const auto at = name.find(".pth.tar.tmp");
        if (at == std::string::npos || !entry.is_regular_file(ec))
            continue;
        if (fs::remove(entry.path(), ec))
            removed.push_back(name);
    }
    return removed;
}

} // namespace ijepa
