#include "app/workbench/training_worker.h"

#include "core/data/data_loader.h"
#include "core/errors.h"
#include "core/model/ijepa_model.h"
#include "widgets/inspect_support.h"

#include <ATen/CPUGeneratorImpl.h>

#include <QElapsedTimer>

#include <fstream>
#include <unistd.h>

namespace ijepa::workbench {

double residentMemoryMb()
{
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    if (!(statm >> pages >> resident))
        return 0;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

VisionTransformer copyEncoder(const VisionTransformer& encoder)
{
    VisionTransformer copy(encoder->options);
    torch::NoGradGuard noGrad;
    auto params = copy->named_parameters();
    for (const auto& p : encoder->named_parameters())
        params[p.key()].copy_(p.value().detach().to(torch::kCPU));
    auto buffers = copy->named_buffers();
    for (const auto& b : encoder->named_buffers())
        buffers[b.key()].copy_(b.value().detach().to(torch::kCPU));
    copy->eval();
    return copy;
}

std::shared_ptr<IJepaModel> copyModel(const IJepaModel& model, const Config& config)
{
    // Building the copy initialises it from the default generator: leave that generator as it was.
    auto generator = at::detail::getDefaultCPUGenerator();
    const auto state = generator.get_state();
    auto copy = std::make_shared<IJepaModel>(config, torch::kCPU);
    generator.set_state(state);
    torch::NoGradGuard noGrad;
    auto to = copy->stateTensors();
    const auto from = model.stateTensors();
    for (size_t i = 0; i < to.size() && i < from.size(); ++i)
        to[i].copy_(from[i].to(torch::kCPU));
    copy->encoder->eval();
    copy->predictor->eval();
    copy->targetEncoder->eval();
    return copy;
}

// Lives on the training thread: batches reports, throttles what it sends, blocks while paused.
class TrainingWorker::Observer : public TrainObserver {
public:
    Observer(TrainingWorker& worker, const Config& config)
        : m_worker(worker)
        , m_config(config)
        , m_grid(config.gridSize())
    {
        m_sinceFlush.start();
        m_sinceSample.start();
    }

    void started(const TrainStart& start) override { Q_EMIT m_worker.started(start); }
    void message(const std::string& line) override { Q_EMIT m_worker.logMessage(QString::fromStdString(line)); }
    void workProgress(const std::string& what, std::int64_t done, std::int64_t total) override
    {
        if (done > 0 && done < total && m_sinceWork.isValid() && m_sinceWork.elapsed() < 250)
            return;
        m_sinceWork.start();
        Q_EMIT m_worker.workProgress(QString::fromStdString(what), done, total);
    }
    void settingsChanged(const SettingsChange& change, const TrainStart& now, bool) override
    {
        Q_EMIT m_worker.settingsChanged(change.step, QString::fromStdString(describeChange(change)), now);
    }

    void stepDone(const Step& step) override
    {
        sendSample(step.batch);
        const StepReport& report = step.report;
        m_worker.m_iteration = report.iteration;
        m_pending.push_back(report);
        if (m_sinceFlush.elapsed() >= kUpdateIntervalMs || report.iteration == report.totalIterations)
            flush();
        if (m_worker.m_paused.load()) {
            flush();
            Q_EMIT m_worker.pausedChanged(true);
            std::unique_lock lock(m_worker.m_mutex);
            m_worker.m_wake.wait(lock, [this] { return !m_worker.m_paused.load() || m_worker.m_stop.load(); });
            lock.unlock();
            Q_EMIT m_worker.pausedChanged(false);
        }
        if (m_worker.m_wantEncoder.exchange(false))
            {
            auto model = copyModel(step.model, m_config);
            Q_EMIT m_worker.encoderReady(EncoderSnapshot{model->targetEncoder, report.iteration, model});
        }
    }

    void sendSample(const Batch& batch)
    {
        if (m_sentSample && m_sinceSample.elapsed() < kSampleIntervalMs)
            return;
        m_sentSample = true;
        m_sinceSample.restart();
        Q_EMIT m_worker.maskSample(widgets::maskSampleFromBatch(batch, m_grid, m_grid, 8));
    }

    void flush()
    {
        if (m_pending.isEmpty())
            return;
        Q_EMIT m_worker.progress(m_pending, residentMemoryMb());
        m_pending.clear();
        m_sinceFlush.restart();
    }

private:
    TrainingWorker& m_worker;
    Config m_config;
    int m_grid;
    QVector<StepReport> m_pending;
    QElapsedTimer m_sinceFlush, m_sinceSample, m_sinceWork;
    bool m_sentSample = false;
};

TrainingWorker::TrainingWorker(QObject* parent)
    : QObject(parent)
{
    qRegisterMetaType<ijepa::TrainStart>();
    qRegisterMetaType<ijepa::StepReport>();
    qRegisterMetaType<QVector<ijepa::StepReport>>();
    qRegisterMetaType<ijepa::TrainResult>();
    qRegisterMetaType<ijepa::widgets::MaskSample>();
    qRegisterMetaType<ijepa::workbench::EncoderSnapshot>();
}

TrainingWorker::~TrainingWorker()
{
    stop();
    if (m_thread.joinable())
        m_thread.join();
}

bool TrainingWorker::start(RunSettings settings)
{
    if (m_running.load())
        return false;
    if (m_thread.joinable())
        m_thread.join(); // the previous run has ended (m_running is false): joins at once
    m_stop = false;
    m_paused = false;
    m_wantEncoder = false;
    m_steering = std::make_shared<SteeringQueue>();
    settings.trainer.steering = m_steering;
    m_running = true;
    m_thread = std::thread([this, settings = std::move(settings)]() mutable { run(std::move(settings)); });
    return true;
}

QString TrainingWorker::steer(const QStringList& assignments)
{
    if (!m_running.load() || !m_steering)
        return tr("No training is running.");
    std::vector<std::string> list;
    for (const auto& a : assignments)
        list.push_back(a.toStdString());
    try {
        m_steering->request(list);
    } catch (const std::exception& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

// A checkpoint that cannot be written (a full disk) pauses the run: the window says why, the user
// frees space and resumes (the write is retried) or stops (the error ends the run; the previous
// checkpoint stays).
bool TrainingWorker::waitAfterWriteError(const std::string& message)
{
    Q_EMIT checkpointFailed(QString::fromStdString(message));
    m_paused = true;
    Q_EMIT pausedChanged(true);
    std::unique_lock lock(m_mutex);
    m_wake.wait(lock, [this] { return !m_paused.load() || m_stop.load(); });
    lock.unlock();
    Q_EMIT pausedChanged(false);
    return !m_stop.load();
}

void TrainingWorker::run(RunSettings settings)
{
    // Below the UI thread (this thread's OpenMP team and the loader's threads inherit it): with every
    // core training, the window still answers at once.
    widgets::lowerThreadPriority();
    settings.checkpoints.onWriteError = [this](const std::string& message) { return waitAfterWriteError(message); };
    settings.log.onWriteError = settings.checkpoints.onWriteError; // a log row waits for space the same way
    Observer observer(*this, settings.trainer.config);
    try {
        const TrainResult result = runTraining(settings, observer, m_stop);
        observer.flush();
        m_running = false;
        Q_EMIT finished(result);
    } catch (const std::exception& e) {
        observer.flush();
        m_running = false;
        Q_EMIT failed(QString::fromUtf8(e.what()));
    }
}

void TrainingWorker::pause()
{
    if (m_running.load())
        m_paused = true;
}

void TrainingWorker::resume()
{
    {
        std::lock_guard lock(m_mutex);
        m_paused = false;
    }
    m_wake.notify_all();
}

void TrainingWorker::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
}

void TrainingWorker::requestEncoder()
{
    m_wantEncoder = true;
}

bool TrainingWorker::wait(int msecs)
{
    QElapsedTimer timer;
    timer.start();
    while (m_running.load() && timer.elapsed() < msecs)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!m_running.load() && m_thread.joinable())
        m_thread.join();
    return !m_running.load();
}

} // namespace ijepa::workbench
