#pragma once

#include <stdexcept>
#include <string>

namespace ijepa {

// Base of every error the core reports to a user. Thrown with context (file, key) and caught only
// at the edges: the CLI's main and the GUI worker.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A configuration value is missing, malformed or out of range; the message names the key.
class ConfigError : public Error {
public:
    using Error::Error;
};

// An image, a folder or a data set cannot be read; the message names the file.
class DataError : public Error {
public:
    using Error::Error;
};

// A checkpoint cannot be read, written or applied; the message names the file and the key.
class CheckpointError : public Error {
public:
    using Error::Error;
};

// A file cannot be written (a full disk, a read-only folder, a file-size limit); the message names
// the file and the cause. What was on disk before stays whole. The CLI exits 5 on it.
class WriteError : public Error {
public:
    using Error::Error;
};

} // namespace ijepa
