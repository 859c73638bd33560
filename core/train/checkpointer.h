#pragma once

#include "core/train/observer.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace ijepa {

struct CheckpointOptions {
    std::int64_t every = 200; // steps between <tag>-latest writes (also at epoch ends and the last step)
    int snapshotEvery = 0;    // epochs between numbered snapshots <tag>-ep<N> (0: none)
    // An epoch end writes one only when the last write is at least this old: on a small data set an
    // epoch lasts seconds, and a 45 MB write per epoch would flood the disk.
    double epochEndSeconds = 60;
    // Called on the training thread when a write fails (a full disk, say), with the message; true
    // retries the write (the user freed space), false gives up and the WriteError ends the
    // run. Unset: give up at once (the CLI: exit 2 with the message).
    std::function<bool(const std::string& message)> onWriteError;
};

// Writes <outDir>/<tag>-latest.pth.tar (reference layout, atomically): every `every` steps, at
// an epoch end when the last write is `epochEndSeconds` old (or a snapshot is due), at the last step
// and when the run is stopped; copies it to <tag>-ep<N>.pth.tar
// every `snapshotEvery` epochs. Rank 0 only. A diverged run writes nothing: the last good
// checkpoint stays, and the result names it.
class Checkpointer final : public TrainObserver {
public:
    explicit Checkpointer(CheckpointOptions options) : m_options(options) {}

    void started(const TrainStart& start) override;
    void stepDone(const Step& step) override;
    void ended(TrainResult& result) override;

private:
    void save(std::int64_t iteration);
    void snapshot(std::int64_t epoch);

    CheckpointOptions m_options;
    TrainStart m_start;
    std::string m_latest, m_written;
    std::int64_t m_lastSaved = 0;
    std::chrono::steady_clock::time_point m_savedAt;
    bool m_toldEpochs = false;
    double m_epochLossSum = 0, m_lastLoss = 0, m_lastLr = 0;
    std::int64_t m_epochLossCount = 0;
    IJepaModel* m_model = nullptr;
    AdamW* m_optimizer = nullptr;
};

} // namespace ijepa
