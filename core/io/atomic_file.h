#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace ijepa {

// Writes a file atomically: `write` fills a temp file beside `path` (given its descriptor; it
// throws to give up), then fsync, rename over `path`, fsync of the folder. On any failure the
// temp file is removed and `path` is left as it was; errors are WriteError naming `path`.
void writeFileAtomically(const std::string& path, const std::function<void(int fd)>& write);
// The same for a whole text (a config, a JSON record, a table).
void writeTextAtomically(const std::string& path, std::string_view text);

// Writes all of `n` bytes to `fd` (retrying short writes and EINTR); throws WriteError
// naming `path` with the cause (ENOSPC, EIO...).
void writeAll(int fd, const void* data, std::size_t n, const std::string& path);

// Runs `write`; when it throws WriteError (a full disk), asks `onError` with the message whether
// to try again (true: the user freed space) or to give up (false, or no handler: the error
// propagates). The checkpointer and the run's logs share this policy.
void retryingWrites(const std::function<bool(const std::string& message)>& onError, const std::function<void()>& write);

// Why `path` cannot be read as a file, for a message after it: "no such file", "is a folder, not a
// file", "an empty name" (or "" when it is a regular file, or a link to one).
std::string whyNotAFile(const std::string& path);

// A log written record by record (the CSV, TensorBoard events, the settings history): each
// append lands whole or not at all. A failed write (ENOSPC, EFBIG, EIO) is cut back to the end of
// the last whole record and throws WriteError naming the file, so a later append (after space
// was freed) continues a file without a torn record. One writer per file.
class AppendFile {
public:
    AppendFile() = default;
    // Opens `path` for appending (creating it), or empties it first; throws WriteError.
    AppendFile(const std::string& path, bool truncate);
    AppendFile(AppendFile&& other) noexcept;
    AppendFile& operator=(AppendFile&& other) noexcept;
    AppendFile(const AppendFile&) = delete;
    AppendFile& operator=(const AppendFile&) = delete;
    ~AppendFile();

    void append(std::string_view record);
    bool isOpen() const { return m_fd >= 0; }
    const std::string& path() const { return m_path; }

private:
    int m_fd = -1;
    off_t m_size = 0; // the end of the last whole record
    std::string m_path;
};

} // namespace ijepa
