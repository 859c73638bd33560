#include "core/train/run_log.h"

#include "core/data/data_loader.h"
#include "core/errors.h"
#include "core/io/atomic_file.h"
#include "core/io/event_writer.h"
#include "core/runs/run_resume.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>
#include <vector>

namespace ijepa {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCsvHeader =
    "epoch,itr,loss,mask-A,mask-B,time (ms),lr,wd,momentum,img/s,rankme,feat_std,probe_knn,jepa_loss,sigreg_loss,"
    "sigreg_stat,settings";

// The fields of a CSV line (commas inside quotes do not count).
size_t csvFields(const std::string& line)
{
    size_t fields = 1;
    bool quoted = false;
    for (const char c : line) {
        if (c == '"')
            quoted = !quoted;
        else if (c == ',' && !quoted)
            ++fields;
    }
    return fields;
}

} // namespace

RunLog::RunLog(RunLogOptions options) : m_options(std::move(options)) {}
RunLog::~RunLog() = default;

void RunLog::started(const TrainStart& s)
{
    if (!s.writer)
        return;
    retryingWrites(m_options.onWriteError, [&] { saveConfig(s.config, (fs::path(s.outDir) / "params-ijepa.yaml").string()); });
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(fs::path(s.outDir) / "tb", ec)) // a record a full disk or a crash cut short
        if (f.path().filename().string().rfind("events.out.tfevents.", 0) == 0)
            cutTornRecords(f.path().string());
    openCsv((fs::path(s.outDir) / (s.config.logging.write_tag + "_r0.csv")).string(), s.firstIteration, s.iterationsPerEpoch);
    m_events = std::make_unique<EventWriter>((fs::path(s.outDir) / "tb").string());
    // A resumed branch keeps its parent; a new branch records where it started.
    m_dir = s.outDir;
    m_first = s.firstIteration;
    m_meta = readRunMeta(m_dir, nullptr).value_or(RunMeta{});
    m_meta.version = RunMeta::kVersion;
    m_meta.data = s.data;
    m_meta.iterationsPerEpoch = s.iterationsPerEpoch;
    m_meta.scheduleIterations = s.scheduleIterations;
    m_meta.status = "running";
    m_meta.precision = s.precision;
    if (!m_options.name.empty())
        m_meta.name = m_options.name;
    if (!m_options.parent.empty() && m_meta.parent.empty()) {
        m_meta.parent = fs::absolute(m_options.parent).string();
        m_meta.branchStep = s.firstIteration;
    }
    retryingWrites(m_options.onWriteError, [&] { writeRunMeta(m_dir, m_meta); });
    // A run that does not continue in this folder starts a new settings history.
    if (!continuesInFolder(s.resumedFrom, s.outDir))
        fs::remove(configHistoryPath(m_dir));
}

// A change: into the history (unless replayed from it), a marker on the next CSV row (its
// settings column), a TensorBoard text entry.
void RunLog::settingsChanged(const SettingsChange& change, const TrainStart& now, bool record)
{
    if (!m_events)
        return;
    if (record)
        retryingWrites(m_options.onWriteError, [&] { appendConfigHistory(configHistoryPath(m_dir), change); });
    if (m_meta.scheduleIterations != now.scheduleIterations) { // the epochs changed: the plan the runs panel shows
        m_meta.scheduleIterations = now.scheduleIterations;
        retryingWrites(m_options.onWriteError, [&] { writeRunMeta(m_dir, m_meta); });
    }
    if (change.step < m_first) // in force before a resumed checkpoint: its rows and markers are kept
        return;
    if (!m_marker.empty())
        m_marker += ' ';
    m_marker += describeChange(change);
    m_events->addText("settings", change.step + 1, "from step " + std::to_string(change.step + 1) + ": " + describeChange(change));
    flushEvents();
}

// The reference's CSV log (src/utils/logging.py CSVLogger), keeping the whole rows before
// `keepBelow` (a row a crash or a full disk cut short is dropped); rewritten atomically.
void RunLog::openCsv(const std::string& path, std::int64_t keepBelow, std::int64_t ipe)
{
    std::string text = std::string(kCsvHeader) + "\n";
    if (std::ifstream in(path); in) {
        const std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        size_t at = old.find('\n'); // past the header
        const size_t columns = csvFields(old.substr(0, at));
        while (at != std::string::npos && at + 1 < old.size()) {
            const size_t end = old.find('\n', at + 1);
            if (end == std::string::npos)
                break; // no newline: cut short
            const std::string line = old.substr(at + 1, end - at - 1);
            long long epoch = 0, itr = 0;
            if (csvFields(line) == columns && std::sscanf(line.c_str(), "%lld,%lld", &epoch, &itr) == 2 &&
                (epoch - 1) * ipe + itr < keepBelow)
                text += line + "\n";
            at = end;
        }
    }
    retryingWrites(m_options.onWriteError, [&] {
        writeTextAtomically(path, text);
        m_csv = AppendFile(path, false);
    });
}

void RunLog::stepDone(const Step& step)
{
    if (!m_events)
        return;
    const StepReport& r = step.report;
    csvRow(r);
    if (r.signals)
        signals(r);
    if (m_options.logEvery > 0 && r.iteration % m_options.logEvery == 0)
        scalars(r);
    if (m_options.renderMasks && m_options.imageEvery > 0 && (r.iteration - 1) % m_options.imageEvery == 0) {
        int h = 0, w = 0;
        const std::string png = m_options.renderMasks(step.batch, h, w);
        if (!png.empty()) {
            m_events->addImage("masks", r.iteration, png, h, w);
            flushEvents();
        }
    }
}

void RunLog::flushEvents()
{
    retryingWrites(m_options.onWriteError, [&] { m_events->flush(); });
}

void RunLog::csvRow(const StepReport& r)
{
    std::ostringstream out; // the whole row, then one write
    char line[256];
    std::snprintf(line, sizeof(line), "%lld,%lld,%.5f,%lld,%lld,%.1f,%.6e,%.6e,%.6f,%.1f,", static_cast<long long>(r.epoch),
                  static_cast<long long>(r.stepInEpoch - 1), r.loss, static_cast<long long>(r.contextSize),
                  static_cast<long long>(r.targetSize), r.stepMs, r.lr, r.weightDecay, r.momentum, r.imagesPerSecond);
    out << line;
    if (std::isfinite(r.rankMe)) {
        std::snprintf(line, sizeof(line), "%.3f,%.6f", r.rankMe, r.featureStd);
        out << line;
    } else {
        out << ",";
    }
    out << ",";
    if (std::isfinite(r.probeAccuracy)) {
        std::snprintf(line, sizeof(line), "%.4f", r.probeAccuracy);
        out << line;
    }
    std::snprintf(line, sizeof(line), ",%.5f,", r.jepaLoss);
    out << line;
    if (std::isfinite(r.sigregLoss)) {
        std::snprintf(line, sizeof(line), "%.5f", r.sigregLoss);
        out << line;
    }
    out << ",";
    if (std::isfinite(r.sigregSignal)) {
        std::snprintf(line, sizeof(line), "%.4f", r.sigregSignal);
        out << line;
    }
    out << ",";
    if (!m_marker.empty()) // quoted: a value such as optimization.ema=[0.99, 1.0] holds a comma
        out << '"' << m_marker << '"';
    out << "\n";
    const std::string row = out.str();
    retryingWrites(m_options.onWriteError, [&] { m_csv.append(row); });
    m_marker.clear();
}

void RunLog::scalars(const StepReport& r)
{
    m_events->addScalar("loss", r.iteration, r.loss);
    if (std::isfinite(r.sigregLoss)) {
        m_events->addScalar("loss/jepa", r.iteration, r.jepaLoss);
        m_events->addScalar("loss/sigreg", r.iteration, r.sigregLoss);
    }
    m_events->addScalar("lr", r.iteration, r.lr);
    m_events->addScalar("wd", r.iteration, r.weightDecay);
    m_events->addScalar("momentum", r.iteration, r.momentum);
    m_events->addScalar("throughput/img_per_s", r.iteration, r.imagesPerSecond);
    m_events->addScalar("masks/context_patches", r.iteration, static_cast<double>(r.contextSize));
    m_events->addScalar("masks/target_patches", r.iteration, static_cast<double>(r.targetSize));
    if (std::isfinite(r.gpuMemoryMb)) {
        m_events->addScalar("memory/gpu_allocated_mb", r.iteration, r.gpuMemoryMb);
        m_events->addScalar("memory/gpu_peak_mb", r.iteration, r.gpuPeakMemoryMb);
    }
    flushEvents();
}

void RunLog::signals(const StepReport& r)
{
    const Signals& s = *r.signals;
    if (std::isfinite(r.rankMe)) {
        m_events->addScalar("collapse/rankme", r.iteration, r.rankMe);
        m_events->addScalar("collapse/feature_std", r.iteration, r.featureStd);
    }
    if (std::isfinite(r.probeAccuracy))
        m_events->addScalar("probe/knn_top1", r.iteration, r.probeAccuracy);
    if (std::isfinite(r.contextProbeAccuracy))
        m_events->addScalar("probe/knn_top1_context", r.iteration, r.contextProbeAccuracy);
    if (std::isfinite(r.sigregSignal))
        m_events->addScalar("collapse/sigreg", r.iteration, r.sigregSignal);
    if (!s.spectrum.empty()) { // bucket i+1 holds the i-th normalised singular value
        std::vector<double> index(s.spectrum.size());
        for (size_t i = 0; i < index.size(); ++i)
            index[i] = static_cast<double>(i + 1);
        m_events->addHistogram("collapse/spectrum", r.iteration, index, s.spectrum);
    }
    for (size_t m = 0; m < s.blockLoss.size(); ++m)
        m_events->addScalar("predictor/loss_block_" + std::to_string(m + 1), r.iteration, s.blockLoss[m]);
    if (m_options.renderHeatmap && !s.positionLoss.empty()) {
        int h = 0, w = 0;
        const std::string png = m_options.renderHeatmap(s.positionLoss, s.gridSize, h, w);
        if (!png.empty())
            m_events->addImage("predictor/loss_by_position", r.iteration, png, h, w);
    }
    flushEvents();
}

void RunLog::ended(TrainResult& result)
{
    if (!m_events)
        return;
    const char* status[] = {"finished", "max-steps", "stopped", "diverged"};
    m_meta.status = status[static_cast<int>(result.status)];
    m_meta.finalKnn = result.finalKnn;
    try {
        writeRunMeta(m_dir, m_meta);
    } catch (const std::exception&) {
        // the run's result stands; a status that cannot be written is read back from the files
    }
    if (std::isfinite(result.finalKnn))
        m_events->addScalar("eval/knn_top1", result.iteration, result.finalKnn);
    flushEvents();
}

} // namespace ijepa
