#pragma once

#include <functional>
#include <string>

namespace ijepa {

// Writes a file atomically: `write` fills a temp file beside `path` (given its descriptor; it
// throws to give up), then fsync, rename over `path`, fsync of the folder. On any failure the
// temp file is removed and `path` is left as it was; errors are CheckpointError naming `path`.
void writeFileAtomically(const std::string& path, const std::function<void(int fd)>& write);

// Writes all of `n` bytes to `fd` (retrying short writes and EINTR); throws CheckpointError
// naming `path` with the cause (ENOSPC, EIO...).
void writeAll(int fd, const void* data, std::size_t n, const std::string& path);

} // namespace ijepa
