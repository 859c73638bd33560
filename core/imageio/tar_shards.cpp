#include "core/imageio/tar_shards.h"

#include "core/errors.h"
#include "core/imageio/decode.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <regex>
#include <sys/stat.h>
#include <unistd.h>

namespace ijepa {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kBlock = 512;
const char* const kShardImageExtensions[] = {"jpg", "jpeg", "png", "webp"};

// A file descriptor closed on scope exit.
struct File {
    int fd = -1;
    explicit File(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
    ~File()
    {
        if (fd >= 0)
            ::close(fd);
    }
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    bool readAt(void* out, std::size_t n, std::uint64_t offset) const
    {
        auto* p = static_cast<char*>(out);
        while (n > 0) {
            const ssize_t got = ::pread(fd, p, n, static_cast<off_t>(offset));
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                return false;
            p += got;
            n -= static_cast<std::size_t>(got);
            offset += static_cast<std::uint64_t>(got);
        }
        return true;
    }
};

// A numeric tar field: octal text, or GNU base-256 when the high bit of its first byte is set.
std::uint64_t tarNumber(const char* field, std::size_t width)
{
    if (static_cast<unsigned char>(field[0]) & 0x80) {
        std::uint64_t v = 0;
        for (std::size_t i = 1; i < width; ++i)
            v = (v << 8) | static_cast<unsigned char>(field[i]);
        return v;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width && field[i]; ++i)
        if (field[i] >= '0' && field[i] <= '7')
            v = v * 8 + static_cast<std::uint64_t>(field[i] - '0');
    return v;
}

bool checksumMatches(const std::array<char, kBlock>& h)
{
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < kBlock; ++i)
        sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    return sum == tarNumber(h.data() + 148, 8);
}

// The name of a failed stretch of a shard: its byte offset.
std::string position(std::uint64_t offset)
{
    std::string name = "@";
    name += std::to_string(offset);
    return name;
}

std::string field(const char* p, std::size_t width) { return std::string(p, strnlen(p, width)); }

// The "path" record of a pax extended header ("<len> path=<value>\n" records), empty if none.
std::string paxPath(const std::string& data)
{
    std::size_t at = 0;
    while (at < data.size()) {
        const auto space = data.find(' ', at);
        if (space == std::string::npos)
            break;
        const auto length = std::strtoull(data.c_str() + at, nullptr, 10);
        if (length == 0 || at + length > data.size())
            break;
        const std::string record = data.substr(space + 1, at + length - space - 2);
        if (record.rfind("path=", 0) == 0)
            return record.substr(5);
        at += length;
    }
    return {};
}

class TarShards final : public ImageSource {
public:
    explicit TarShards(const std::string& spec) : m_spec(spec), m_shards(expandShardPattern(spec))
    {
        for (std::size_t s = 0; s < m_shards.size(); ++s) {
            m_shardFirst.push_back(m_samples.size());
            indexShard(static_cast<std::uint32_t>(s));
        }
        m_shardFirst.push_back(m_samples.size());
        if (m_samples.empty())
            throw DataError(spec + ": no images (.jpg, .jpeg, .png, .webp members) in the shards");
        int maxLabel = -1;
        for (const auto& s : m_samples)
            maxLabel = std::max(maxLabel, s.label);
        for (int c = 0; c <= maxLabel; ++c)
            m_classes.push_back(std::to_string(c));
    }

    std::int64_t size() const override { return static_cast<std::int64_t>(m_samples.size()); }
    torch::Tensor image(std::int64_t i) const override
    {
        const auto bytes = read(i);
        return decodeImage(bytes.data(), bytes.size(), name(i));
    }
    void view(std::int64_t i, const BoxPicker& pick, torch::Tensor& out) const override
    {
        const auto bytes = read(i);
        decodeView(bytes.data(), bytes.size(), name(i), pick, out);
    }
    std::vector<std::int64_t> epochOrder(std::uint64_t seed, int worldSize) const override;
    std::int64_t label(std::int64_t i) const override { return m_samples[static_cast<size_t>(i)].label; }
    std::string name(std::int64_t i) const override
    {
        const auto& s = m_samples[static_cast<size_t>(i)];
        const auto end = static_cast<size_t>(i) + 1 < m_samples.size() ? m_samples[static_cast<size_t>(i) + 1].name : m_names.size();
        return m_shards[s.shard] + ":" + m_names.substr(s.name, end - s.name);
    }
    const std::vector<std::string>& classes() const override { return m_classes; }
    std::string description() const override
    {
        return m_spec + " (" + countOf(m_shards.size(), "shard", "shards") + ", " + countOf(m_samples.size(), "image", "images") +
               ", " + labelsPhrase(m_classes.size()) + ")";
    }

private:
    struct Sample {
        std::uint64_t offset = 0; // of the image member's data in its shard
        std::uint64_t bytes = 0;
        std::uint32_t shard = 0;
        std::int32_t label = -1;
        std::uint64_t name = 0;   // where its member name starts in m_names
        std::int32_t error = -1;  // index into m_errors: a sample that cannot be read
    };

    std::vector<std::uint8_t> read(std::int64_t i) const
    {
        const auto& s = m_samples[static_cast<size_t>(i)];
        if (s.error >= 0)
            throw DataError(m_errors[static_cast<size_t>(s.error)]);
        File f(m_shards[s.shard]);
        std::vector<std::uint8_t> bytes(s.bytes);
        if (f.fd < 0 || !f.readAt(bytes.data(), bytes.size(), s.offset))
            throw DataError(name(i) + ": cannot read the member (" + std::strerror(errno) + ")");
        return bytes;
    }

    void addSample(std::uint32_t shard, const std::string& member, std::uint64_t offset, std::uint64_t bytes, int label,
                   const std::string& error = "")
    {
        Sample s{offset, bytes, shard, label, m_names.size(), -1};
        if (!error.empty()) {
            s.error = static_cast<std::int32_t>(m_errors.size());
            m_errors.push_back(error);
        }
        m_names += member;
        m_samples.push_back(s);
    }

    void indexShard(std::uint32_t shard);

    std::string m_spec;
    std::vector<std::string> m_shards;
    std::vector<std::size_t> m_shardFirst; // first sample of each shard (+ one end)
    std::vector<Sample> m_samples;
    std::string m_names;
    std::vector<std::string> m_errors;
    std::vector<std::string> m_classes;
};

void TarShards::indexShard(std::uint32_t shard)
{
    const std::string& path = m_shards[shard];
    File f(path);
    struct stat st {};
    if (f.fd < 0 || ::fstat(f.fd, &st) != 0)
        throw DataError(path + (errno == ENOENT ? ": no such shard" : ": cannot open the shard (" + std::string(std::strerror(errno)) + ")"));
    const auto fileSize = static_cast<std::uint64_t>(st.st_size);
    // The sample being gathered: members with the same key follow each other.
    std::string key, image;
    std::uint64_t imageOffset = 0, imageBytes = 0;
    int label = -1;
    auto flush = [&] {
        if (!image.empty())
            addSample(shard, image, imageOffset, imageBytes, label);
        image.clear();
        label = -1;
    };
    std::string longName;
    std::array<char, kBlock> h{};
    std::uint64_t offset = 0;
    while (offset + kBlock <= fileSize) {
        if (!f.readAt(h.data(), kBlock, offset))
            throw DataError(path + ": cannot read the shard (" + std::strerror(errno) + ")");
        if (std::all_of(h.begin(), h.end(), [](char c) { return c == 0; })) {
            flush();
            return; // the end-of-archive blocks
        }
        if (!checksumMatches(h)) {
            if (offset == 0)
                throw DataError(path + ": not a tar file (no valid tar header at its start)");
            flush();
            addSample(shard, position(offset), 0, 0, -1,
                      path + ": corrupt tar header at byte " + std::to_string(offset) +
                          "; the rest of this shard is not read");
            return;
        }
        const std::uint64_t bytes = tarNumber(h.data() + 124, 12);
        const std::uint64_t data = offset + kBlock;
        const char type = h[156];
        std::string member = longName.empty() ? field(h.data(), 100) : longName;
        if (longName.empty() && !std::memcmp(h.data() + 257, "ustar", 5) && h[345])
            member = field(h.data() + 345, 155) + "/" + member;
        const bool truncated = data + bytes > fileSize;
        if ((type == 'L' || type == 'x') && !truncated && bytes < (1u << 20)) {
            std::string text(bytes, '\0');
            f.readAt(text.data(), text.size(), data);
            longName = type == 'L' ? text.c_str() : paxPath(text);
        } else if (type == '0' || type == '\0') {
            longName.clear();
            const auto slash = member.rfind('/');
            const auto dot = member.find('.', slash == std::string::npos ? 0 : slash + 1);
            const std::string memberKey = member.substr(0, dot);
            std::string ext = dot == std::string::npos ? "" : member.substr(dot + 1);
            std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
            if (memberKey != key)
                flush();
            key = memberKey;
            if (truncated) {
                flush();
                addSample(shard, member, 0, 0, -1,
                          path + ":" + member + ": truncated member (" + std::to_string(fileSize - std::min(fileSize, data)) +
                              " of " + std::to_string(bytes) + " bytes); the shard ends there");
                return;
            }
            if (std::find(std::begin(kShardImageExtensions), std::end(kShardImageExtensions), ext) !=
                    std::end(kShardImageExtensions) && image.empty()) {
                image = member;
                imageOffset = data;
                imageBytes = bytes;
            } else if (ext == "cls" && bytes < 64) {
                std::string text(bytes, '\0');
                f.readAt(text.data(), text.size(), data);
                char* end = nullptr;
                const long v = std::strtol(text.c_str(), &end, 10);
                label = end != text.c_str() && v >= 0 && v < (1 << 24) ? static_cast<int>(v) : -1;
            }
        } else {
            longName.clear();
        }
        offset = data + (bytes + kBlock - 1) / kBlock * kBlock;
    }
    flush();
    addSample(shard, position(offset), 0, 0, -1,
              path + ": cut short at byte " + std::to_string(fileSize) +
                  " (no end-of-archive blocks): members after the last whole one are lost");
}

// WebDataset's order: shards shuffled, shard k to rank k mod worldSize, each rank's samples through
// a shuffle buffer; rank r's p-th sample at position p * worldSize + r (a rank with fewer samples
// starts its list again, as DistributedSampler pads).
std::vector<std::int64_t> TarShards::epochOrder(std::uint64_t seed, int worldSize) const
{
    const auto shards = m_shards.size();
    if (shards < static_cast<std::size_t>(worldSize))
        return ImageSource::epochOrder(seed, worldSize); // too few shards to give each rank its own
    std::mt19937_64 rng(seed);
    std::vector<std::size_t> shardOrder(shards);
    std::iota(shardOrder.begin(), shardOrder.end(), 0);
    std::shuffle(shardOrder.begin(), shardOrder.end(), rng);
    std::vector<std::vector<std::int64_t>> streams(static_cast<size_t>(worldSize));
    for (std::size_t k = 0; k < shards; ++k) {
        auto& stream = streams[k % static_cast<size_t>(worldSize)];
        for (auto i = m_shardFirst[shardOrder[k]]; i < m_shardFirst[shardOrder[k] + 1]; ++i)
            stream.push_back(static_cast<std::int64_t>(i));
    }
    std::size_t longest = 0;
    for (auto& stream : streams) {
        std::vector<std::int64_t> buffer, out;
        buffer.reserve(kShardShuffleBuffer);
        for (const auto i : stream) {
            if (buffer.size() < kShardShuffleBuffer) {
                buffer.push_back(i);
                continue;
            }
            const auto j = std::uniform_int_distribution<std::size_t>(0, buffer.size() - 1)(rng);
            out.push_back(std::exchange(buffer[j], i));
        }
        std::shuffle(buffer.begin(), buffer.end(), rng);
        out.insert(out.end(), buffer.begin(), buffer.end());
        stream = std::move(out);
        longest = std::max(longest, stream.size());
    }
    if (worldSize == 1)
        return std::move(streams[0]);
    std::vector<std::int64_t> order(longest * static_cast<size_t>(worldSize));
    for (std::size_t p = 0; p < longest; ++p)
        for (std::size_t r = 0; r < streams.size(); ++r)
            order[p * streams.size() + r] = streams[r][p % streams[r].size()];
    return order;
}

} // namespace

bool isShardSpec(const std::string& spec)
{
    return spec.size() > 4 && spec.compare(spec.size() - 4, 4, ".tar") == 0;
}

std::vector<std::string> expandShardPattern(const std::string& spec)
{
    static const std::regex range(R"(\{(\d+)\.\.(\d+)\})");
    std::smatch m;
    if (!std::regex_search(spec, m, range)) {
        if (spec.find('{') != std::string::npos)
            throw ConfigError(spec + ": a shard pattern's braces hold a range, as {000000..000127}");
        return {spec};
    }
    const std::string first = m[1], last = m[2];
    const auto lo = std::stoull(first), hi = std::stoull(last);
    if (hi < lo || hi - lo >= 1'000'000)
        throw ConfigError(spec + ": the shard range " + first + ".." + last + " is empty or over a million shards");
    const std::size_t width = first.size() == last.size() ? first.size() : 0;
    std::vector<std::string> out;
    for (auto k = lo; k <= hi; ++k) {
        std::string number = std::to_string(k);
        if (number.size() < width)
            number.insert(0, width - number.size(), '0');
        for (auto& rest : expandShardPattern(m.suffix().str()))
            out.push_back(m.prefix().str() + number + rest);
    }
    return out;
}

std::string shardPatternFor(const std::string& file)
{
    const fs::path path(file);
    const std::string name = path.filename().string();
    const auto end = name.find_last_of("0123456789");
    if (end == std::string::npos || !isShardSpec(name))
        return file;
    const auto start = name.find_last_not_of("0123456789", end) + 1;
    const std::string prefix = name.substr(0, start), suffix = name.substr(end + 1);
    const std::size_t width = end + 1 - start;
    auto sibling = [&](unsigned long long k) {
        std::string number = std::to_string(k);
        if (number.size() > width)
            return fs::path();
        number.insert(0, width - number.size(), '0');
        return path.parent_path() / (prefix + number + suffix);
    };
    const auto picked = std::stoull(name.substr(start, width));
    auto lo = picked, hi = picked;
    std::error_code ec;
    while (lo > 0 && fs::is_regular_file(sibling(lo - 1), ec))
        --lo;
    while (!sibling(hi + 1).empty() && fs::is_regular_file(sibling(hi + 1), ec))
        ++hi;
    if (lo == hi)
        return file;
    const std::string first = sibling(lo).filename().string(), last = sibling(hi).filename().string();
    return (path.parent_path() / (prefix + "{" + first.substr(start, width) + ".." + last.substr(start, width) + "}" + suffix))
        .string();
}

std::shared_ptr<ImageSource> openTarShards(const std::string& spec) { return std::make_shared<TarShards>(spec); }

} // namespace ijepa
