#include "core/io/safetensors.h"

#include "core/errors.h"
#include "core/io/atomic_file.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <unistd.h>

namespace ijepa {
namespace {

using Json = nlohmann::json;

const std::map<std::string, torch::ScalarType>& dtypes()
{
    static const std::map<std::string, torch::ScalarType> m{
        {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
        {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
        {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
    return m;
}

std::string dtypeName(torch::ScalarType t, const std::string& path, const std::string& tensor)
{
    for (const auto& [name, type] : dtypes())
        if (type == t)
            return name;
    throw CheckpointError(path + ": tensor '" + tensor + "' has a dtype safetensors has no name for");
}

} // namespace

torch::Tensor SafeTensors::find(const std::string& name) const
{
    for (const auto& [n, t] : tensors)
        if (n == name)
            return t;
    return {};
}

void writeSafetensors(const std::string& path, const SafeTensors& file)
{
    Json header = Json::object();
    std::vector<torch::Tensor> data;
    std::uint64_t offset = 0;
    for (const auto& [name, tensor] : file.tensors) {
        if (header.contains(name))
            throw CheckpointError(path + ": tensor '" + name + "' twice");
        const auto t = tensor.detach().to(torch::kCPU).contiguous();
        const auto bytes = static_cast<std::uint64_t>(t.nbytes());
        header[name] = {{"dtype", dtypeName(t.scalar_type(), path, name)}, {"shape", t.sizes().vec()},
                        {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
        data.push_back(t);
    }
    if (!file.metadata.empty())
        header["__metadata__"] = file.metadata;
    std::string text = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); // a path in the config may not be UTF-8
    text.append((8 - text.size() % 8) % 8, ' ');
    std::uint64_t length = text.size();
    char prefix[8];
    for (int i = 0; i < 8; ++i)
        prefix[i] = static_cast<char>((length >> (8 * i)) & 0xFF);

    writeFileAtomically(path, [&](int fd) {
        writeAll(fd, prefix, 8, path);
        writeAll(fd, text.data(), text.size(), path);
        for (const auto& t : data)
            writeAll(fd, t.data_ptr(), t.nbytes(), path);
    });
}

SafeTensors parseSafetensors(const std::uint8_t* data, std::size_t size, const std::string& name)
{
    const auto fail = [&](const std::string& what) { return CheckpointError(name + ": not a valid safetensors file: " + what); };
    if (size < 8)
        throw fail("shorter than the 8-byte header length");
    std::uint64_t length = 0;
    for (int i = 7; i >= 0; --i)
        length = (length << 8) | data[i];
    if (length > size - 8)
        throw fail("the header length " + std::to_string(length) + " runs past the file's " + std::to_string(size) + " bytes");
    // Duplicate names: JSON allows them and nlohmann keeps the last; a tensor file must not.
    std::set<std::string> seen;
    std::string duplicate;
    Json header;
    try {
        header = Json::parse(data + 8, data + 8 + length, [&](int depth, Json::parse_event_t event, Json& parsed) {
            if (depth == 1 && event == Json::parse_event_t::key && !seen.insert(parsed.get<std::string>()).second &&
                duplicate.empty())
                duplicate = parsed.get<std::string>();
            return true;
        });
    } catch (const Json::exception& e) {
        throw fail(std::string("the header is not JSON (") + e.what() + ")");
    }
    if (!duplicate.empty())
        throw fail("the name '" + duplicate + "' appears twice");
    if (!header.is_object())
        throw fail("the header is not a JSON object");
    const std::uint64_t available = size - 8 - length;
    const std::uint8_t* base = data + 8 + length;
    SafeTensors out;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    try {
        for (const auto& [key, entry] : header.items()) {
            if (key == "__metadata__") {
                for (const auto& [k, v] : entry.items())
                    out.metadata[k] = v.get<std::string>();
                continue;
            }
            const auto dtype = entry.at("dtype").get<std::string>();
            const auto known = dtypes().find(dtype);
            if (known == dtypes().end())
                throw fail("tensor '" + key + "' has the unknown dtype '" + dtype + "'");
            const auto shape = entry.at("shape").get<std::vector<std::int64_t>>();
            const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
            if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > available)
                throw fail("tensor '" + key + "' has data_offsets outside the " + std::to_string(available) + " data bytes");
            std::uint64_t bytes = torch::elementSize(known->second);
            for (const auto d : shape) {
                if (d < 0 || (d > 0 && bytes > std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(d)))
                    throw fail("tensor '" + key + "' has a shape its " + std::to_string(offsets[1] - offsets[0]) +
                               " bytes cannot hold");
                bytes *= static_cast<std::uint64_t>(d);
            }
            if (bytes != offsets[1] - offsets[0])
                throw fail("tensor '" + key + "': its shape needs " + std::to_string(bytes) + " bytes, its offsets give " +
                           std::to_string(offsets[1] - offsets[0]));
            auto tensor = torch::empty(shape, torch::TensorOptions().dtype(known->second));
            if (bytes > 0)
                std::memcpy(tensor.data_ptr(), base + offsets[0], bytes);
            out.tensors.emplace_back(key, tensor);
            ranges.emplace_back(offsets[0], offsets[1]);
        }
    } catch (const Json::exception& e) {
        throw fail(std::string("a malformed entry (") + e.what() + ")");
    }
    std::sort(ranges.begin(), ranges.end());
    std::uint64_t covered = 0;
    for (const auto& [begin, end] : ranges) {
        if (begin != covered)
            throw fail(begin < covered ? "two tensors' bytes overlap" : "a gap of unused bytes between tensors");
        covered = end;
    }
    if (covered != available)
        throw fail(std::to_string(available - covered) + " bytes after the last tensor");
    return out;
}

SafeTensors readSafetensors(const std::string& path)
{
    if (const std::string why = whyNotAFile(path); !why.empty())
        throw CheckpointError(path + ": " + why);
    std::ifstream in(path, std::ios::binary);
    const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
    if (!in.good() && !in.eof())
        throw CheckpointError(path + ": cannot read");
    return parseSafetensors(bytes.data(), bytes.size(), path);
}

} // namespace ijepa
