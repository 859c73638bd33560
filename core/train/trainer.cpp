#include "core/train/trainer.h"

#include "core/compat.h"
#include "core/data/data_loader.h"
#include "core/dist/distributed.h"
#include "core/errors.h"
#include "core/model/memory_estimate.h"
#include "core/io/checkpoint.h"
#include "core/io/encoder_export.h"
#include "core/io/run_lock.h"
#include "core/model/ijepa_model.h"
#include "core/runs/run_resume.h"
#include "core/train/precision.h"
#include "core/train/schedules.h"
#include "core/train/train_step.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>
#include <tuple>

namespace ijepa {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The checkpoint this run continues from ("" for a fresh run); refuses to overwrite another run.
std::string resumePath(const TrainerOptions& o, const Config& config, const std::string& outDir, bool writer)
{
    const std::string latest = latestCheckpointPath(outDir, config);
    std::string path = o.resumeFrom;
    if (path.empty() && (o.resume || config.meta.load_checkpoint)) {
        path = config.meta.read_checkpoint && !o.resume ? (fs::path(outDir) / *config.meta.read_checkpoint).string()
                                                        : latest;
        if (!fs::exists(path))
            throw CheckpointError(path + ": no checkpoint to resume from");
    }
    if (path.empty() && o.resumeIfAny && fs::exists(latest))
        path = latest;
    if (path.empty() && fs::exists(latest) && writer)
        throw Error(latest + " exists: pass --resume to continue that run, or choose another output folder");
    return path;
}

// Loads a checkpoint and returns the global iteration it stopped at, and the number format it
// recorded (none in the reference's and older checkpoints).
std::int64_t resumeFrom(const std::string& path, IJepaModel& model, AdamW& optimizer, std::int64_t ipe,
                        const Config& config, TrainObserver& observer, std::optional<std::string>& precision)
{
    const auto meta = loadCheckpoint(path, model, &optimizer);
    precision = meta.precision;
    const std::int64_t iteration = meta.iteration > 0 ? meta.iteration : meta.epoch * ipe;
    std::ostringstream msg;
    msg << "resumed from " << path << ": epoch " << meta.epoch << ", iteration " << iteration;
    if (meta.iteration == 0)
        msg << " (reference checkpoint: epoch x " << ipe << " iterations per epoch)";
    observer.message(msg.str());
    if (meta.batchSize > 0 && meta.batchSize != config.data.batch_size)
        observer.message("note: the checkpoint was trained with batch_size " + std::to_string(meta.batchSize) +
                         ", this run uses " + std::to_string(config.data.batch_size));
    return iteration;
}

// Every rank starts from rank 0's weights (and target encoder); returns what gradients average over.
std::vector<torch::Tensor> joinGroup(ProcessGroup& group, IJepaModel& model, std::int64_t ipe, TrainObserver& observer)
{
    {
        torch::NoGradGuard noGrad;
        group.broadcast(model.stateTensors(), 0);
    }
    observer.message("data parallel: rank " + std::to_string(group.rank()) + " of " + std::to_string(group.worldSize()) +
                     " (" + group.backend() + "), " + std::to_string(ipe) + " batches per epoch per rank");
    return model.trainableParameters();
}

// The step's report: where it is in the schedule, what it logged, how fast it went.
StepReport report(std::int64_t it, const TrainStart& s, const StepStats& stats, const Schedules& sched, double stepSeconds,
                  double emaStep, std::int64_t imagesPerStep, const torch::Device& device)
{
    StepReport r;
    r.iteration = it + 1;
    r.totalIterations = s.totalIterations;
    r.epoch = it / s.iterationsPerEpoch + 1;
    r.stepInEpoch = it % s.iterationsPerEpoch + 1;
    r.iterationsPerEpoch = s.iterationsPerEpoch;
    r.loss = stats.loss;
    r.jepaLoss = stats.jepaLoss;
    r.sigregLoss = stats.sigregLoss;
    r.sigregWeight = s.config.loss.sigreg_weight;
    r.lr = sched.learningRate(it + 1);
    r.weightDecay = sched.weightDecay(it + 1);
    r.momentum = sched.momentum(it);
    r.contextSize = stats.contextSize;
    r.targetSize = stats.targetSize;
    r.stepMs = stepSeconds * 1000.0;
    r.imagesPerSecond = static_cast<double>(imagesPerStep) / emaStep;
    r.etaSeconds = emaStep * static_cast<double>(s.totalIterations - it - 1);
    if (device.is_cuda())
        std::tie(r.gpuMemoryMb, r.gpuPeakMemoryMb) = compat::cudaMemoryMb(device.has_index() ? device.index() : 0);
    return r;
}

// The run folder, created and locked for this writer (rank 0), with the temp files of a killed
// writer removed; null for the other ranks.
std::unique_ptr<RunLock> claimRunFolder(const TrainStart& s, TrainObserver& observer)
{
    std::error_code ec;
    fs::create_directories(s.outDir, ec);
    if (ec || !fs::is_directory(s.outDir))
        throw Error(s.outDir + ": cannot create the output folder (" + ec.message() + ")");
    if (!s.writer)
        return nullptr;
    auto lock = std::make_unique<RunLock>(s.outDir);
    for (const auto& name : removeStaleCheckpointTemps(s.outDir))
        observer.message("removed " + name + ", a checkpoint a killed run left half-written");
    return lock;
}

// Refuses, naming the keys, a run whose memory estimate is beyond this machine's memory (CPU).
void checkFits(const Config& c, const std::string& device)
{
    if (device == "cpu")
        requireMemory(trainingBytes(c), shapeInWords(c) + ": training",
                      "lower data.crop_size or data.batch_size, or raise mask.patch_size");
}

// The run's schedules and length, which settings changes alter from their step on: the changes of
// a history (replayed at their steps) and those asked for while paused (at the next step).
class RunPlan {
public:
    RunPlan(TrainStart& s, const TrainerOptions& o)
        : m_s(s), m_maxSteps(o.maxSteps), m_queue(o.steering.get()), m_schedules(s.config.optimization, s.iterationsPerEpoch)
    {
        for (const auto& c : o.replay)
            m_due.push_back({c, true});
        // Resuming in its own folder: the folder's history was in force (and stays recorded).
        if (continuesInFolder(s.resumedFrom, s.outDir))
            for (const auto& c : readConfigHistory(configHistoryPath(s.outDir)))
                m_due.push_back({c, false});
        std::stable_sort(m_due.begin(), m_due.end(), [](const auto& a, const auto& b) { return a.first.step < b.first.step; });
        resize();
    }
    const Schedules& schedules() const { return m_schedules; }
    std::int64_t end() const { return m_s.totalIterations; }

    // Applies what is due before iteration `it` (the first iteration also takes what came before
    // it: a resumed run's history up to its checkpoint), then what was asked for while paused.
    void steer(std::int64_t it, bool first, TrainObserver& observer)
    {
        while (m_next < m_due.size() && (m_due[m_next].first.step == it || (first && m_due[m_next].first.step < it))) {
            auto [change, record] = m_due[m_next++];
            if (record)
                change.step = it;
            apply(change);
            observer.settingsChanged(change, m_s, record);
        }
        if (!m_queue)
            return;
        if (auto asked = m_queue->take(); !asked.empty()) {
            const SettingsChange change{it, std::move(asked)};
            try {
                apply(change);
            } catch (const ConfigError& e) { // checked when asked, but against the run's own config now
                observer.message(std::string("settings change refused: ") + e.what());
                return;
            }
            observer.settingsChanged(change, m_s, true);
        }
    }

private:
    void apply(const SettingsChange& change)
    {
        Config next = m_s.config; // unchanged when the change is refused
        applyChange(next, change);
        m_s.config = std::move(next);
        m_schedules = Schedules(m_s.config.optimization, m_s.iterationsPerEpoch);
        resize();
    }
    void resize()
    {
        m_s.epochs = m_s.config.optimization.epochs;
        m_s.scheduleIterations = static_cast<std::int64_t>(m_s.epochs) * m_s.iterationsPerEpoch;
        m_s.totalIterations = m_maxSteps > 0 ? std::min(m_maxSteps, m_s.scheduleIterations) : m_s.scheduleIterations;
    }

    TrainStart& m_s;
    std::int64_t m_maxSteps;
    SteeringQueue* m_queue;
    Schedules m_schedules;
    std::vector<std::pair<SettingsChange, bool>> m_due; // (change, record it)
    size_t m_next = 0;
};

} // namespace

std::string latestCheckpointPath(const std::string& outDir, const Config& config)
{
    return (fs::path(outDir) / (config.logging.write_tag + "-latest.pth.tar")).string();
}

TrainResult train(const TrainerOptions& options, TrainObserver& observer, const std::atomic_bool& stop)
{
    TrainStart s;
    s.stop = &stop;
    s.config = options.config;
    s.outDir = options.outDir.empty() ? s.config.logging.folder : options.outDir;
    s.config.logging.folder = s.outDir;
    const Config& config = s.config;
    validateConfig(config);
    if (!options.data)
        throw DataError("no training data given");
    ProcessGroup* group = options.group.get();
    s.writer = !group || group->rank() == 0;
    s.worldSize = group ? group->worldSize() : 1;
    s.device = options.device;
    s.data = options.data->description();
    checkFits(config, options.device);
    const auto lock = claimRunFolder(s, observer);
    s.resumedFrom = resumePath(options, config, s.outDir, s.writer);
    // 0: every logical CPU. LibTorch's own default can be far lower (1 on a 2-core VM whose cores
    // it does not count as physical ones; Debian's PyTorch says the same), which halves training.
    at::set_num_threads(options.threads > 0 ? options.threads
                                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));

    const torch::Device device(options.device);
    torch::manual_seed(static_cast<std::uint64_t>(config.meta.seed));
    IJepaModel model(config, device);
    AdamW optimizer(model.paramGroups());
    DataLoader loader(options.data, loaderOptions(config, group ? group->rank() : 0, group ? group->worldSize() : 1), config.mask);
    const std::int64_t ipe = loader.batchesPerEpoch();
    s.iterationsPerEpoch = ipe;
    RunPlan plan(s, options);
    if (!options.initFrom.empty() && s.resumedFrom.empty()) {
        const bool predictor = importWeights(options.initFrom, model);
        observer.message("initialised from " + options.initFrom + ": encoder and target encoder" +
                         (predictor ? ", predictor" : " (predictor fresh)"));
    }
    std::optional<std::string> recorded; // a resumed run keeps the number format it started with
    s.firstIteration = s.resumedFrom.empty() ? 0 : resumeFrom(s.resumedFrom, model, optimizer, ipe, config, observer, recorded);
    const auto trainable = group ? joinGroup(*group, model, ipe, observer) : std::vector<torch::Tensor>{};
    StepSettings settings;
    settings.loss = config.loss;
    settings.seed = config.meta.seed;
    settings.worldSize = s.worldSize;
    Precision precision = choosePrecision(device, config.meta, recorded);
    if (group)
        precision = agreePrecision(*group, device, precision);
    settings.bf16 = precision.bf16;
    s.bf16 = precision.bf16;
    s.precision = precision.description;
    if (group) {
        settings.afterBackward = [&] { group->averageGradients(trainable); };
        settings.allReduceSum = [&](torch::Tensor& t) { group->allreduceSum(t); };
    }
    observer.started(s);

    const std::int64_t first = s.firstIteration;
    TrainResult result;
    result.iteration = first;
    loader.start(first);
    Clock::time_point timedStart;
    double emaStep = 0;
    bool stopAgreed = false; // data parallel: any rank asked to stop (agreed after each step)
    for (std::int64_t it = first;; ++it) {
        plan.steer(it, it == first, observer);
        settings.loss.sigreg_weight = config.loss.sigreg_weight; // steerable (the projector, if any, exists from the start)
        if (it >= plan.end())
            break;
        if (group ? stopAgreed : stop.load()) {
            result.status = TrainStatus::Stopped;
            break;
        }
        const auto t0 = Clock::now();
        if (it == first + 2)
            timedStart = t0;
        Batch batch = loader.next();
        for (const auto& skipped : loader.takeSkipped())
            observer.message(std::string(kSkippedImageMessage) + skipped);
        auto images = batch.images;
        MaskBatch masks = batch.masks;
        if (device.is_cuda()) {
            images = images.pin_memory().to(device, /*non_blocking=*/true);
            masks = {masks.enc.to(device, /*non_blocking=*/true), masks.pred.to(device, /*non_blocking=*/true)};
        }
        settings.lr = plan.schedules().learningRate(it + 1);
        settings.weightDecay = plan.schedules().weightDecay(it + 1);
        settings.momentum = plan.schedules().momentum(it);
        settings.iteration = it;
        StepStats stats = trainStep(model, optimizer, images, masks, settings);
        if (group) { // the logged loss is the mean over ranks; stop if any rank was asked to
            auto agreed = torch::tensor({stats.loss, stats.jepaLoss, stop.load() ? 1.0 : 0.0}, torch::kFloat64);
            group->allreduceSum(agreed);
            stats.loss = agreed[0].item<double>() / group->worldSize();
            stats.jepaLoss = agreed[1].item<double>() / group->worldSize();
            stopAgreed = agreed[2].item<double>() > 0;
        }
        if (!std::isfinite(stats.loss)) {
            observer.message("loss is " + std::to_string(stats.loss) + " at iteration " + std::to_string(it + 1));
            result.status = TrainStatus::Diverged;
            break;
        }
        const double stepSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
        emaStep = it == first ? stepSeconds : 0.9 * emaStep + 0.1 * stepSeconds;
        result.iteration = it + 1;
        result.loss = stats.loss;
        StepReport r = report(it, s, stats, plan.schedules(), stepSeconds, emaStep, config.data.batch_size * s.worldSize, device);
        r.skippedFiles = loader.skippedCount();
        observer.stepDone(Step{r, batch, stats, model, optimizer});
    }
    loader.stop();
    result.nothingToTrain = result.iteration == first && result.status == TrainStatus::Finished; // not stopped or diverged
    if (result.status == TrainStatus::Finished && plan.end() < s.scheduleIterations)
        result.status = TrainStatus::MaxSteps;
    if (result.iteration >= first + 3) {
        const double seconds = std::chrono::duration<double>(Clock::now() - timedStart).count();
        result.imagesPerSecond =
            static_cast<double>(result.iteration - first - 2) * config.data.batch_size * s.worldSize / seconds;
    }
    result.skippedFiles = loader.skippedCount();
    observer.ended(result);
    return result;
}

} // namespace ijepa
