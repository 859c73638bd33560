#pragma once

#include <torch/types.h>

#include <QColor>
#include <QImage>
#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>
#include <QObject>
#include <QVector>

#include <functional>
#include <optional>

class QThreadPool;

namespace ijepa::widgets {

// A perceptually ordered blue -> yellow -> red ramp for values in [0, 1], semi-transparent for
// overlays on images (alpha 255 for plain heat maps).
QColor heatColour(double v, int alpha = 170);
// Per-patch overlay colours of `values` scaled from lo (dark) to hi (red); NaN cells transparent.
QVector<QColor> heatOverlay(const QVector<double>& values, double lo, double hi, int alpha = 170);

// An evaluation view shown as a QImage back to what the encoder takes: [3, H, W] normalised.
torch::Tensor normalizedView(const QImage& view);
// [H, W, 3] uint8 RGB of a QImage.
torch::Tensor hwcFromImage(const QImage& image);

// The pool for the workbench's long jobs (embeddings, views, mask statistics, run folders). Never
// QThreadPool::globalInstance(): Qt's raster painter splits large fills across that pool and waits
// for them on the painting thread, so a long job there held the UI thread for seconds.
QThreadPool* jobPool();
// Lowers the calling thread's scheduling priority (to nice 10 at least; threads it starts later
// inherit it), so that on a machine whose cores training fills, the UI thread runs first when it
// has work. For the training thread and runJob(); a no-op where threads have no nice value of their own.
void lowerThreadPriority();
// Runs `job` on a jobPool() thread below the UI thread's priority: every long job of the workbench.
template <typename Job>
auto runJob(Job job)
{
    return QtConcurrent::run(jobPool(), [job = std::move(job)]() mutable {
        lowerThreadPriority();
        return job();
    });
}

// Runs one job at a time off the UI thread. A job runs through runJob() and returns what to do
// with its result on the UI thread. A request while one runs replaces the one waiting (latest
// wins), so a dragged slider or a drawn block never queues stale work.
class LatestJobRunner : public QObject {
public:
    using Done = std::function<void()>;
    using Job = std::function<Done()>;
    explicit LatestJobRunner(QObject* parent = nullptr);
    ~LatestJobRunner() override;
    void run(Job job);
    bool busy() const { return m_running || m_pending.has_value(); }

private:
    void start(Job job);
    QFutureWatcher<Done> m_watcher;
    std::optional<Job> m_pending;
    bool m_running = false;
};

} // namespace ijepa::widgets
