#pragma once

#include "widgets/mask_view.h"
#include "core/model/ijepa_model.h"
#include "core/model/vision_transformer.h"
#include "core/train/run.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace ijepa::workbench {

// A copy of the weights taken between two steps: the target encoder (for the embedding browser)
// and all three networks (for the attention and predictor views).
struct EncoderSnapshot {
    VisionTransformer encoder{nullptr};
    qint64 iteration = 0;
    std::shared_ptr<IJepaModel> model;
};

// Runs ijepa::train on its own thread and reports to the UI thread through queued signals, as
// small value copies: step reports batched and sent at most every kUpdateIntervalMs, a mask sample
// of the batch being trained at most every kSampleIntervalMs, an encoder copy when asked. The UI
// never waits on it: pause, resume and stop only set flags (stop takes effect after the current
// step, with a checkpoint).
class TrainingWorker : public QObject {
    Q_OBJECT
public:
    static constexpr int kUpdateIntervalMs = 40;   // <= 25 updates per second
    static constexpr int kSampleIntervalMs = 1000; // mask samples: one per second

    explicit TrainingWorker(QObject* parent = nullptr);
    ~TrainingWorker() override; // stops a run and joins its thread

    // Starts a run with the standard observers (run log, checkpointer, diagnostics); false if one
    // is running.
    bool start(RunSettings settings);
    void pause();
    void resume();
    void stop();
    void requestEncoder(); // encoderReady follows after the current step
    // Changes settings from the next step on (steerable keys only, core/train/steering.h): the
    // message of a refused change, or empty. settingsChanged follows when the step takes it.
    QString steer(const QStringList& assignments);
    bool isRunning() const { return m_running.load(); }
    bool isPaused() const { return m_paused.load(); }
    // The last step the training thread finished (its reports may still be on their way).
    qint64 iteration() const { return m_iteration.load(); }
    // Waits up to `msecs` for the thread to end (for shutdown and tests; the UI never calls it).
    bool wait(int msecs);

Q_SIGNALS:
    void started(const ijepa::TrainStart& start);
    void progress(const QVector<ijepa::StepReport>& steps, double residentMb);
    void maskSample(const ijepa::widgets::MaskSample& sample);
    void encoderReady(const ijepa::workbench::EncoderSnapshot& snapshot);
    void logMessage(const QString& line);
    // Long work after the steps (the end-of-run k-NN): `done` of `total` images, a few times a second.
    void workProgress(const QString& what, qint64 done, qint64 total);
    void settingsChanged(qint64 fromIteration, const QString& change, const ijepa::TrainStart& now);
    void pausedChanged(bool paused);
    void finished(const ijepa::TrainResult& result);
    void failed(const QString& message);
    // A checkpoint could not be written; the run is paused until resume() (retry) or stop().
    void checkpointFailed(const QString& message);

private:
    class Observer;
    void run(RunSettings settings);
    bool waitAfterWriteError(const std::string& message);

    std::thread m_thread;
    std::atomic_bool m_running{false};
    std::atomic_bool m_stop{false};
    std::atomic_bool m_paused{false};
    std::atomic_bool m_wantEncoder{false};
    std::atomic<qint64> m_iteration{0};
    std::shared_ptr<SteeringQueue> m_steering;
    std::mutex m_mutex;
    std::condition_variable m_wake;
};

// Resident memory of this process in MiB (Linux /proc), 0 where unknown.
double residentMemoryMb();
// A deep copy of an encoder (same options, weights copied), safe to use on another thread.
VisionTransformer copyEncoder(const VisionTransformer& encoder);
// A deep copy of all three networks on the CPU (built from `config`, every tensor copied).
std::shared_ptr<IJepaModel> copyModel(const IJepaModel& model, const Config& config);

} // namespace ijepa::workbench

Q_DECLARE_METATYPE(ijepa::TrainStart)
Q_DECLARE_METATYPE(ijepa::StepReport)
Q_DECLARE_METATYPE(ijepa::TrainResult)
Q_DECLARE_METATYPE(ijepa::widgets::MaskSample)
Q_DECLARE_METATYPE(ijepa::workbench::EncoderSnapshot)
