#include "core/dist/distributed.h"

#include "core/errors.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef IJEPA_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#define IJEPA_COMPAT_C10D
#include "core/compat.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ijepa {
namespace {

std::optional<long> envInt(const char* name)
{
    const char* value = std::getenv(name);
    if (!value || !*value)
        return std::nullopt;
    char* end = nullptr;
    const long v = std::strtol(value, &end, 10);
    if (*end != '\0')
        throw ConfigError(std::string("environment variable ") + name + ": expected an integer, got '" + value + "'");
    return v;
}

} // namespace

int freeLocalPort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        const std::string reason = std::strerror(errno);
        if (fd >= 0)
            ::close(fd);
        throw Error("cannot find a free port on 127.0.0.1: " + reason);
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::optional<DistributedEnv> distributedEnvFromEnvironment()
{
    const auto world = envInt("WORLD_SIZE");
    if (!world)
        return std::nullopt;
    DistributedEnv env;
    env.worldSize = static_cast<int>(*world);
    env.rank = static_cast<int>(envInt("RANK").value_or(0));
    env.localRank = static_cast<int>(envInt("LOCAL_RANK").value_or(env.rank));
    if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr)
        env.masterAddr = addr;
    env.masterPort = static_cast<int>(envInt("MASTER_PORT").value_or(29500));
    if (const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE"); agent && std::string(agent) == "True")
        env.agentStoreAttempt = static_cast<int>(envInt("TORCHELASTIC_RESTART_COUNT").value_or(0));
    if (env.worldSize < 1)
        throw ConfigError("environment variable WORLD_SIZE: must be at least 1");
    if (env.rank < 0 || env.rank >= env.worldSize)
        throw ConfigError("environment variable RANK: " + std::to_string(env.rank) + " is not in [0, WORLD_SIZE=" +
                          std::to_string(env.worldSize) + ")");
    if (env.masterPort <= 0 || env.masterPort > 65535)
        throw ConfigError("environment variable MASTER_PORT: " + std::to_string(env.masterPort) + " is not a port");
    return env;
}

struct ProcessGroup::Impl {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<compat::CollectiveBackend> group;
    std::string backend;
    std::chrono::milliseconds timeout;
};

ProcessGroup::ProcessGroup(const DistributedEnv& env, torch::Device device, std::chrono::milliseconds timeout)
    : m_env(env)
    , m(std::make_unique<Impl>())
{
    m->timeout = timeout;
    try {
        c10d::TCPStoreOptions so;
        so.port = static_cast<std::uint16_t>(env.masterPort);
        so.isServer = env.rank == 0 && !env.agentStoreAttempt;
        so.numWorkers = env.worldSize;
        so.waitWorkers = true;
        so.timeout = timeout;
        auto tcp = c10::make_intrusive<c10d::TCPStore>(env.masterAddr, so);
        if (env.agentStoreAttempt)
            m->store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(*env.agentStoreAttempt), tcp);
        else
            m->store = tcp;
#ifdef IJEPA_WITH_NCCL
        if (device.is_cuda()) {
            auto options = c10d::ProcessGroupNCCL::Options::create();
            options->timeout = timeout;
            m->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(m->store, env.rank, env.worldSize, options);
            m->backend = "nccl";
            return;
        }
#endif
        (void)device;
        auto options = c10d::ProcessGroupGloo::Options::create(timeout);
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(
            env.masterAddr == "localhost" ? std::string("127.0.0.1") : env.masterAddr));
        m->group = c10::make_intrusive<c10d::ProcessGroupGloo>(m->store, env.rank, env.worldSize, options);
        m->backend = "gloo";
    } catch (const std::exception& e) {
        throw Error("rank " + std::to_string(env.rank) + ": cannot join the process group at " + env.masterAddr + ":" +
                    std::to_string(env.masterPort) + " (" + std::to_string(env.worldSize) + " processes): " + e.what());
    }
}

ProcessGroup::~ProcessGroup() = default;

std::string ProcessGroup::backend() const
{
    return m->backend;
}

namespace {

template <class Fn>
void collective(const DistributedEnv& env, const char* what, Fn&& fn)
{
    try {
        fn()->wait();
    } catch (const std::exception& e) {
        throw Error("rank " + std::to_string(env.rank) + ": " + what +
                    " failed; another process has probably died or stopped responding (" + e.what() + ")");
    }
}

} // namespace

void ProcessGroup::broadcast(const std::vector<torch::Tensor>& tensors, int root)
{
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.timeout = m->timeout;
    for (const auto& t : tensors) {
        std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
        collective(m_env, "broadcast", [&] { return m->group->broadcast(one, opts); });
        if (!t.is_contiguous())
            t.copy_(one[0]);
    }
}

void ProcessGroup::allreduceSum(torch::Tensor& tensor)
{
    c10d::AllreduceOptions opts;
    opts.timeout = m->timeout;
    std::vector<at::Tensor> one{tensor};
    collective(m_env, "all-reduce", [&] { return m->group->allreduce(one, opts); });
}

void ProcessGroup::averageGradients(const std::vector<torch::Tensor>& parameters, std::int64_t bucketBytes)
{
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> grads;
    for (const auto& p : parameters)
        if (p.grad().defined())
            grads.push_back(p.grad());
    const double scale = 1.0 / m_env.worldSize;
    std::size_t i = 0;
    while (i < grads.size()) {
        // One bucket: consecutive gradients of one dtype and device up to bucketBytes.
        std::vector<torch::Tensor> bucket{grads[i]};
        std::int64_t bytes = grads[i].numel() * grads[i].element_size();
        std::size_t j = i + 1;
        while (j < grads.size() && grads[j].scalar_type() == grads[i].scalar_type() &&
               grads[j].device() == grads[i].device() && bytes + grads[j].numel() * grads[j].element_size() <= bucketBytes) {
            bytes += grads[j].numel() * grads[j].element_size();
            bucket.push_back(grads[j++]);
        }
        std::vector<torch::Tensor> flat;
        for (const auto& g : bucket)
            flat.push_back(g.reshape(-1));
        auto packed = torch::cat(flat);
        allreduceSum(packed);
        packed.mul_(scale);
        std::int64_t offset = 0;
        for (auto& g : bucket) {
            g.copy_(packed.narrow(0, offset, g.numel()).view_as(g));
            offset += g.numel();
        }
        i = j;
    }
}

} // namespace ijepa
