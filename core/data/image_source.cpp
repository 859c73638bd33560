#include "core/errors.h"
#include "core/data/image_source.h"

#include <torch/torch.h>
#include <zlib.h>

#include <array>
#include <algorithm>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>

namespace ijepa {
namespace {

// Reads a whole gzip file; throws DataError naming it.
std::vector<std::uint8_t> readGzip(const std::string& path)
{
    if (!std::filesystem::is_regular_file(path))
        throw DataError(path + ": no such file (install the Debian package dataset-fashion-mnist)");
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f)
        throw DataError(path + ": cannot open");
    std::vector<std::uint8_t> out;
    std::array<std::uint8_t, 1 << 16> chunk;
    int n = 0;
    while ((n = gzread(f, chunk.data(), chunk.size())) > 0)
        out.insert(out.end(), chunk.begin(), chunk.begin() + n);
    int err = Z_OK;
    const std::string message = n < 0 ? gzerror(f, &err) : "";
    gzclose(f);
    if (n < 0)
        throw DataError(path + ": corrupt or truncated gzip data (" + message + ")");
    return out;
}

std::uint32_t bigEndian(const std::vector<std::uint8_t>& b, size_t at)
{
    return (std::uint32_t(b[at]) << 24) | (std::uint32_t(b[at + 1]) << 16) | (std::uint32_t(b[at + 2]) << 8) | b[at + 3];
}

// Parses an IDX file of unsigned bytes with the given number of dimensions: returns the dims and
// the offset of the data.
std::vector<std::int64_t> idxHeader(const std::vector<std::uint8_t>& b, int dims, const std::string& path)
{
    const size_t header = 4 + 4 * static_cast<size_t>(dims);
    if (b.size() < header)
        throw DataError(path + ": too short for an IDX header");
    if (b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] != dims)
        throw DataError(path + ": not an IDX file of " + std::to_string(dims) + "-D unsigned bytes (bad magic number)");
    // The product saturates instead of overflowing, so a forged header can neither wrap it around
    // nor make the reader index past the data.
    const std::uint64_t available = b.size() - header;
    std::vector<std::int64_t> shape;
    std::uint64_t count = 1;
    bool huge = false;
    for (int d = 0; d < dims; ++d) {
        const std::uint32_t dim = bigEndian(b, 4 + 4 * static_cast<size_t>(d));
        if (dim == 0 && d > 0)
            throw DataError(path + ": an image dimension of 0 in the IDX header");
        shape.push_back(dim);
        huge = huge || (dim != 0 && count > std::numeric_limits<std::uint32_t>::max() * std::uint64_t{2} / dim);
        count = huge ? count : count * dim;
    }
    if (huge || available != count)
        throw DataError(path + ": holds " + std::to_string(available) + " data bytes, the header promises " +
                        (huge ? std::string("over 8 GB") : std::to_string(count)) + " (truncated?)");
    return shape;
}

class FashionMnist final : public ImageSource {
public:
    FashionMnist(const std::string& split, const std::string& dir)
    {
        if (split != "train" && split != "test")
            throw DataError("fashion-mnist: unknown split '" + split + "' (train or test)");
        const std::string prefix = dir + "/" + (split == "train" ? "train" : "t10k");
        const std::string imagesPath = prefix + "-images-idx3-ubyte.gz";
        const std::string labelsPath = prefix + "-labels-idx1-ubyte.gz";
        m_pixels = readGzip(imagesPath);
        const auto shape = idxHeader(m_pixels, 3, imagesPath);
        m_count = shape[0];
        m_h = shape[1];
        m_w = shape[2];
        m_labels = readGzip(labelsPath);
        const auto labelShape = idxHeader(m_labels, 1, labelsPath);
        if (labelShape[0] != m_count)
            throw DataError(labelsPath + ": " + std::to_string(labelShape[0]) + " labels for " + std::to_string(m_count) +
                            " images in " + imagesPath);
        for (size_t i = 8; i < m_labels.size(); ++i)
            if (m_labels[i] >= m_classes.size())
                throw DataError(labelsPath + ": label " + std::to_string(m_labels[i]) + " out of range 0-9");
        m_split = split;
    }

    std::int64_t size() const override { return m_count; }
    torch::Tensor image(std::int64_t i) const override
    {
        const auto* p = m_pixels.data() + 16 + i * m_h * m_w;
        auto gray = torch::from_blob(const_cast<std::uint8_t*>(p), {m_h, m_w, 1}, torch::kUInt8);
        return gray.expand({m_h, m_w, 3}).contiguous();
    }
    std::int64_t label(std::int64_t i) const override { return m_labels[8 + static_cast<size_t>(i)]; }
    std::string name(std::int64_t i) const override { return "fashion-mnist/" + m_split + "[" + std::to_string(i) + "]"; }
    const std::vector<std::string>& classes() const override { return m_classes; }
    std::string description() const override
    {
        return "Fashion-MNIST " + m_split + " (" + std::to_string(m_count) + " images, " + std::to_string(m_h) + "x" +
               std::to_string(m_w) + ", 10 classes)";
    }

private:
    std::vector<std::uint8_t> m_pixels; // IDX file: 16-byte header, then count*h*w bytes
    std::vector<std::uint8_t> m_labels; // IDX file: 8-byte header, then count bytes
    std::int64_t m_count = 0, m_h = 0, m_w = 0;
    std::string m_split;
    std::vector<std::string> m_classes{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
};

class SubsetSource final : public ImageSource {
public:
    SubsetSource(std::shared_ptr<ImageSource> s, std::vector<std::int64_t> indices, std::string what)
        : m_source(std::move(s)), m_indices(std::move(indices)), m_what(std::move(what))
    {
    }
    std::int64_t size() const override { return static_cast<std::int64_t>(m_indices.size()); }
    torch::Tensor image(std::int64_t i) const override { return m_source->image(at(i)); }
    void view(std::int64_t i, const BoxPicker& pick, torch::Tensor& out) const override { m_source->view(at(i), pick, out); }
    std::int64_t label(std::int64_t i) const override { return m_source->label(at(i)); }
    std::string name(std::int64_t i) const override { return m_source->name(at(i)); }
    const std::vector<std::string>& classes() const override { return m_source->classes(); }
    std::string description() const override { return m_source->description() + ", " + m_what; }

private:
    std::int64_t at(std::int64_t i) const { return m_indices[static_cast<size_t>(i)]; }
    std::shared_ptr<ImageSource> m_source;
    std::vector<std::int64_t> m_indices;
    std::string m_what;
};

} // namespace

void ImageSource::view(std::int64_t i, const BoxPicker& pick, torch::Tensor& out) const
{
    const auto hwc = image(i);
    const auto box = pick(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)));
    out.copy_(cropResizeNormalize(hwc, box, static_cast<int>(out.size(-1))));
}

std::vector<std::int64_t> ImageSource::epochOrder(std::uint64_t seed, int) const
{
    std::vector<std::int64_t> order(static_cast<size_t>(size()));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    return order;
}

std::shared_ptr<ImageSource> openFashionMnist(const std::string& split, const std::string& dir)
{
    return std::make_shared<FashionMnist>(split, dir);
}

std::shared_ptr<ImageSource> limitSource(std::shared_ptr<ImageSource> source, std::int64_t count)
{
    if (count <= 0 || count >= source->size())
        return source;
    std::vector<std::int64_t> first(static_cast<size_t>(count));
    std::iota(first.begin(), first.end(), 0);
    return subsetSource(std::move(source), std::move(first), "first " + std::to_string(count) + " images");
}

std::shared_ptr<ImageSource> spreadSource(std::shared_ptr<ImageSource> source, std::int64_t count)
{
    const std::int64_t n = source->size();
    if (count <= 0 || count >= n)
        return source;
    std::vector<std::int64_t> picked(static_cast<size_t>(count));
    for (std::int64_t k = 0; k < count; ++k)
        picked[static_cast<size_t>(k)] = k * n / count;
    return subsetSource(std::move(source), std::move(picked), std::to_string(count) + " images spread over it");
}

std::shared_ptr<ImageSource> subsetSource(std::shared_ptr<ImageSource> source, std::vector<std::int64_t> indices,
                                          const std::string& what)
{
    return std::make_shared<SubsetSource>(std::move(source), std::move(indices), what);
}

std::pair<std::shared_ptr<ImageSource>, std::shared_ptr<ImageSource>> splitSource(std::shared_ptr<ImageSource> source,
                                                                                  double fraction, std::uint64_t seed)
{
    if (!(fraction > 0 && fraction < 1))
        throw ConfigError("--split: the train fraction must be in (0, 1), got " + std::to_string(fraction));
    std::vector<std::int64_t> order(static_cast<size_t>(source->size()));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    const auto cut = static_cast<std::ptrdiff_t>(fraction * static_cast<double>(order.size()));
    if (cut == 0 || cut == static_cast<std::ptrdiff_t>(order.size()))
        throw DataError(source->description() + ": too few images to split at " + std::to_string(fraction));
    std::vector<std::int64_t> a(order.begin(), order.begin() + cut), b(order.begin() + cut, order.end());
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return {subsetSource(source, std::move(a), "train split"), subsetSource(source, std::move(b), "test split")};
}

} // namespace ijepa
