#include "core/io/event_writer.h"

#include "core/errors.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace ijepa {
namespace {

constexpr std::array<std::uint32_t, 256> crcTable()
{
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1; // reflected Castagnoli polynomial
        t[i] = c;
    }
    return t;
}
constexpr auto kCrcTable = crcTable();

// Protocol-buffer wire format: varints, fixed-width numbers and length-delimited fields.
void varint(std::string& out, std::uint64_t v)
{
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7F) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}
void tag(std::string& out, int field, int wireType) { varint(out, static_cast<std::uint64_t>(field << 3 | wireType)); }
template <typename T>
void fixed(std::string& out, T value)
{
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T)); // little endian on every supported platform
    out.append(bytes, sizeof(T));
}
void bytesField(std::string& out, int field, std::string_view v)
{
    tag(out, field, 2);
    varint(out, v.size());
    out.append(v);
}

double wallTime()
{
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace

std::uint32_t crc32c(std::string_view data)
{
    std::uint32_t c = 0xFFFFFFFFu;
    for (unsigned char b : data)
        c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

std::uint32_t maskedCrc32c(std::string_view data)
{
    const std::uint32_t c = crc32c(data);
    return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

std::string tfRecord(std::string_view data)
{
    std::string header;
    fixed<std::uint64_t>(header, data.size());
    std::string out = header;
    fixed<std::uint32_t>(out, maskedCrc32c(header));
    out.append(data);
    fixed<std::uint32_t>(out, maskedCrc32c(data));
    return out;
}

EventWriter::EventWriter(const std::string& dir, const std::string& suffix)
{
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    char host[256] = "localhost";
    ::gethostname(host, sizeof(host) - 1);
    m_path = dir + "/events.out.tfevents." + std::to_string(static_cast<std::int64_t>(wallTime())) + "." + host + "." +
             suffix;
    m_file = AppendFile(m_path, false);
    std::string event; // Event{wall_time=1, step=2, file_version=3}
    tag(event, 1, 1);
    fixed<double>(event, wallTime());
    tag(event, 2, 0);
    varint(event, 0);
    bytesField(event, 3, "brain.Event:2");
    m_pending = tfRecord(event);
    flush();
}

EventWriter::~EventWriter()
{
    try {
        flush();
    } catch (const Error&) {
        // the records since the last flush are lost; the file holds whole records only
    }
}

void EventWriter::writeEvent(std::int64_t step, const std::string& summaryValue)
{
    std::string summary; // Summary{repeated Value value=1}
    bytesField(summary, 1, summaryValue);
    std::string event; // Event{wall_time=1, step=2, summary=5}
    tag(event, 1, 1);
    fixed<double>(event, wallTime());
    tag(event, 2, 0);
    varint(event, static_cast<std::uint64_t>(step));
    bytesField(event, 5, summary);
    m_pending += tfRecord(event);
}

void EventWriter::addScalar(const std::string& name, std::int64_t step, double value)
{
    std::string v; // Summary.Value{tag=1, simple_value=2 (float)}
    bytesField(v, 1, name);
    tag(v, 2, 5);
    fixed<float>(v, static_cast<float>(value));
    writeEvent(step, v);
}

void EventWriter::addHistogram(const std::string& name, std::int64_t step, const std::vector<double>& limits,
                               const std::vector<double>& counts)
{
    if (limits.empty() || limits.size() != counts.size())
        throw Error(name + ": a histogram needs as many bucket limits as counts");
    double num = 0, sum = 0, squares = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
        num += counts[i];
        sum += counts[i] * limits[i];
        squares += counts[i] * limits[i] * limits[i];
    }
    std::string packedLimits, packedCounts;
    for (size_t i = 0; i < limits.size(); ++i) {
        fixed<double>(packedLimits, limits[i]);
        fixed<double>(packedCounts, counts[i]);
    }
    std::string h; // HistogramProto{min=1, max=2, num=3, sum=4, sum_squares=5, bucket_limit=6, bucket=7}
    const double values[] = {limits.front() - 1.0, limits.back(), num, sum, squares};
    for (int f = 0; f < 5; ++f) {
        tag(h, f + 1, 1);
        fixed<double>(h, values[f]);
    }
    bytesField(h, 6, packedLimits);
    bytesField(h, 7, packedCounts);
    std::string v; // Summary.Value{tag=1, histo=5}
    bytesField(v, 1, name);
    bytesField(v, 5, h);
    writeEvent(step, v);
}

void EventWriter::addText(const std::string& name, std::int64_t step, const std::string& text)
{
    std::string plugin; // SummaryMetadata{plugin_data=1: PluginData{plugin_name=1}}
    std::string pluginData;
    bytesField(pluginData, 1, "text");
    bytesField(plugin, 1, pluginData);
    std::string dim; // TensorShapeProto.Dim{size=1}
    tag(dim, 1, 0);
    varint(dim, 1);
    std::string shape; // TensorShapeProto{dim=2}
    bytesField(shape, 2, dim);
    std::string tensor; // TensorProto{dtype=1 (DT_STRING = 7), tensor_shape=2, string_val=8}
    tag(tensor, 1, 0);
    varint(tensor, 7);
    bytesField(tensor, 2, shape);
    bytesField(tensor, 8, text);
    std::string v; // Summary.Value{tag=1, tensor=8, metadata=9}
    bytesField(v, 1, name);
    bytesField(v, 8, tensor);
    bytesField(v, 9, plugin);
    writeEvent(step, v);
}

void EventWriter::addImage(const std::string& name, std::int64_t step, const std::string& png, int height, int width)
{
    std::string image; // Summary.Image{height=1, width=2, colorspace=3, encoded_image_string=4}
    tag(image, 1, 0);
    varint(image, static_cast<std::uint64_t>(height));
    tag(image, 2, 0);
    varint(image, static_cast<std::uint64_t>(width));
    tag(image, 3, 0);
    varint(image, 3); // RGB
    bytesField(image, 4, png);
    std::string v; // Summary.Value{tag=1, image=4}
    bytesField(v, 1, name);
    bytesField(v, 4, image);
    writeEvent(step, v);
}

void EventWriter::flush()
{
    if (m_pending.empty())
        return;
    m_file.append(m_pending); // whole or not at all; kept for a retry when it fails
    m_pending.clear();
}

std::int64_t cutTornRecords(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return 0;
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    const auto u32 = [&](size_t at) {
        std::uint32_t v = 0;
        std::memcpy(&v, bytes.data() + at, 4);
        return v;
    };
    size_t whole = 0; // the end of the last record whose framing and checksums hold
    while (whole + 12 <= bytes.size()) {
        std::uint64_t length = 0;
        std::memcpy(&length, bytes.data() + whole, 8);
        if (maskedCrc32c(std::string_view(bytes.data() + whole, 8)) != u32(whole + 8) || length > bytes.size() ||
            whole + 12 + length + 4 > bytes.size() ||
            maskedCrc32c(std::string_view(bytes.data() + whole + 12, length)) != u32(whole + 12 + length))
            break;
        whole += 12 + length + 4;
    }
    if (whole == bytes.size())
        return 0;
    std::filesystem::resize_file(path, whole);
    return static_cast<std::int64_t>(bytes.size() - whole);
}

} // namespace ijepa
