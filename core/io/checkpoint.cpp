#include "core/io/checkpoint.h"

#include "core/errors.h"
#include "core/io/atomic_file.h"
#include "core/io/pickle.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace ijepa {
namespace {

using Dict = c10::impl::GenericDict;

Dict newDict() { return Dict(c10::AnyType::get(), c10::AnyType::get()); }

std::string firstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

c10::IValue entry(const c10::IValue& checkpoint, const std::string& key, const std::string& path)
{
    if (!checkpoint.isGenericDict())
        throw CheckpointError(path + ": not a training checkpoint (the top level is not a dict)");
    const auto dict = checkpoint.toGenericDict();
    if (!dict.contains(key))
        throw CheckpointError(path + ": key '" + key + "' is missing");
    return dict.at(key);
}

int64_t intOr(const Dict& d, const std::string& key, int64_t fallback)
{
    return d.contains(key) && d.at(key).isInt() ? d.at(key).toInt() : fallback;
}

double doubleOr(const Dict& d, const std::string& key, double fallback)
{
    if (!d.contains(key))
        return fallback;
    const auto v = d.at(key);
    return v.isDouble() ? v.toDouble() : v.isInt() ? static_cast<double>(v.toInt()) : fallback;
}

} // namespace

c10::IValue readTorchFile(const std::string& path)
{
    if (const std::string why = whyNotAFile(path); !why.empty())
        throw CheckpointError(path + ": " + why);
    {
        std::ifstream in(path, std::ios::binary);
        char magic[2] = {};
        in.read(magic, 2);
        if (magic[0] != 'P' || magic[1] != 'K')
            throw CheckpointError(path + ": not a torch.save zip archive (legacy or non-PyTorch file); "
                                         "re-save it with PyTorch >= 1.6 torch.save");
    }
    try {
        caffe2::serialize::PyTorchStreamReader reader(path);
        auto [pkl, pklSize] = reader.getRecord("data.pkl");
        const auto load = [&](const std::string& key, at::ScalarType dtype, int64_t numel) {
            const std::string name = "data/" + key;
            if (!reader.hasRecord(name))
                throw CheckpointError("storage record '" + name + "' is missing");
            auto [ptr, bytes] = reader.getRecord(name);
            const size_t need = static_cast<size_t>(numel) * c10::elementSize(dtype);
            if (bytes != need)
                throw CheckpointError("storage record '" + name + "' holds " + std::to_string(bytes) +
                                      " bytes, expected " + std::to_string(need));
            auto t = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
            if (need)
                std::memcpy(t.data_ptr(), ptr.get(), need);
            return t;
        };
        return pickle::unpickle(static_cast<const char*>(pkl.get()), pklSize, load);
    } catch (const CheckpointError& e) {
        throw CheckpointError(path + ": " + e.what());
    } catch (const c10::Error& e) {
        throw CheckpointError(path + ": unreadable archive (" + firstLine(e.what_without_backtrace()) + ")");
    }
}

void writeTorchFile(const c10::IValue& value, const std::string& path)
{
    std::vector<std::pair<std::string, at::Tensor>> storages;
    const std::string payload = pickle::picklePayload(value, storages);

    writeFileAtomically(path, [&](int fd) {
        int writeError = 0; // the first failed write's errno; 0 while every write succeeded
        // The writer callback never reports a short write: LibTorch's stream writer would throw, and
        // throwing again from its destructor ends the process (std::terminate). A failure (ENOSPC,
        // EIO, EFBIG...) is remembered, the rest of the archive is dropped, and the error is raised
        // here, after the writer is done.
        caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t n) -> size_t {
            const char* p = static_cast<const char*>(data);
            size_t left = writeError ? 0 : n;
            while (left > 0) {
                const ssize_t w = ::write(fd, p, left);
                if (w < 0) {
                    if (errno == EINTR)
                        continue;
                    writeError = errno;
                    break;
                }
                p += w;
                left -= static_cast<size_t>(w);
            }
            return n;
        });
        writer.writeRecord("data.pkl", payload.data(), payload.size());
        writer.writeRecord("byteorder", "little", 6);
        for (const auto& [key, tensor] : storages)
            writer.writeRecord("data/" + key, tensor.data_ptr(), tensor.nbytes());
        writer.writeEndOfFile();
        if (writeError)
            throw WriteError(path + ": cannot write the checkpoint: " + std::strerror(writeError) +
                                  " (the previous checkpoint, if any, is unchanged)");
    });
}

c10::IValue stateDict(const torch::nn::Module& module, const std::string& prefix)
{
    auto dict = newDict();
    for (const auto& p : module.named_parameters(/*recurse=*/true))
        dict.insert(prefix + p.key(), p.value().detach());
    for (const auto& b : module.named_buffers(/*recurse=*/true))
        dict.insert(prefix + b.key(), b.value().detach());
    return dict;
}

void loadStateDict(torch::nn::Module& module, const c10::IValue& state, const std::string& context)
{
    if (!state.isGenericDict())
        throw CheckpointError(context + ": not a state dict");
    std::map<std::string, at::Tensor> given;
    for (const auto& e : state.toGenericDict()) {
        if (!e.key().isString() || !e.value().isTensor())
            throw CheckpointError(context + ": state dict entries must map names to tensors");
        std::string name = e.key().toStringRef();
        if (name.rfind("module.", 0) == 0)
            name = name.substr(7);
        given[name] = e.value().toTensor();
    }
    std::vector<std::string> missing, mismatched;
    std::set<std::string> used;
    auto targets = module.named_parameters(/*recurse=*/true);
    for (const auto& b : module.named_buffers(/*recurse=*/true))
        targets.insert(b.key(), b.value());
    for (const auto& t : targets) {
        auto it = given.find(t.key());
        if (it == given.end()) {
            missing.push_back(t.key());
            continue;
        }
        used.insert(t.key());
        if (!it->second.sizes().equals(t.value().sizes()))
            mismatched.push_back(t.key() + " (checkpoint " + c10::str(it->second.sizes()) + ", model " +
                                 c10::str(t.value().sizes()) + ")");
    }
    std::vector<std::string> unexpected;
    for (const auto& [name, _] : given)
        if (!used.count(name))
            unexpected.push_back(name);
    if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
        std::ostringstream msg;
        msg << context << ": state dict does not match the model";
        const auto list = [&](const char* what, const std::vector<std::string>& names) {
            if (names.empty())
                return;
            msg << "; " << what << ":";
            for (size_t i = 0; i < names.size() && i < 8; ++i)
                msg << " '" << names[i] << "'";
            if (names.size() > 8)
                msg << " and " << names.size() - 8 << " more";
        };
        list("shape mismatch", mismatched);
        list("missing", missing);
        list("unexpected", unexpected);
        throw CheckpointError(msg.str());
    }
    for (const auto& t : targets) { // a NaN or an inf would only show later, as a diverged run or a failed SVD
        const auto& value = given.at(t.key());
        if (!t.value().is_floating_point()) // a counter such as BatchNorm's num_batches_tracked
            continue;
        if (!value.is_floating_point())
            throw CheckpointError(context + ": tensor '" + t.key() + "' holds " + std::string(c10::toString(value.scalar_type())) +
                                  " values, not floating point weights");
        if (!torch::isfinite(value).all().item<bool>())
            throw CheckpointError(context + ": tensor '" + t.key() + "' holds NaN or infinite values (a diverged run's weights?)");
    }
    torch::NoGradGuard noGrad;
    for (const auto& t : targets)
        t.value().copy_(given.at(t.key()));
}

void saveCheckpoint(const std::string& path, const IJepaModel& model, const AdamW* optimizer, const CheckpointMeta& meta)
{
    auto ckpt = newDict();
    ckpt.insert("encoder", stateDict(*model.encoder));
    ckpt.insert("predictor", stateDict(*model.predictor));
    ckpt.insert("target_encoder", stateDict(*model.targetEncoder));
    if (model.projector) // SIGReg's projector head (an extension; the reference ignores the key)
        ckpt.insert("projector", stateDict(*model.projector));
    ckpt.insert("opt", optimizer ? optimizer->stateDict() : c10::IValue());
    ckpt.insert("scaler", c10::IValue());
    ckpt.insert("epoch", meta.epoch);
    ckpt.insert("loss", meta.loss);
    ckpt.insert("batch_size", meta.batchSize);
    ckpt.insert("world_size", meta.worldSize);
    ckpt.insert("lr", meta.lr);
    auto extra = newDict();
    extra.insert("iteration", meta.iteration);
    extra.insert("config", meta.config ? c10::IValue(*meta.config) : c10::IValue());
    extra.insert("precision", meta.precision ? c10::IValue(*meta.precision) : c10::IValue());
    extra.insert("format", 1);
    ckpt.insert("ijepa", extra);
    writeTorchFile(ckpt, path);
}

CheckpointMeta checkpointMeta(const c10::IValue& checkpoint, const std::string& path)
{
    entry(checkpoint, "encoder", path);
    const auto d = checkpoint.toGenericDict();
    CheckpointMeta meta;
    meta.epoch = intOr(d, "epoch", 0);
    if (meta.epoch < 0)
        throw CheckpointError(path + ": key 'epoch': " + std::to_string(meta.epoch) + " (must be 0 or more)");
    meta.loss = doubleOr(d, "loss", 0.0);
    meta.batchSize = intOr(d, "batch_size", 0);
    meta.worldSize = intOr(d, "world_size", 1);
    meta.lr = doubleOr(d, "lr", 0.0);
    if (d.contains("ijepa") && d.at("ijepa").isGenericDict()) {
        const auto extra = d.at("ijepa").toGenericDict();
        meta.iteration = intOr(extra, "iteration", 0);
        if (meta.iteration < 0)
            throw CheckpointError(path + ": key 'ijepa.iteration': " + std::to_string(meta.iteration) + " (must be 0 or more)");
        if (extra.contains("config") && extra.at("config").isString())
            meta.config = extra.at("config").toStringRef();
        if (extra.contains("precision") && extra.at("precision").isString()) {
            meta.precision = extra.at("precision").toStringRef();
            if (*meta.precision != "bf16" && *meta.precision != "fp32")
                throw CheckpointError(path + ": key 'ijepa.precision': expected bf16 or fp32, got '" + *meta.precision + "'");
        }
    }
    return meta;
}

CheckpointMeta loadCheckpoint(const std::string& path, IJepaModel& model, AdamW* optimizer)
{
    return loadCheckpoint(readTorchFile(path), path, model, optimizer);
}

CheckpointMeta loadCheckpoint(const c10::IValue& ckpt, const std::string& path, IJepaModel& model, AdamW* optimizer)
{
    const CheckpointMeta meta = checkpointMeta(ckpt, path);
    loadStateDict(*model.encoder, entry(ckpt, "encoder", path), path + ": key 'encoder'");
    loadStateDict(*model.predictor, entry(ckpt, "predictor", path), path + ": key 'predictor'");
    loadStateDict(*model.targetEncoder, entry(ckpt, "target_encoder", path), path + ": key 'target_encoder'");
    if (model.projector)
        loadStateDict(*model.projector, entry(ckpt, "projector", path), path + ": key 'projector'");
    if (optimizer) {
        const auto opt = entry(ckpt, "opt", path);
        if (!opt.isNone())
            optimizer->loadStateDict(opt, path + ": key 'opt'");
    }
    return meta;
}

Config checkpointConfig(const c10::IValue& checkpoint, const std::string& path)
{
    if (const auto meta = checkpointMeta(checkpoint, path); meta.config)
        return parseConfig(*meta.config, path + " (embedded config)");
    const auto beside = std::filesystem::path(path).parent_path() / "params-ijepa.yaml";
    if (!std::filesystem::exists(beside))
        throw CheckpointError(path + ": carries no config (a reference checkpoint?) and there is no " + beside.string() +
                              ": pass --config with its params-ijepa.yaml");
    return loadConfig(beside.string());
}

} // namespace ijepa
