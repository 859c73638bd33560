#include "core/data/data_loader.h"

#include "core/data/augment.h"
#include "core/errors.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <numeric>

namespace ijepa {
namespace {

constexpr int kMaxReplacements = 64; // consecutive unreadable images before giving up

// splitmix64: decorrelates the seeds of the per-epoch and per-image generators.
std::uint64_t mix(std::uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

} // namespace

LoaderOptions loaderOptions(const Config& config, int rank, int worldSize)
{
    LoaderOptions lo;
    lo.batchSize = config.data.batch_size;
    lo.cropSize = config.data.crop_size;
    lo.cropScale = config.data.crop_scale;
    lo.workers = std::min<int>(config.data.num_workers, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    lo.seed = static_cast<std::uint64_t>(config.meta.seed);
    lo.rank = rank;
    lo.worldSize = worldSize;
    return lo;
}

DataLoader::DataLoader(std::shared_ptr<const ImageSource> source, LoaderOptions options, const MaskConfig& masks)
    : m_source(std::move(source)),
      m_options(options),
      m_sampler(masks, options.cropSize / masks.patch_size, options.cropSize / masks.patch_size,
                options.seed + 1000003ULL * static_cast<std::uint64_t>(options.rank))
{
    if (m_source->size() == 0)
        throw DataError(m_source->description() + ": no images");
    const std::int64_t perRank = m_source->size() / std::max(1, m_options.worldSize);
    m_ipe = perRank / m_options.batchSize;
    if (m_ipe == 0)
        throw ConfigError("key 'data.batch_size': " + std::to_string(m_options.batchSize) + " is larger than the " +
                          std::to_string(perRank) + " images of " + m_source->description() +
                          (m_options.worldSize > 1 ? " per process" : ""));
}

DataLoader::~DataLoader() { stop(); }

std::shared_ptr<const std::vector<std::int64_t>> DataLoader::epochOrder(std::int64_t epoch)
{
    std::lock_guard lock(m_mutex);
    if (auto it = m_orders.find(epoch); it != m_orders.end())
        return it->second;
    auto order = std::make_shared<const std::vector<std::int64_t>>(
        m_source->epochOrder(mix(m_options.seed ^ mix(static_cast<std::uint64_t>(epoch))), m_options.worldSize));
    m_orders[epoch] = order;
    while (m_orders.size() > 3)
        m_orders.erase(m_orders.begin());
    return order;
}

void DataLoader::loadImage(const std::vector<std::int64_t>& order, std::int64_t position, std::int64_t epoch,
                           torch::Tensor out, std::int64_t& label)
{
    std::mt19937_64 rng(mix(mix(m_options.seed ^ mix(static_cast<std::uint64_t>(epoch))) + static_cast<std::uint64_t>(position)));
    for (int k = 0; k < kMaxReplacements; ++k) {
        const std::int64_t index = order[static_cast<size_t>((position + k) % static_cast<std::int64_t>(order.size()))];
        if (isSkipped(index))
            continue; // refused before: not decoded again
        // The crop's draws are kept only for an image that decodes, as when the box was drawn
        // after a whole decode: a refused file leaves the generator where it was.
        auto trial = rng;
        try {
            m_source->view(
                index,
                [&](int height, int width) {
                    return randomResizedCropBox(height, width, m_options.cropScale, {3.0 / 4.0, 4.0 / 3.0}, trial);
                },
                out);
            label = m_source->label(index);
            return;
        } catch (const DataError& e) {
            std::lock_guard lock(m_mutex);
            m_skippedIndices.insert(index);
            if (m_skippedNames.insert(m_source->name(index)).second)
                m_skippedNew.push_back(e.what());
        }
    }
    throw DataError(m_source->description() + ": " + std::to_string(kMaxReplacements) +
                    " consecutive images could not be read; see the skipped files in the log");
}

bool DataLoader::isSkipped(std::int64_t index) const
{
    std::lock_guard lock(m_mutex);
    return m_skippedIndices.count(index) > 0;
}

Batch DataLoader::makeBatch(std::int64_t iteration)
{
    torch::NoGradGuard noGrad;
    const std::int64_t epoch = iteration / m_ipe;
    const std::int64_t inEpoch = iteration % m_ipe;
    const auto order = epochOrder(epoch);
    const int b = m_options.batchSize;
    Batch batch;
    batch.iteration = iteration;
    batch.epoch = epoch;
    batch.images = torch::empty({b, 3, m_options.cropSize, m_options.cropSize});
    batch.labels = torch::empty({b}, torch::kInt64);
    auto* labels = batch.labels.data_ptr<std::int64_t>();
    for (int j = 0; j < b; ++j) {
        const std::int64_t position = (inEpoch * b + j) * m_options.worldSize + m_options.rank;
        loadImage(*order, position, epoch, batch.images[j], labels[j]);
    }
    batch.masks = m_sampler.sampleAt(iteration, b);
    return batch;
}

void DataLoader::start(std::int64_t iteration)
{
    stop();
    std::lock_guard lock(m_mutex);
    m_stopping = false;
    m_ready.clear();
    m_failed.clear();
    m_nextClaim = m_nextConsume = iteration;
    m_waitSeconds = 0.0;
    for (int i = 0; i < m_options.workers; ++i)
        m_threads.emplace_back([this] { workerLoop(); });
}

void DataLoader::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_consumed.notify_all();
    for (auto& t : m_threads)
        t.join();
    m_threads.clear();
}

void DataLoader::workerLoop()
{
    for (;;) {
        std::int64_t iteration = 0;
        {
            std::unique_lock lock(m_mutex);
            m_consumed.wait(lock, [&] { return m_stopping || m_nextClaim < m_nextConsume + m_options.prefetch; });
            if (m_stopping)
                return;
            iteration = m_nextClaim++;
        }
        try {
            Batch batch = makeBatch(iteration);
            std::lock_guard lock(m_mutex);
            m_ready.emplace(iteration, std::move(batch));
        } catch (...) {
            std::lock_guard lock(m_mutex);
            m_failed.emplace(iteration, std::current_exception());
        }
        m_produced.notify_all();
    }
}

Batch DataLoader::next()
{
    if (m_options.workers == 0)
        return makeBatch(m_nextConsume++);
    const auto begin = std::chrono::steady_clock::now();
    std::unique_lock lock(m_mutex);
    m_produced.wait(lock, [&] { return m_ready.count(m_nextConsume) || m_failed.count(m_nextConsume); });
    m_waitSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    if (auto f = m_failed.find(m_nextConsume); f != m_failed.end())
        std::rethrow_exception(f->second);
    auto node = m_ready.extract(m_nextConsume);
    ++m_nextConsume;
    lock.unlock();
    m_consumed.notify_all();
    return std::move(node.mapped());
}

std::vector<std::string> DataLoader::takeSkipped()
{
    std::lock_guard lock(m_mutex);
    return std::exchange(m_skippedNew, {});
}

std::int64_t DataLoader::skippedCount() const
{
    std::lock_guard lock(m_mutex);
    return static_cast<std::int64_t>(m_skippedNames.size());
}

} // namespace ijepa
