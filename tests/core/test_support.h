#pragma once

#include "core/data/data_loader.h"
#include "core/io/checkpoint.h"

#include <unistd.h>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
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

// A loader of `workers` threads on 32-pixel crops, batch `batch`, seed 7.
inline LoaderOptions smallLoader(int workers, int batch = 8)
{
    LoaderOptions o;
    o.batchSize = batch;
    o.cropSize = 32;
    o.workers = workers;
    o.seed = 7;
    return o;
}

// Masks on the 8x8 grid of 32-pixel crops with 4-pixel patches.
inline MaskConfig smallMasks()
{
    MaskConfig m;
    m.patch_size = 4;
    m.min_keep = 4;
    return m;
}

// A small model on 32-pixel crops of Fashion-MNIST: a few ms per image on a CPU.
inline Config smallModelConfig()
{
    Config c;
    c.data.batch_size = 16;
    c.data.crop_size = 32;
    c.data.num_workers = 2;
    c.mask.patch_size = 4;
    c.mask.min_keep = 4;
    c.meta.model_name = "vit_tiny";
    c.meta.embed_dim = 64;
    c.meta.depth = 2;
    c.meta.num_heads = 2;
    c.meta.pred_emb_dim = 32;
    c.meta.pred_depth = 2;
    c.optimization.epochs = 2;
    c.optimization.warmup = 1;
    return c;
}

// Every tensor of the three networks and the optimiser state, by name.
inline std::map<std::string, torch::Tensor> checkpointTensors(const std::string& path)
{
    std::map<std::string, torch::Tensor> out;
    const auto d = readTorchFile(path).toGenericDict();
    for (const char* net : {"encoder", "predictor", "target_encoder"})
        for (const auto& e : d.at(net).toGenericDict())
            out[std::string(net) + "/" + e.key().toStringRef()] = e.value().toTensor();
    for (const auto& e : d.at("opt").toGenericDict().at("state").toGenericDict())
        for (const auto& s : e.value().toGenericDict())
            if (s.value().isTensor())
                out["opt/" + std::to_string(e.key().toInt()) + "/" + s.key().toStringRef()] = s.value().toTensor();
    return out;
}

// Data rows of a CSV file (the header excluded).
inline int csvRows(const std::string& path)
{
    std::ifstream in(path);
    int n = -1;
    for (std::string line; std::getline(in, line);)
        ++n;
    return std::max(n, 0);
}

inline double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// LibTorch's intra-op thread count set for a scope, the previous count restored at its end. A
// result that depends on the count (the CPU step splits its batch into one slice per thread) is
// then the same on every machine, whatever its core count.
class ThreadCount {
public:
    explicit ThreadCount(int threads) : m_before(at::get_num_threads()) { at::set_num_threads(threads); }
    ~ThreadCount() { at::set_num_threads(m_before); }
    ThreadCount(const ThreadCount&) = delete;
    ThreadCount& operator=(const ThreadCount&) = delete;

private:
    int m_before;
};

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
