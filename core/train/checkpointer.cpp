#include "core/train/checkpointer.h"

#include "core/errors.h"
#include "core/io/atomic_file.h"
#include "core/io/checkpoint.h"
#include "core/train/trainer.h"

#include <unistd.h>

#include <filesystem>

namespace ijepa {

namespace fs = std::filesystem;

void Checkpointer::started(const TrainStart& start)
{
    m_start = start;
    m_latest = latestCheckpointPath(start.outDir, start.config);
    m_lastSaved = start.firstIteration;
    m_savedAt = std::chrono::steady_clock::now();
}

void Checkpointer::stepDone(const Step& step)
{
    const StepReport& r = step.report;
    m_model = &step.model;
    m_optimizer = &step.optimizer;
    if (r.stepInEpoch == 1) {
        m_epochLossSum = 0;
        m_epochLossCount = 0;
    }
    m_epochLossSum += r.loss;
    ++m_epochLossCount;
    m_lastLoss = r.loss;
    m_lastLr = r.lr;
    if (!m_start.writer)
        return;
    const bool epochEnd = r.stepInEpoch == r.iterationsPerEpoch;
    const bool snapshotDue = epochEnd && m_options.snapshotEvery > 0 && (r.iteration / r.iterationsPerEpoch) % m_options.snapshotEvery == 0;
    const double age = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_savedAt).count();
    const bool epochWrite = epochEnd && (age >= m_options.epochEndSeconds || snapshotDue);
    if (epochEnd && !epochWrite && !m_toldEpochs) {
        m_toldEpochs = true;
        say("epochs here are short (the last checkpoint is " + std::to_string(static_cast<int>(age)) +
            " s old at this epoch's end): an epoch end writes a checkpoint only when the last one is " +
            std::to_string(static_cast<int>(m_options.epochEndSeconds)) + " s old" +
            (m_options.every > 0 ? "; every " + std::to_string(m_options.every) + " steps" : std::string()) +
            " and the last step still write one");
    }
    if (epochWrite || (m_options.every > 0 && r.iteration % m_options.every == 0) || r.iteration == r.totalIterations)
        save(r.iteration);
    if (snapshotDue)
        snapshot(r.iteration / r.iterationsPerEpoch);
}

// A copy of the latest checkpoint as <tag>-ep<N>.pth.tar, written to a temp file and renamed.
void Checkpointer::snapshot(std::int64_t epoch)
{
    const auto path = fs::path(m_start.outDir) / (m_start.config.logging.write_tag + "-ep" + std::to_string(epoch) + ".pth.tar");
    const auto tmp = fs::path(path.string() + ".tmp" + std::to_string(::getpid()));
    std::error_code ec;
    fs::copy_file(m_latest, tmp, fs::copy_options::overwrite_existing, ec);
    if (!ec)
        fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        say("could not write snapshot " + path.string() + ": " + ec.message());
    }
}

void Checkpointer::ended(TrainResult& result)
{
    if (m_start.writer && result.status == TrainStatus::Stopped && result.iteration > m_lastSaved)
        save(result.iteration);
    if (!m_written.empty())
        result.checkpoint = m_written;
    if (m_start.writer && result.status == TrainStatus::Diverged)
        say("stopping; the last good checkpoint is " +
            (m_written.empty() ? std::string("the one this run started from (if any)") : m_written));
}

void Checkpointer::save(std::int64_t iteration)
{
    CheckpointMeta meta;
    meta.worldSize = m_start.worldSize;
    meta.epoch = iteration / m_start.iterationsPerEpoch;
    meta.loss = m_epochLossCount ? m_epochLossSum / static_cast<double>(m_epochLossCount) : m_lastLoss;
    meta.batchSize = m_start.config.data.batch_size;
    meta.lr = m_lastLr;
    meta.iteration = iteration;
    meta.precision = m_start.bf16 ? "bf16" : "fp32";
    meta.config = dumpConfig(m_start.config);
    const auto retry = [this](const std::string& message) {
        if (!m_options.onWriteError || !m_options.onWriteError(message))
            return false;
        say("retrying the checkpoint after: " + message);
        return true;
    };
    retryingWrites(retry, [&] { saveCheckpoint(m_latest, *m_model, m_optimizer, meta); });
    m_written = m_latest;
    m_lastSaved = iteration;
    m_savedAt = std::chrono::steady_clock::now();
    say("checkpoint " + m_latest + " (iteration " + std::to_string(iteration) + ")");
}

} // namespace ijepa
