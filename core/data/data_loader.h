#pragma once

#include "core/config.h"
#include "core/data/image_source.h"
#include "core/masks/multiblock_masks.h"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ijepa {

// One training batch, with its masks sampled in the loader.
struct Batch {
    std::int64_t iteration = 0; // global iteration this batch is for (from 0)
    std::int64_t epoch = 0;
    torch::Tensor images;       // [B, 3, crop, crop] float, normalised
    torch::Tensor labels;       // [B] int64 (-1: unlabelled)
    MaskBatch masks;
};

struct LoaderOptions {
    int batchSize = 128;                     // images per batch on this rank
    int cropSize = 224;                      // output side
    std::array<double, 2> cropScale{0.3, 1.0}; // RandomResizedCrop area range
    int workers = 2;                         // decoding threads (0: decode on the caller's thread)
    int prefetch = 4;                        // batches decoded ahead of the trainer, at most
    std::uint64_t seed = 0;                  // data order, crops and masks depend only on it
    int rank = 0;                            // this process's shard ...
    int worldSize = 1;                       // ... of this many
};

// The training loader's options from a config: batch, crop, workers (data.num_workers, at most
// one per logical CPU), seed; `rank` of `worldSize` takes its shard and rank-seeded masks.
LoaderOptions loaderOptions(const Config& config, int rank = 0, int worldSize = 1);

// Produces batches in a fixed order from worker threads into a bounded queue. Batch k of epoch e
// is a function of (seed, e, k) only: each epoch's order is a seeded shuffle, each image's crop has
// its own seeded generator and the masks come from MaskSampler at the global iteration, so the
// sequence is the same for any thread count and can be restarted at any iteration. Incomplete last
// batches are dropped (as the reference's drop_last=True).
// An unreadable image is skipped (named once through takeSkipped()), replaced by the next image
// of the epoch order, and not decoded again.
class DataLoader {
public:
    DataLoader(std::shared_ptr<const ImageSource> source, LoaderOptions options, const MaskConfig& masks);
    ~DataLoader();
    DataLoader(const DataLoader&) = delete;
    DataLoader& operator=(const DataLoader&) = delete;

    std::int64_t batchesPerEpoch() const { return m_ipe; }
    const ImageSource& source() const { return *m_source; }

    // Restarts production at global iteration `iteration` (epoch = iteration / batchesPerEpoch()).
    void start(std::int64_t iteration);
    // Waits for the next batch in order; rethrows a DataError raised while decoding it.
    Batch next();
    void stop();

    // Files skipped since the last call, and the running total.
    std::vector<std::string> takeSkipped();
    std::int64_t skippedCount() const;
    // Seconds next() spent waiting for workers, since start.
    double waitSeconds() const { return m_waitSeconds; }

    // Builds the batch for a global iteration on the calling thread.
    Batch makeBatch(std::int64_t iteration);

private:
    std::shared_ptr<const std::vector<std::int64_t>> epochOrder(std::int64_t epoch);
    void loadImage(const std::vector<std::int64_t>& order, std::int64_t position, std::int64_t epoch, torch::Tensor out,
                   std::int64_t& label);
    bool isSkipped(std::int64_t index) const;
    void workerLoop();

    std::shared_ptr<const ImageSource> m_source;
    LoaderOptions m_options;
    MaskSampler m_sampler;
    std::int64_t m_ipe = 0;

    mutable std::mutex m_mutex;
    std::condition_variable m_produced; // a batch was added to m_ready
    std::condition_variable m_consumed; // the trainer took a batch or stop was asked
    std::map<std::int64_t, std::shared_ptr<const std::vector<std::int64_t>>> m_orders; // cached epoch orders
    std::map<std::int64_t, Batch> m_ready;
    std::map<std::int64_t, std::exception_ptr> m_failed;
    std::int64_t m_nextClaim = 0;   // next iteration a worker will build
    std::int64_t m_nextConsume = 0; // next iteration next() returns
    bool m_stopping = false;
    std::vector<std::thread> m_threads;
    std::set<std::string> m_skippedNames;
    std::set<std::int64_t> m_skippedIndices; // refused images, not decoded again
    std::vector<std::string> m_skippedNew;
    double m_waitSeconds = 0.0;
};

} // namespace ijepa
