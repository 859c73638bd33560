#pragma once

#include "checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>

namespace ijepa::test {

inline std::string sharedFixture(const std::string& rel) { return std::string(IJEPA_SHARED_FIXTURES) + "/" + rel; }
inline std::string testFixture(const std::string& rel) { return std::string(IJEPA_TEST_FIXTURES) + "/" + rel; }

inline c10::Dict<c10::IValue, c10::IValue> readDict(const std::string& path)
{
    return readTorchFile(path).toGenericDict();
}

inline torch::Tensor tensorAt(const c10::Dict<c10::IValue, c10::IValue>& d, const std::string& key)
{
    return d.at(key).toTensor();
}

inline double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// A fresh temporary directory removed at scope exit.
struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        path = std::filesystem::temp_directory_path() /
               ("ijepa-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
    static int& counter()
    {
        static int n = 0;
        return n;
    }
};

} // namespace ijepa::test
