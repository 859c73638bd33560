#include "core/io/npy.h"

#include "core/errors.h"
#include "core/io/atomic_file.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ijepa {
namespace {

const std::pair<at::ScalarType, const char*> kDtypes[] = {
    {torch::kFloat32, "<f4"}, {torch::kFloat64, "<f8"}, {torch::kInt64, "<i8"}, {torch::kInt32, "<i4"}, {torch::kUInt8, "|u1"}};

} // namespace

void writeNpy(const torch::Tensor& tensor, const std::string& path)
{
    const auto t = tensor.cpu().contiguous();
    const char* descr = nullptr;
    for (const auto& [type, name] : kDtypes)
        if (type == t.scalar_type())
            descr = name;
    if (!descr)
        throw Error(path + ": cannot write dtype " + std::string(c10::toString(t.scalar_type())) + " as .npy");
    std::ostringstream shape;
    shape << "(";
    for (int64_t d = 0; d < t.dim(); ++d)
        shape << t.size(d) << (t.dim() == 1 || d + 1 < t.dim() ? "," : "");
    shape << ")";
    std::string header = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shape.str() + ", }";
    header.append(64 - (10 + header.size() + 1) % 64, ' ');
    header.push_back('\n');
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary);
        out.write("\x93NUMPY\x01\x00", 8);
        const uint16_t len = static_cast<uint16_t>(header.size());
        out.write(reinterpret_cast<const char*>(&len), 2);
        out << header;
        out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
        if (!out)
            throw Error(path + ": write failed");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        throw Error(path + ": cannot rename from " + tmp);
}

namespace {

// The text after `key` in a .npy header dict ("'descr':" -> " '<f4', ..."), or npos.
size_t valueOf(const std::string& header, const std::string& key)
{
    const size_t at = header.find("'" + key + "':");
    return at == std::string::npos ? at : at + key.size() + 3;
}

// The header's dtype, order and shape, parsed by hand (linear in the header's length: a regex
// here recursed once per character and overflowed the stack on long headers, found by fuzz_npy).
struct NpyHeader {
    std::string descr;
    std::vector<int64_t> shape;
};

NpyHeader parseHeader(const std::string& header, const std::string& path)
{
    const auto bad = [&](const std::string& why) {
        return DataError(path + ": unsupported .npy header (" + why + "): " + header.substr(0, 200));
    };
    NpyHeader h;
    size_t i = valueOf(header, "descr");
    if (i == std::string::npos || (i = header.find('\'', i)) == std::string::npos)
        throw bad("no descr");
    const size_t end = header.find('\'', i + 1);
    if (end == std::string::npos || end - i > 16)
        throw bad("descr");
    h.descr = header.substr(i + 1, end - i - 1);
    i = valueOf(header, "fortran_order");
    if (i != std::string::npos)
        i = header.find_first_not_of(' ', i);
    if (i == std::string::npos || header.compare(i, 5, "False") != 0) // compare clips at the end
        throw bad("only C order is read");
    i = valueOf(header, "shape");
    if (i == std::string::npos || (i = header.find('(', i)) == std::string::npos)
        throw bad("no shape");
    int64_t dim = -1;
    bool digitsEnded = false; // "2 3" is not 23
    for (++i; i < header.size() && header[i] != ')'; ++i) {
        const char c = header[i];
        if (c >= '0' && c <= '9') {
            if (digitsEnded)
                throw bad("shape");
            dim = std::max<int64_t>(dim, 0);
            if (dim > (int64_t{1} << 40))
                throw bad("dimension too large");
            dim = dim * 10 + (c - '0');
        } else if (c == ' ') {
            digitsEnded = dim >= 0;
        } else if (c == ',') {
            if (dim < 0)
                throw bad("shape");
            h.shape.push_back(dim);
            dim = -1;
            digitsEnded = false;
        } else {
            throw bad("shape");
        }
    }
    if (i >= header.size())
        throw bad("shape");
    if (dim >= 0)
        h.shape.push_back(dim);
    if (h.shape.size() > 8)
        throw bad("more than 8 dimensions");
    return h;
}

} // namespace

torch::Tensor readNpy(const std::string& path)
{
    if (const std::string why = whyNotAFile(path); !why.empty())
        throw DataError(path + ": " + why);
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in)
        throw DataError(path + ": cannot read");
    const auto fileSize = static_cast<int64_t>(in.tellg());
    in.seekg(0);
    char magic[10] = {};
    in.read(magic, 10);
    if (!in || std::string(magic, 6) != "\x93NUMPY" || magic[6] != 1)
        throw DataError(path + ": not a .npy file (version 1.0)");
    uint16_t len = 0;
    std::memcpy(&len, magic + 8, 2);
    std::string header(len, '\0');
    in.read(header.data(), len);
    if (!in)
        throw DataError(path + ": truncated .npy header");
    const NpyHeader h = parseHeader(header, path);
    at::ScalarType type = at::ScalarType::Undefined;
    for (const auto& [t, name] : kDtypes)
        if (h.descr == name)
            type = t;
    if (type == at::ScalarType::Undefined)
        throw DataError(path + ": unsupported dtype " + h.descr);
    // The data the header promises must be in the file before anything is allocated for it.
    double bytes = static_cast<double>(c10::elementSize(type));
    for (int64_t d : h.shape)
        bytes *= static_cast<double>(d);
    if (bytes > static_cast<double>(fileSize - 10 - len))
        throw DataError(path + ": truncated (the header promises " + std::to_string(static_cast<long long>(bytes)) +
                        " data bytes, the file holds " + std::to_string(fileSize - 10 - len) + ")");
    auto t = torch::empty(h.shape, torch::TensorOptions().dtype(type));
    in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
    if (!in)
        throw DataError(path + ": truncated (the header promises " + std::to_string(t.nbytes()) + " data bytes)");
    return t;
}

} // namespace ijepa
