#pragma once

#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ijepa {

// Where this process sits in a data-parallel job (torchrun's variables).
struct DistributedEnv {
    int rank = 0;
    int worldSize = 1;
    int localRank = 0;
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    // Under torchrun its agent already serves the TCPStore at MASTER_ADDR:MASTER_PORT
    // (TORCHELASTIC_USE_AGENT_STORE=True): every rank joins it as a client, with its keys under
    // the restart attempt's prefix (TORCHELASTIC_RESTART_COUNT), as torch.distributed does.
    std::optional<int> agentStoreAttempt;
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT and torchrun's
// TORCHELASTIC_USE_AGENT_STORE / TORCHELASTIC_RESTART_COUNT; nullopt when WORLD_SIZE is unset.
// Throws ConfigError naming the variable for a malformed or inconsistent value.
std::optional<DistributedEnv> distributedEnvFromEnvironment();

// A TCP port on 127.0.0.1 that is free now (for a local rendezvous); throws Error if none is.
int freeLocalPort();

// A c10d process group (PyTorch's distributed engine): TCPStore rendezvous at MASTER_ADDR:PORT,
// then ProcessGroupGloo (CPU tensors; also CUDA tensors through host copies) or ProcessGroupNCCL
// for CUDA when this LibTorch has it. Every collective waits at most `timeout`; a failure (a rank
// that died or hangs) throws Error with the rank and the cause, so no process waits forever.
class ProcessGroup {
public:
    ProcessGroup(const DistributedEnv& env, torch::Device device,
                 std::chrono::milliseconds timeout = std::chrono::seconds(120));
    ~ProcessGroup();
    ProcessGroup(const ProcessGroup&) = delete;
    ProcessGroup& operator=(const ProcessGroup&) = delete;

    int rank() const { return m_env.rank; }
    int worldSize() const { return m_env.worldSize; }
    std::string backend() const;

    // Overwrites `tensors` on every rank with rank `root`'s values.
    void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
    // Sums `tensor` over the ranks, in place.
    void allreduceSum(torch::Tensor& tensor);
    // Replaces each gradient with its mean over the ranks: gradients are packed into flat buckets
    // of at most `bucketBytes` and all-reduced one bucket at a time (as DDP's bucketing).
    void averageGradients(const std::vector<torch::Tensor>& parameters, std::int64_t bucketBytes = 25 << 20);

private:
    struct Impl;
    DistributedEnv m_env;
    std::unique_ptr<Impl> m;
};

} // namespace ijepa
