#include "trainer.h"

#include "checkpoint.h"
#include "compat.h"
#include "distributed.h"
#include "embeddings.h"
#include "evaluation.h"
#include "errors.h"
#include "event_writer.h"
#include "ijepa_model.h"
#include "schedules.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>

namespace ijepa {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kCsvHeader = "epoch,itr,loss,mask-A,mask-B,time (ms),lr,wd,momentum,img/s,rankme,feat_std";

// The reference's CSV log (src/utils/logging.py CSVLogger) plus lr, wd, momentum and img/s. When a
// run resumes, rows past the checkpoint (steps a crash lost) are dropped first.
class CsvLog {
public:
    CsvLog(const std::string& path, std::int64_t keepBelow, std::int64_t ipe)
    {
        std::vector<std::string> keep;
        if (std::ifstream in(path); in) {
            std::string line;
            std::getline(in, line);
            while (std::getline(in, line)) {
                long long epoch = 0, itr = 0;
                if (std::sscanf(line.c_str(), "%lld,%lld", &epoch, &itr) == 2 && (epoch - 1) * ipe + itr < keepBelow)
                    keep.push_back(line);
            }
        }
        m_out.open(path, std::ios::trunc);
        if (!m_out)
            throw Error(path + ": cannot write the CSV log");
        m_out << kCsvHeader << "\n";
        for (const auto& l : keep)
            m_out << l << "\n";
        m_out.flush();
    }
    void row(const StepReport& r)
    {
        char line[256];
        std::snprintf(line, sizeof(line), "%lld,%lld,%.5f,%lld,%lld,%.1f,%.6e,%.6e,%.6f,%.1f,",
                      static_cast<long long>(r.epoch), static_cast<long long>(r.stepInEpoch - 1), r.loss,
                      static_cast<long long>(r.contextSize), static_cast<long long>(r.targetSize), r.stepMs, r.lr,
                      r.weightDecay, r.momentum, r.imagesPerSecond);
        m_out << line;
        if (std::isfinite(r.rankMe)) {
            std::snprintf(line, sizeof(line), "%.3f,%.6f", r.rankMe, r.featureStd);
            m_out << line;
        } else {
            m_out << ",";
        }
        m_out << "\n" << std::flush;
    }

private:
    std::ofstream m_out;
};

// Loads a checkpoint and returns the global iteration it stopped at.
std::int64_t resumeFrom(const std::string& path, IJepaModel& model, AdamW& optimizer, std::int64_t ipe,
                        const Config& config, TrainObserver& observer)
{
    const auto meta = loadCheckpoint(path, model, &optimizer);
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

} // namespace

std::string latestCheckpointPath(const std::string& outDir, const Config& config)
{
    return (fs::path(outDir) / (config.logging.write_tag + "-latest.pth.tar")).string();
}

TrainResult train(const TrainerOptions& options, TrainObserver& observer, const std::atomic_bool& stop)
{
    Config config = options.config;
    const std::string outDir = options.outDir.empty() ? config.logging.folder : options.outDir;
    config.logging.folder = outDir;
    validateConfig(config);
    if (!options.data)
        throw DataError("no training data given");

    ProcessGroup* group = options.group.get();
    const bool writer = !group || group->rank() == 0; // only rank 0 writes logs and checkpoints
    std::error_code ec;
    fs::create_directories(outDir, ec);
    if (ec || !fs::is_directory(outDir))
        throw Error(outDir + ": cannot create the output folder (" + ec.message() + ")");
    const std::string latest = latestCheckpointPath(outDir, config);

    std::string resumePath = options.resumeFrom;
    if (resumePath.empty() && (options.resume || config.meta.load_checkpoint)) {
        resumePath = config.meta.read_checkpoint && !options.resume
                         ? (fs::path(outDir) / *config.meta.read_checkpoint).string()
                         : latest;
        if (!fs::exists(resumePath))
            throw CheckpointError(resumePath + ": no checkpoint to resume from");
    }
    if (resumePath.empty() && fs::exists(latest) && writer)
        throw Error(latest + " exists: pass --resume to continue that run, or choose another output folder");

    const torch::Device device(options.device);
    torch::manual_seed(static_cast<std::uint64_t>(config.meta.seed));
    IJepaModel model(config, device);
    AdamW optimizer(model.paramGroups());

    LoaderOptions lo;
    lo.batchSize = config.data.batch_size;
    lo.cropSize = config.data.crop_size;
    lo.cropScale = config.data.crop_scale;
    lo.workers = std::min<int>(config.data.num_workers, std::max(1u, std::thread::hardware_concurrency()));
    lo.seed = static_cast<std::uint64_t>(config.meta.seed);
    if (group) { // this rank's shard, rank-seeded masks
        lo.rank = group->rank();
        lo.worldSize = group->worldSize();
    }
    DataLoader loader(options.data, lo, config.mask);
    const std::int64_t ipe = loader.batchesPerEpoch();
    const Schedules schedules(config.optimization, ipe);
    const std::int64_t allSteps = static_cast<std::int64_t>(config.optimization.epochs) * ipe;
    const std::int64_t end = options.maxSteps > 0 ? std::min(options.maxSteps, allSteps) : allSteps;

    const std::int64_t first = resumePath.empty() ? 0 : resumeFrom(resumePath, model, optimizer, ipe, config, observer);
    std::vector<torch::Tensor> trainable;
    if (group) {
        // Every rank starts from rank 0's weights (and target encoder).
        {
            torch::NoGradGuard noGrad;
            group->broadcast(model.stateTensors(), 0);
        }
        trainable = model.trainableParameters();
        observer.message("data parallel: rank " + std::to_string(group->rank()) + " of " +
                         std::to_string(group->worldSize()) + " (" + group->backend() + "), " +
                         std::to_string(loader.batchesPerEpoch()) + " batches per epoch per rank");
    }
    std::unique_ptr<CsvLog> csv;
    std::unique_ptr<EventWriter> events;
    if (writer) {
        saveConfig(config, (fs::path(outDir) / "params-ijepa.yaml").string());
        csv = std::make_unique<CsvLog>((fs::path(outDir) / (config.logging.write_tag + "_r0.csv")).string(), first, ipe);
        events = std::make_unique<EventWriter>((fs::path(outDir) / "tb").string());
    }
    observer.started({first, end, ipe, config.optimization.epochs, resumePath});

    torch::Tensor diagnosticImages; // [M, 3, crop, crop], evaluation view
    if (writer && options.diagnostics && options.diagnosticsEvery > 0) {
        std::vector<torch::Tensor> views;
        for (std::int64_t i = 0; i < options.diagnostics->size(); ++i) {
            try {
                views.push_back(evalTransform(options.diagnostics->image(i), config.data.crop_size));
            } catch (const DataError&) {
            }
        }
        if (views.size() >= 2)
            diagnosticImages = torch::stack(views).to(device);
    }

    TrainResult result;
    result.iteration = first;
    const bool autocast = device.is_cuda() && config.meta.use_bfloat16;
    double epochLossSum = 0;
    std::int64_t epochLossCount = 0, lastSaved = first;
    double lastLr = schedules.learningRate(first + 1);

    const auto save = [&](std::int64_t iteration, const std::string& path) {
        if (!writer)
            return;
        CheckpointMeta meta;
        meta.worldSize = group ? group->worldSize() : 1;
        meta.epoch = iteration / ipe;
        meta.loss = epochLossCount ? epochLossSum / epochLossCount : result.loss;
        meta.batchSize = config.data.batch_size;
        meta.lr = lastLr;
        meta.iteration = iteration;
        meta.config = dumpConfig(config);
        saveCheckpoint(path, model, &optimizer, meta);
        result.checkpoint = path;
        lastSaved = iteration;
        observer.message("checkpoint " + path + " (iteration " + std::to_string(iteration) + ")");
    };

    loader.start(first);
    Clock::time_point timedStart;
    double emaStep = 0;
    bool stopAgreed = false; // data parallel: any rank asked to stop (agreed after each step)
    for (std::int64_t it = first; it < end; ++it) {
        if (group ? stopAgreed : stop.load()) {
            result.status = TrainStatus::Stopped;
            break;
        }
        const auto t0 = Clock::now();
        if (it == first + 2)
            timedStart = t0;
        Batch batch = loader.next();
        for (const auto& skipped : loader.takeSkipped())
            observer.message("skipped unreadable image: " + skipped);
        auto images = batch.images;
        MaskBatch masks = batch.masks;
        if (device.is_cuda()) {
            images = images.pin_memory().to(device, /*non_blocking=*/true);
            masks = {masks.enc.to(device, /*non_blocking=*/true), masks.pred.to(device, /*non_blocking=*/true)};
        }
        const double lr = schedules.learningRate(it + 1);
        const double wd = schedules.weightDecay(it + 1);
        const double m = schedules.momentum(it);
        StepStats stats;
        {
            compat::AutocastGuard guard(autocast);
            stats = trainStep(model, optimizer, images, masks, lr, wd, m,
                              group ? std::function<void()>([&] { group->averageGradients(trainable); })
                                    : std::function<void()>());
        }
        if (group) { // the logged loss is the mean over ranks; stop if any rank was asked to
            auto agreed = torch::tensor({stats.loss, stop.load() ? 1.0 : 0.0}, torch::kFloat64);
            group->allreduceSum(agreed);
            stats.loss = agreed[0].item<double>() / group->worldSize();
            stopAgreed = agreed[1].item<double>() > 0;
        }
        if (!std::isfinite(stats.loss)) {
            observer.message("loss is " + std::to_string(stats.loss) + " at iteration " + std::to_string(it + 1) +
                             ": stopping; the last good checkpoint is " +
                             (result.checkpoint.empty() ? "the one this run started from (if any)" : result.checkpoint));
            result.status = TrainStatus::Diverged;
            break;
        }
        const double stepSeconds = std::chrono::duration<double>(Clock::now() - t0).count();
        emaStep = it == first ? stepSeconds : 0.9 * emaStep + 0.1 * stepSeconds;
        result.iteration = it + 1;
        result.loss = stats.loss;
        lastLr = lr;
        if ((it % ipe) == 0) {
            epochLossSum = 0;
            epochLossCount = 0;
        }
        epochLossSum += stats.loss;
        ++epochLossCount;

        StepReport r;
        r.iteration = it + 1;
        r.totalIterations = end;
        r.epoch = it / ipe + 1;
        r.stepInEpoch = it % ipe + 1;
        r.iterationsPerEpoch = ipe;
        r.loss = stats.loss;
        r.lr = lr;
        r.weightDecay = wd;
        r.momentum = m;
        r.contextSize = stats.contextSize;
        r.targetSize = stats.targetSize;
        r.stepMs = stepSeconds * 1000.0;
        r.imagesPerSecond = config.data.batch_size * (group ? group->worldSize() : 1) / emaStep;
        r.etaSeconds = emaStep * static_cast<double>(end - it - 1);
        if (device.is_cuda())
            std::tie(r.gpuMemoryMb, r.gpuPeakMemoryMb) = compat::cudaMemoryMb(device.has_index() ? device.index() : 0);
        if (diagnosticImages.defined() && ((it + 1) % options.diagnosticsEvery == 0 || it + 1 == end)) {
            torch::NoGradGuard noGrad;
            const auto features = model.targetEncoder->forward(diagnosticImages).mean(1).to(torch::kCPU, torch::kFloat32);
            r.rankMe = rankMe(features);
            r.featureStd = normalisedFeatureStd(features);
            events->addScalar("collapse/rankme", it + 1, r.rankMe);
            events->addScalar("collapse/feature_std", it + 1, r.featureStd);
        }
        if (csv)
            csv->row(r);
        if (events && options.logEvery > 0 && (it + 1) % options.logEvery == 0) {
            events->addScalar("loss", it + 1, r.loss);
            events->addScalar("lr", it + 1, r.lr);
            events->addScalar("wd", it + 1, r.weightDecay);
            events->addScalar("momentum", it + 1, r.momentum);
            events->addScalar("throughput/img_per_s", it + 1, r.imagesPerSecond);
            events->addScalar("masks/context_patches", it + 1, static_cast<double>(r.contextSize));
            events->addScalar("masks/target_patches", it + 1, static_cast<double>(r.targetSize));
            if (std::isfinite(r.gpuMemoryMb)) {
                events->addScalar("memory/gpu_allocated_mb", it + 1, r.gpuMemoryMb);
                events->addScalar("memory/gpu_peak_mb", it + 1, r.gpuPeakMemoryMb);
            }
            events->flush();
        }
        if (events && options.renderMasks && options.imageEvery > 0 && it % options.imageEvery == 0) {
            int h = 0, w = 0;
            const std::string png = options.renderMasks(batch, h, w);
            if (!png.empty()) {
                events->addImage("masks", it + 1, png, h, w);
                events->flush();
            }
        }
        observer.batchTrained(batch);
        observer.stepDone(r);
        if (observer.wantsEncoder())
            observer.encoder(model.targetEncoder);

        const bool epochEnd = (it + 1) % ipe == 0;
        if (epochEnd || (options.checkpointEvery > 0 && (it + 1) % options.checkpointEvery == 0) || it + 1 == end)
            save(it + 1, latest);
        if (writer && epochEnd && options.snapshotEvery > 0 && ((it + 1) / ipe) % options.snapshotEvery == 0) {
            const auto snapshot = fs::path(outDir) / (config.logging.write_tag + "-ep" + std::to_string((it + 1) / ipe) + ".pth.tar");
            fs::copy_file(latest, snapshot, fs::copy_options::overwrite_existing, ec);
            if (ec)
                observer.message("could not write snapshot " + snapshot.string() + ": " + ec.message());
        }
    }
    loader.stop();
    if (result.status == TrainStatus::Stopped && result.iteration > lastSaved)
        save(result.iteration, latest);
    if (result.status == TrainStatus::Finished && end < allSteps)
        result.status = TrainStatus::MaxSteps;
    if (events)
        events->flush();
    if (result.iteration >= first + 3) {
        const double seconds = std::chrono::duration<double>(Clock::now() - timedStart).count();
        result.imagesPerSecond = static_cast<double>(result.iteration - first - 2) * config.data.batch_size *
                                 (group ? group->worldSize() : 1) / seconds;
    }
    result.skippedFiles = loader.skippedCount();
    return result;
}

} // namespace ijepa
