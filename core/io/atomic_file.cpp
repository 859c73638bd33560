#include "core/io/atomic_file.h"

#include "core/errors.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace ijepa {

void writeAll(int fd, const void* data, std::size_t n, const std::string& path)
{
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            throw CheckpointError(path + ": cannot write: " + std::strerror(errno));
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

void writeFileAtomically(const std::string& path, const std::function<void(int fd)>& write)
{
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw CheckpointError(path + ": cannot create " + tmp + ": " + std::strerror(errno));
    try {
        write(fd);
        if (::fsync(fd) != 0)
            throw CheckpointError(path + ": fsync failed: " + std::strerror(errno));
    } catch (...) {
        ::close(fd);
        std::remove(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw CheckpointError(path + ": cannot rename from " + tmp + ": " + std::strerror(errno));
    }
    const auto dir = std::filesystem::absolute(path).parent_path().string();
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

} // namespace ijepa
