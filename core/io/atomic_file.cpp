#include "core/io/atomic_file.h"

#include "core/errors.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace ijepa {

void writeAll(int fd, const void* data, std::size_t n, const std::string& path)
{
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            throw WriteError(path + ": cannot write: " + std::strerror(errno));
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

void writeFileAtomically(const std::string& path, const std::function<void(int fd)>& write)
{
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw WriteError(path + ": cannot create " + tmp + ": " + std::strerror(errno));
    try {
        write(fd);
        if (::fsync(fd) != 0)
            throw WriteError(path + ": fsync failed: " + std::strerror(errno));
    } catch (...) {
        ::close(fd);
        std::remove(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw WriteError(path + ": cannot rename from " + tmp + ": " + std::strerror(errno));
    }
    const auto dir = std::filesystem::absolute(path).parent_path().string();
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void writeTextAtomically(const std::string& path, std::string_view text)
{
    writeFileAtomically(path, [&](int fd) { writeAll(fd, text.data(), text.size(), path); });
}

void retryingWrites(const std::function<bool(const std::string& message)>& onError, const std::function<void()>& write)
{
    for (;;) {
        try {
            write();
            return;
        } catch (const WriteError& e) {
            if (!onError || !onError(e.what()))
                throw;
        }
    }
}

std::string whyNotAFile(const std::string& path)
{
    std::error_code ec;
    if (path.empty())
        return "an empty name, not a file";
    if (std::filesystem::is_regular_file(path, ec))
        return "";
    if (std::filesystem::is_directory(path, ec))
        return "is a folder, not a file";
    return std::filesystem::exists(path, ec) ? "is not a regular file" : "no such file";
}

AppendFile::AppendFile(const std::string& path, bool truncate) : m_path(path)
{
    m_fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
    if (m_fd < 0)
        throw WriteError(path + ": cannot open for writing: " + std::strerror(errno));
    struct stat st {};
    ::fstat(m_fd, &st);
    m_size = st.st_size;
}

AppendFile::AppendFile(AppendFile&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_size(other.m_size), m_path(std::move(other.m_path))
{
}

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept
{
    if (this != &other) {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = std::exchange(other.m_fd, -1);
        m_size = other.m_size;
        m_path = std::move(other.m_path);
    }
    return *this;
}

AppendFile::~AppendFile()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

void AppendFile::append(std::string_view record)
{
    if (m_fd < 0)
        throw WriteError(m_path + ": not open for writing");
    size_t done = 0;
    while (done < record.size()) {
        const ssize_t w = ::pwrite(m_fd, record.data() + done, record.size() - done, m_size + static_cast<off_t>(done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            const int cause = w < 0 ? errno : ENOSPC;
            if (done > 0) { // cut back to the last whole record (the next append writes from there anyway)
                const int cut = ::ftruncate(m_fd, m_size);
                (void)cut;
            }
            throw WriteError(m_path + ": cannot write: " + std::strerror(cause));
        }
        done += static_cast<size_t>(w);
    }
    m_size += static_cast<off_t>(done);
}

} // namespace ijepa
