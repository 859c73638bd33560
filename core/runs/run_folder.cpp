#include "core/runs/run_folder.h"

#include "core/runs/sweep_results.h"

#include "core/io/atomic_file.h"
#include "core/runs/run_resume.h"

#include "core/errors.h"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ijepa {
namespace {

namespace fs = std::filesystem;

double field(const std::vector<std::string>& cells, size_t i)
{
    if (i >= cells.size() || cells[i].empty())
        return RunPoint::kNone;
    try {
        return std::stod(cells[i]);
    } catch (const std::exception&) {
        return RunPoint::kNone;
    }
}

std::vector<std::string> splitCsv(const std::string& line)
{
    std::vector<std::string> cells;
    std::stringstream in(line);
    for (std::string cell; std::getline(in, cell, ',');)
        cells.push_back(cell);
    if (!line.empty() && line.back() == ',')
        cells.emplace_back();
    return cells;
}

// The CSV log: the reference's columns (epoch, itr, loss, mask-A, mask-B, time (ms)) and ours after
// them, found by name so that the reference's own file reads too.
void readCsv(const fs::path& path, RunRecord& r)
{
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) {
        r.problems.push_back(path.filename().string() + ": empty or unreadable");
        return;
    }
    const auto header = splitCsv(line);
    const auto column = [&](const char* name) {
        const auto it = std::find(header.begin(), header.end(), name);
        return it == header.end() ? size_t(-1) : static_cast<size_t>(it - header.begin());
    };
    const size_t cEpoch = column("epoch"), cItr = column("itr"), cLoss = column("loss"), cTime = column("time (ms)");
    if (cEpoch == size_t(-1) || cItr == size_t(-1) || cLoss == size_t(-1)) {
        r.problems.push_back(path.filename().string() + ": not a run log (no epoch, itr and loss columns)");
        return;
    }
    const size_t cLr = column("lr"), cWd = column("wd"), cMom = column("momentum"), cIps = column("img/s"),
                 cRank = column("rankme"), cStd = column("feat_std"), cProbe = column("probe_knn"),
                 cJepa = column("jepa_loss"), cSigreg = column("sigreg_stat");
    std::vector<std::pair<long long, long long>> at; // (epoch, itr) per row, for the ipe guess
    int bad = 0, lineNo = 1;
    double wall = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        const auto cells = splitCsv(line);
        const double epoch = field(cells, cEpoch), itr = field(cells, cItr), loss = field(cells, cLoss);
        if (!std::isfinite(epoch) || !std::isfinite(itr) || cells.size() < 3) {
            if (++bad == 1)
                r.problems.push_back(path.filename().string() + ": line " + std::to_string(lineNo) + " is broken");
            continue;
        }
        RunPoint p;
        p.loss = loss;
        p.lr = field(cells, cLr);
        p.weightDecay = field(cells, cWd);
        p.momentum = field(cells, cMom);
        p.imagesPerSecond = field(cells, cIps);
        p.rankMe = field(cells, cRank);
        p.featureStd = field(cells, cStd);
        p.probe = field(cells, cProbe);
        p.jepaLoss = field(cells, cJepa);
        p.sigregStat = field(cells, cSigreg);
        const double ms = field(cells, cTime);
        wall += std::isfinite(ms) ? ms / 1000.0 : 0.0;
        p.wallSeconds = wall;
        at.emplace_back(static_cast<long long>(epoch), static_cast<long long>(itr));
        r.points.push_back(p);
    }
    if (bad > 1)
        r.problems.back() += " (and " + std::to_string(bad - 1) + " more)";
    if (r.iterationsPerEpoch <= 0) // no run.json: the largest itr + 1 (the steps of an epoch once one has ended)
        for (size_t i = 0; i < at.size(); ++i)
            r.iterationsPerEpoch = std::max<std::int64_t>(r.iterationsPerEpoch, at[i].second + 1);
    const std::int64_t ipe = std::max<std::int64_t>(1, r.iterationsPerEpoch);
    for (size_t i = 0; i < r.points.size(); ++i) {
        r.points[i].step = (at[i].first - 1) * ipe + at[i].second + 1;
        r.points[i].epoch = static_cast<double>(r.points[i].step) / static_cast<double>(ipe);
    }
    r.wallSeconds = wall;
}

void describeConfig(RunRecord& r)
{
    const Config& c = *r.config;
    try {
        const auto e = c.encoderSize();
        r.model = c.meta.model_name + " " + std::to_string(e.embed_dim) + "x" + std::to_string(e.depth) + ", predictor " +
                  std::to_string(c.meta.pred_emb_dim) + "x" + std::to_string(c.meta.pred_depth) + ", crop " +
                  std::to_string(c.data.crop_size) + "/" + std::to_string(c.mask.patch_size);
    } catch (const Error& e) {
        r.problems.push_back(e.what());
    }
    if (r.data.empty())
        r.data = c.data.root_path.empty() && c.data.image_folder.empty() ? "?" : (fs::path(c.data.root_path) / c.data.image_folder).string();
}

RunState stateFrom(const RunRecord& r, const std::optional<RunMeta>& meta, bool locked)
{
    if (locked)
        return RunState::Running;
    if (meta && meta->status == "diverged")
        return RunState::Diverged;
    if (meta && (meta->status == "finished" || meta->status == "max-steps")) // the run ended where it was told to
        return RunState::Finished;
    if (r.stepsPlanned > 0 && r.stepsDone >= r.stepsPlanned)
        return RunState::Finished;
    if (!r.points.empty() && !std::isfinite(r.points.back().loss))
        return RunState::Diverged;
    return r.points.empty() && !meta ? RunState::Unknown : RunState::Stopped;
}

} // namespace

const char* runStateName(RunState state)
{
    switch (state) {
    case RunState::Running: return "running";
    case RunState::Stopped: return "stopped";
    case RunState::Finished: return "finished";
    case RunState::Diverged: return "diverged";
    case RunState::Unknown: break;
    }
    return "unknown";
}

RunRecord readRunFolder(const std::string& dir)
{
    RunRecord r;
    r.folder = dir;
    r.name = fs::path(dir).filename().string();
    std::string problem;
    const auto meta = readRunMeta(dir, &problem);
    if (!problem.empty())
        r.problems.push_back(problem);
    if (meta) {
        r.data = meta->data;
        r.iterationsPerEpoch = meta->iterationsPerEpoch;
        r.stepsPlanned = meta->scheduleIterations;
        r.parent = meta->parent;
        r.branchStep = meta->branchStep;
        r.finalKnn = meta->finalKnn;
        if (!meta->name.empty())
            r.name = meta->name;
    }
    const fs::path yaml = fs::path(dir) / "params-ijepa.yaml";
    std::string tag = "jepa";
    if (fs::exists(yaml)) {
        try {
            r.config = loadConfig(yaml.string());
            tag = r.config->logging.write_tag;
            describeConfig(r);
        } catch (const Error& e) {
            r.problems.push_back(e.what());
        }
    } else {
        r.problems.push_back("no params-ijepa.yaml");
    }
    const fs::path csv = fs::path(dir) / (tag + "_r0.csv");
    if (fs::exists(csv))
        readCsv(csv, r);
    else
        r.problems.push_back("no " + csv.filename().string());
    if (!r.points.empty()) {
        r.stepsDone = r.points.back().step;
        if (std::isnan(r.finalKnn)) // a sweep's trial: its k-NN at its last step (sweep-eval.json)
            if (const TrialEval e = readTrialEval(dir); e.step == r.stepsDone)
                r.finalKnn = e.knn;
        r.lastLoss = r.points.back().loss;
        for (auto it = r.points.rbegin(); it != r.points.rend(); ++it)
            if (std::isfinite(it->probe)) {
                r.lastProbe = it->probe;
                break;
            }
    }
    if (r.stepsPlanned <= 0 && r.config && r.iterationsPerEpoch > 0)
        r.stepsPlanned = r.iterationsPerEpoch * r.config->optimization.epochs;
    std::error_code ec;
    std::vector<std::pair<fs::file_time_type, std::string>> found;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const auto name = entry.path().filename().string();
        if (name.rfind(tag + "-", 0) == 0 && name.size() > 8 && name.substr(name.size() - 8) == ".pth.tar")
            found.emplace_back(entry.last_write_time(ec), entry.path().string());
    }
    std::sort(found.rbegin(), found.rend());
    for (const auto& f : found)
        r.checkpoints.push_back(f.second);
    r.state = stateFrom(r, meta, runFolderLocked(dir));
    if (r.checkpoints.empty() && r.state != RunState::Running) // a live run writes its first one later
        r.problems.push_back("no checkpoint");
    return r;
}

bool continuesInFolder(const std::string& resumedFrom, const std::string& outDir)
{
    if (resumedFrom.empty())
        return false;
    std::error_code a, b;
    const auto from = fs::weakly_canonical(fs::absolute(resumedFrom).parent_path(), a);
    const auto to = fs::weakly_canonical(fs::absolute(outDir), b);
    return a || b ? fs::path(resumedFrom).parent_path() == fs::path(outDir) : from == to;
}

std::vector<std::string> findRunFolders(const std::string& root, int depth)
{
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(root, ec))
        return out;
    const auto isRun = [](const fs::path& p) {
        std::error_code e;
        if (fs::exists(p / "params-ijepa.yaml", e))
            return true;
        for (const auto& entry : fs::directory_iterator(p, e)) {
            const auto n = entry.path().filename().string();
            if (n.size() > 7 && n.substr(n.size() - 7) == "_r0.csv")
                return true;
        }
        return false;
    };
    std::vector<std::pair<fs::path, int>> todo{{fs::path(root), 0}};
    while (!todo.empty()) {
        auto [p, level] = todo.back();
        todo.pop_back();
        if (isRun(p)) {
            out.push_back(p.string());
            continue;
        }
        if (level >= depth)
            continue;
        for (const auto& entry : fs::directory_iterator(p, ec))
            if (entry.is_directory(ec) && entry.path().filename() != "tb")
                todo.emplace_back(entry.path(), level + 1);
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool runFolderLocked(const std::string& dir)
{
    struct stat st {};
    if (::stat((fs::path(dir) / ".ijepa.lock").c_str(), &st) != 0)
        return false;
    std::ifstream locks("/proc/locks");
    std::string line;
    while (std::getline(locks, line)) { // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"
        std::istringstream in(line);
        std::string id, kind, mode, access, pid, device;
        in >> id >> kind;
        if (kind == "->")
            in >> kind;
        in >> mode >> access >> pid >> device;
        if (kind != "FLOCK")
            continue;
        const auto colon = device.rfind(':');
        if (colon != std::string::npos && std::stoull(device.substr(colon + 1)) == static_cast<unsigned long long>(st.st_ino))
            return true;
    }
    return false;
}

void writeRunMeta(const std::string& dir, const RunMeta& m)
{
    nlohmann::json j{{"version", m.version},
                           {"data", m.data},
                           {"iterations_per_epoch", m.iterationsPerEpoch},
                           {"schedule_iterations", m.scheduleIterations},
                           {"status", m.status},
                           {"parent", m.parent},
                           {"branch_step", m.branchStep},
                           {"precision", m.precision}};
    if (!m.name.empty())
        j["name"] = m.name;
    if (std::isfinite(m.finalKnn))
        j["final_knn"] = m.finalKnn;
    const std::string path = (fs::path(dir) / "run.json").string(), text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"; // paths need not be UTF-8
    writeTextAtomically(path, text);
}

void renameRun(const std::string& dir, const std::string& name)
{
    if (runFolderLocked(dir))
        throw Error(dir + ": the run is training; rename it once it has stopped");
    std::string problem;
    auto meta = readRunMeta(dir, &problem);
    if (!meta)
        throw Error(dir + ": " + (problem.empty() ? "no run.json (not a run of this program) to keep a name in" : problem));
    meta->name = name;
    writeRunMeta(dir, *meta);
}

std::optional<RunMeta> readRunMeta(const std::string& dir, std::string* problem)
{
    const fs::path path = fs::path(dir) / "run.json";
    std::ifstream in(path);
    if (!in)
        return std::nullopt;
    try {
        const auto j = nlohmann::json::parse(in);
        RunMeta m;
        m.version = j.value("version", 1);
        if (m.version > RunMeta::kVersion && problem)
            *problem = "run.json is version " + std::to_string(m.version) + ", newer than this program's " +
                       std::to_string(RunMeta::kVersion) + ": read as far as it can be";
        m.data = j.value("data", "");
        m.iterationsPerEpoch = j.value("iterations_per_epoch", std::int64_t{0});
        m.scheduleIterations = j.value("schedule_iterations", std::int64_t{0});
        m.status = j.value("status", "");
        m.parent = j.value("parent", "");
        m.branchStep = j.value("branch_step", std::int64_t{-1});
        m.precision = j.value("precision", "");
        m.name = j.value("name", "");
        if (j.contains("final_knn") && j["final_knn"].is_number())
            m.finalKnn = j["final_knn"].get<double>();
        return m;
    } catch (const std::exception& e) {
        if (problem)
            *problem = path.string() + ": unreadable (" + e.what() + ")";
        return std::nullopt;
    }
}

std::vector<ConfigDifference> configDifferences(const Config& a, const Config& b)
{
    std::vector<ConfigDifference> out;
    const auto ea = configEntries(a), eb = configEntries(b);
    for (size_t i = 0; i < ea.size() && i < eb.size(); ++i)
        if (ea[i].value != eb[i].value)
            out.push_back({ea[i].section + "." + ea[i].key, ea[i].value, eb[i].value});
    return out;
}

std::string describeDifferences(const Config& base, const Config& c, int most)
{
    const auto differences = configDifferences(base, c);
    const auto entries = configEntries(c);
    std::string out;
    int shown = 0;
    for (const auto& d : differences) {
        if (shown == most) {
            out += " +" + std::to_string(differences.size() - static_cast<size_t>(most)) + " more";
            break;
        }
        std::string key = d.key.substr(d.key.find('.') + 1);
        if (std::count_if(entries.begin(), entries.end(), [&](const ConfigEntry& e) { return e.key == key; }) > 1)
            key = d.key; // e.g. two sections with the same key: keep the section
        std::string value = d.b;
        value.erase(std::remove(value.begin(), value.end(), ' '), value.end());
        out += (shown++ ? " " : "") + key + "=" + value;
    }
    return out;
}

std::string runName(const std::string& dir)
{
    const auto meta = readRunMeta(dir, nullptr);
    return meta && !meta->name.empty() ? meta->name : fs::path(dir).filename().string();
}

std::string branchName(const std::string& parentName, std::int64_t step, const Config& parent, const Config& c)
{
    const std::string changes = describeDifferences(parent, c);
    return parentName + " @" + std::to_string(step) + (changes.empty() ? "" : " " + changes);
}

} // namespace ijepa
