#include "core/runs/sweep_results.h"

#include "core/errors.h"
#include "core/io/atomic_file.h"
#include "core/train/health.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace ijepa {
namespace {

std::string fixed(double v, int decimals)
{
    if (std::isnan(v))
        return "-";
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string plusMinus(const MeanSd& m, int decimals, double scale = 1.0)
{
    if (m.n == 0)
        return "-";
    return fixed(m.mean * scale, decimals) + (m.n > 1 ? " +- " + fixed(m.sd * scale, decimals) : "");
}

std::string verdictOf(const RunRecord& run, size_t end)
{
    std::vector<HealthPoint> history;
    double lossSum = 0;
    int lossCount = 0;
    bool probe = false;
    for (size_t i = 0; i < end; ++i) {
        const RunPoint& p = run.points[i];
        if (std::isfinite(p.loss)) {
            lossSum += p.loss;
            ++lossCount;
        }
        if (std::isnan(p.rankMe))
            continue;
        HealthPoint h;
        h.iteration = p.step;
        h.loss = lossCount ? lossSum / lossCount : p.loss;
        h.probe = p.probe;
        h.rankMe = p.rankMe;
        h.featureStd = p.featureStd;
        h.sigreg = p.sigregStat;
        probe = probe || std::isfinite(p.probe);
        history.push_back(h);
        lossSum = 0;
        lossCount = 0;
    }
    if (history.empty() || !run.config)
        return "-";
    std::string out;
    for (const auto& line : assessHealth(history, run.config->encoderSize().embed_dim, probe ? "" : "no labels"))
        if (line.warning)
            out += (out.empty() ? "" : ", ") + line.topic + " " + line.state;
    return out.empty() ? "healthy" : out;
}

} // namespace

SweepCriterion parseCriterion(const std::string& name)
{
    if (name == "loss")
        return SweepCriterion::Loss;
    if (name == "rankme")
        return SweepCriterion::RankMe;
    if (name == "sigreg")
        return SweepCriterion::Sigreg;
    throw ConfigError("--criterion " + name + ": one of loss, rankme, sigreg");
}

const char* criterionName(SweepCriterion c)
{
    return c == SweepCriterion::Loss ? "loss" : c == SweepCriterion::RankMe ? "rankme" : "sigreg";
}

bool higherIsBetter(SweepCriterion c) { return c == SweepCriterion::RankMe; }

TrialSignals trialSignals(const RunRecord& run, std::int64_t atStep)
{
    TrialSignals s;
    size_t end = 0; // the rows up to atStep
    while (end < run.points.size() && (atStep <= 0 || run.points[end].step <= atStep))
        ++end;
    if (end == 0)
        return s;
    s.steps = run.points[end - 1].step;
    s.wallSeconds = run.points[end - 1].wallSeconds;
    const size_t tail = std::max<size_t>(1, end / 10);
    double sum = 0;
    int n = 0;
    for (size_t i = end - tail; i < end; ++i) {
        const double v = std::isfinite(run.points[i].jepaLoss) ? run.points[i].jepaLoss : run.points[i].loss;
        if (std::isfinite(v)) {
            sum += v;
            ++n;
        }
    }
    s.loss = n ? sum / n : TrialSignals::kNone;
    for (size_t i = end; i-- > 0;)
        if (std::isfinite(run.points[i].rankMe)) {
            s.rankMe = run.points[i].rankMe;
            s.sigreg = run.points[i].sigregStat;
            break;
        }
    s.verdict = verdictOf(run, end);
    return s;
}

void writeTrialEval(const std::string& runDir, const TrialEval& e)
{
    nlohmann::json j{{"step", e.step}};
    if (std::isfinite(e.knn))
        j["knn"] = e.knn;
    if (std::isfinite(e.linear))
        j["linear"] = e.linear;
    const std::string path = (fs::path(runDir) / "sweep-eval.json").string(), text = j.dump(2) + "\n";
    writeTextAtomically(path, text);
}

TrialEval readTrialEval(const std::string& runDir)
{
    std::ifstream in(fs::path(runDir) / "sweep-eval.json");
    TrialEval e;
    if (!in)
        return e;
    try {
        const auto j = nlohmann::json::parse(in);
        e.step = j.at("step").get<std::int64_t>();
        e.knn = j.value("knn", TrialSignals::kNone);
        e.linear = j.value("linear", TrialSignals::kNone);
    } catch (const nlohmann::json::exception&) {
        return {}; // measured again
    }
    return e;
}

std::vector<int> halvingSurvivors(const std::vector<std::pair<int, double>>& scores, int eta, SweepCriterion c)
{
    auto sorted = scores;
    std::stable_sort(sorted.begin(), sorted.end(), [c](const auto& a, const auto& b) {
        if (std::isnan(a.second) != std::isnan(b.second))
            return std::isnan(b.second); // unmeasured last
        return higherIsBetter(c) ? a.second > b.second : a.second < b.second;
    });
    const size_t keep = std::max<size_t>(1, (sorted.size() + static_cast<size_t>(eta) - 1) / static_cast<size_t>(eta));
    std::vector<int> out;
    for (size_t i = 0; i < std::min(keep, sorted.size()); ++i)
        out.push_back(sorted[i].first);
    return out;
}

SweepTable summariseSweep(const SweepPlan& plan, const std::vector<TrialOutcome>& outcomes)
{
    SweepTable table;
    table.criterion = parseCriterion(plan.criterion);
    const std::int64_t full = plan.steps;
    std::vector<double> criterionAll, knnAll, baselineKnn;
    for (const auto& o : outcomes)
        if (o.trial.setting == plan.baseline)
            baselineKnn.push_back(o.eval.knn);
    for (size_t s = 0; s < plan.settings.size(); ++s) {
        SweepRow row;
        row.setting = static_cast<int>(s);
        row.label = settingLabel(plan.settings[s]);
        row.baseline = row.setting == plan.baseline;
        std::vector<double> steps, wall, knn, linear, loss, rank, sigreg;
        std::set<std::string> verdicts;
        for (const auto& o : outcomes) {
            if (o.trial.setting != row.setting)
                continue;
            ++row.trials;
            steps.push_back(static_cast<double>(o.signals.steps));
            wall.push_back(o.signals.wallSeconds);
            knn.push_back(o.eval.knn);
            linear.push_back(o.eval.linear);
            loss.push_back(o.signals.loss);
            rank.push_back(o.signals.rankMe);
            sigreg.push_back(o.signals.sigreg);
            if (!o.signals.verdict.empty())
                verdicts.insert(o.signals.verdict);
            if (full > 0 && o.signals.steps < full)
                row.stoppedAt = std::max(row.stoppedAt, o.signals.steps);
            else if (full <= 0 || o.signals.steps >= full) {
                criterionAll.push_back(o.signals.value(table.criterion));
                knnAll.push_back(o.eval.knn);
            }
        }
        if (full > 0 && row.stoppedAt > 0 && meanSd(steps).mean >= static_cast<double>(full))
            row.stoppedAt = 0;
        row.steps = meanSd(steps);
        row.wallSeconds = meanSd(wall);
        row.knn = meanSd(knn);
        row.linear = meanSd(linear);
        row.loss = meanSd(loss);
        row.rankMe = meanSd(rank);
        row.sigreg = meanSd(sigreg);
        for (const auto& v : verdicts)
            row.verdict += (row.verdict.empty() ? "" : "; ") + v;
        if (plan.baseline >= 0 && !row.baseline && row.knn.n > 0) {
            row.knnDiff = 100.0 * (row.knn.mean - meanSd(baselineKnn).mean);
            row.welch = welchTest(knn, baselineKnn);
        }
        table.rows.push_back(std::move(row));
    }
    table.criterionSpearman = spearman(criterionAll, knnAll);
    for (size_t i = 0; i < criterionAll.size(); ++i)
        table.spearmanTrials += !std::isnan(criterionAll[i]) && !std::isnan(knnAll[i]);
    return table;
}

void writeResultsTsv(const std::string& path, const SweepTable& t)
{
    std::string text = "setting\ttrials\tsteps\twall_s\tknn_mean\tknn_sd\tlinear_mean\tlinear_sd\tloss_mean\tloss_sd\t"
                       "rankme_mean\trankme_sd\tsigreg_mean\tsigreg_sd\tverdict\tknn_diff_points\twelch_t\twelch_p\t"
                       "baseline\tstopped_at\n";
    const auto g = [](double v) {
        if (std::isnan(v))
            return std::string();
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.6g", v);
        return std::string(buf);
    };
    for (const auto& r : t.rows) {
        for (const std::string& cell :
             {r.label, std::to_string(r.trials), g(r.steps.mean), g(r.wallSeconds.mean), g(r.knn.mean), g(r.knn.sd),
              g(r.linear.mean), g(r.linear.sd), g(r.loss.mean), g(r.loss.sd), g(r.rankMe.mean), g(r.rankMe.sd),
              g(r.sigreg.mean), g(r.sigreg.sd), r.verdict, g(r.knnDiff), g(r.welch.t), g(r.welch.p),
              std::string(r.baseline ? "yes" : ""), r.stoppedAt > 0 ? std::to_string(r.stoppedAt) : std::string()})
            text += cell + "\t";
        text.back() = '\n';
    }
    writeTextAtomically(path, text);
}

std::string formatSweepTable(const SweepTable& t)
{
    size_t width = 7;
    for (const auto& r : t.rows)
        width = std::max(width, r.label.size() + (r.baseline ? 11 : 0));
    char line[512];
    std::string out;
    std::snprintf(line, sizeof line, "%-*s %6s %7s %14s %14s %14s %12s %14s  %-18s %s\n", static_cast<int>(width), "setting",
                  "steps", "wall", "k-NN %", "linear %", "JEPA loss", "RankMe", "SIGReg stat", "vs baseline (p)", "verdict");
    out += line;
    for (const auto& r : t.rows) {
        const std::string name = r.label + (r.baseline ? " (baseline)" : "");
        std::string diff = "-";
        if (!std::isnan(r.knnDiff))
            diff = (r.knnDiff >= 0 ? "+" : "") + fixed(r.knnDiff, 1) + " (p " + fixed(r.welch.p, 2) + ")";
        const std::string steps = r.stoppedAt > 0 ? "@" + std::to_string(r.stoppedAt) : fixed(r.steps.mean, 0);
        std::snprintf(line, sizeof line, "%-*s %6s %6.0fs %14s %14s %14s %12s %14s  %-18s %s\n", static_cast<int>(width),
                      name.c_str(), steps.c_str(), std::isnan(r.wallSeconds.mean) ? 0.0 : r.wallSeconds.mean,
                      plusMinus(r.knn, 1, 100).c_str(), plusMinus(r.linear, 1, 100).c_str(), plusMinus(r.loss, 4).c_str(),
                      plusMinus(r.rankMe, 2).c_str(), plusMinus(r.sigreg, 3).c_str(), diff.c_str(), r.verdict.c_str());
        out += line;
    }
    if (t.spearmanTrials >= 3)
        out += std::string("Spearman of the ") + criterionName(t.criterion) + " against the k-NN over " +
               std::to_string(t.spearmanTrials) + " full-budget trials: " + fixed(t.criterionSpearman, 2) + " (" +
               (higherIsBetter(t.criterion) ? "+1" : "-1") + " would rank the settings as the k-NN does)\n";
    if (!t.chosen.empty())
        out += t.chosen + "\n";
    return out;
}

} // namespace ijepa
