#include "core/io/npy.h"

#include "core/errors.h"

#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <regex>
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

torch::Tensor readNpy(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw DataError(path + ": no such file");
    char magic[10] = {};
    in.read(magic, 10);
    if (!in || std::string(magic, 6) != "\x93NUMPY" || magic[6] != 1)
        throw DataError(path + ": not a .npy file (version 1.0)");
    uint16_t len = 0;
    std::memcpy(&len, magic + 8, 2);
    std::string header(len, '\0');
    in.read(header.data(), len);
    std::smatch m;
    if (!std::regex_search(header, m, std::regex("'descr': *'([^']+)'.*'fortran_order': *False.*'shape': *\\(([0-9, ]*)\\)")))
        throw DataError(path + ": unsupported .npy header " + header);
    at::ScalarType type = at::ScalarType::Undefined;
    for (const auto& [t, name] : kDtypes)
        if (m[1] == name)
            type = t;
    if (type == at::ScalarType::Undefined)
        throw DataError(path + ": unsupported dtype " + m[1].str());
    std::vector<int64_t> shape;
    std::stringstream dims(m[2].str());
    for (std::string d; std::getline(dims, d, ',');)
        if (d.find_first_not_of(' ') != std::string::npos)
            shape.push_back(std::stoll(d));
    auto t = torch::empty(shape, torch::TensorOptions().dtype(type));
    in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
    if (!in)
        throw DataError(path + ": truncated (the header promises " + std::to_string(t.nbytes()) + " data bytes)");
    return t;
}

} // namespace ijepa
