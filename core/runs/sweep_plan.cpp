#include "core/runs/sweep_plan.h"

#include "core/errors.h"
#include "core/io/atomic_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <tuple>

namespace fs = std::filesystem;

namespace ijepa {
namespace {

// The schema's type of `key` ("int", "number", ...); ConfigError for a key it does not have.
std::string keyType(const std::string& key)
{
    for (const auto& e : configEntries(Config{}))
        if (e.section + "." + e.key == key)
            return e.type;
    Config probe; // applyOverride names the key and the nearest valid one
    applyOverride(probe, key + "=0");
    throw ConfigError(key + ": not a config key");
}

// Splits at commas outside [...] (a pair value such as [0.85, 1.0] is one value).
std::vector<std::string> splitValues(const std::string& text)
{
    std::vector<std::string> out(1);
    int depth = 0;
    for (char c : text) {
        depth += c == '[' ? 1 : c == ']' ? -1 : 0;
        if (c == ',' && depth == 0)
            out.emplace_back();
        else
            out.back() += c;
    }
    return out;
}

double number(const std::string& text, const std::string& arg)
{
    try {
        size_t used = 0;
        const double v = std::stod(text, &used);
        if (used == text.size() && std::isfinite(v))
            return v;
    } catch (const std::exception&) {
    }
    throw ConfigError(arg + ": '" + text + "' is not a number (a range is lo:hi or lo:hi:log)");
}

std::string shortKey(const std::string& key) { return key.substr(key.rfind('.') + 1); }

std::string formatValue(double v, bool integer)
{
    if (integer)
        return std::to_string(std::llround(v));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

} // namespace

SweepAxis parseSweepAxis(const std::string& arg)
{
    const auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
        throw ConfigError(arg + ": a swept key is key=v1,v2,... or key=lo:hi[:log]");
    SweepAxis axis;
    axis.key = arg.substr(0, eq);
    const std::string type = keyType(axis.key);
    const std::string rest = arg.substr(eq + 1);
    const bool numeric = type == "int" || type == "number";
    if (numeric && rest.find(':') != std::string::npos && rest.find(',') == std::string::npos) {
        std::vector<std::string> parts;
        std::stringstream in(rest);
        for (std::string p; std::getline(in, p, ':');)
            parts.push_back(p);
        if (parts.size() < 2 || parts.size() > 3 || (parts.size() == 3 && parts[2] != "log"))
            throw ConfigError(arg + ": a range is lo:hi or lo:hi:log");
        axis.range = true;
        axis.lo = number(parts[0], arg);
        axis.hi = number(parts[1], arg);
        axis.log = parts.size() == 3;
        if (axis.hi < axis.lo)
            std::swap(axis.lo, axis.hi);
        if (axis.log && axis.lo <= 0)
            throw ConfigError(arg + ": a log range needs bounds above 0");
        return axis;
    }
    axis.values = splitValues(rest);
    for (const auto& v : axis.values) {
        if (v.empty())
            throw ConfigError(arg + ": an empty value (two commas, or one at an end)");
        Config probe; // each value must be one the key takes
        applyOverride(probe, axis.key + "=" + v);
    }
    return axis;
}

std::vector<SweepSetting> gridSettings(const std::vector<SweepAxis>& axes)
{
    std::vector<SweepSetting> out{{}};
    for (const auto& axis : axes) {
        if (axis.range)
            throw ConfigError(axis.key + ": a range (lo:hi) needs --random N; a grid lists values (v1,v2)");
        std::vector<SweepSetting> next;
        for (const auto& s : out)
            for (const auto& v : axis.values) {
                next.push_back(s);
                next.back().emplace_back(axis.key, v);
            }
        out = std::move(next);
    }
    return out;
}

std::vector<SweepSetting> randomSettings(const std::vector<SweepAxis>& axes, int count, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<SweepSetting> out;
    for (int i = 0; i < count; ++i) {
        SweepSetting s;
        for (const auto& axis : axes) {
            if (!axis.range) {
                s.emplace_back(axis.key, axis.values[static_cast<size_t>(rng() % axis.values.size())]);
                continue;
            }
            const double u = unit(rng);
            const double v = axis.log ? std::exp(std::log(axis.lo) + u * (std::log(axis.hi) - std::log(axis.lo)))
                                      : axis.lo + u * (axis.hi - axis.lo);
            s.emplace_back(axis.key, formatValue(v, keyType(axis.key) == "int"));
        }
        out.push_back(std::move(s));
    }
    return out;
}

std::string settingLabel(const SweepSetting& setting)
{
    std::map<std::string, int> names;
    for (const auto& [key, value] : setting)
        ++names[shortKey(key)];
    std::string out;
    for (const auto& [key, value] : setting)
        out += (out.empty() ? "" : " ") + (names[shortKey(key)] > 1 ? key : shortKey(key)) + "=" + value;
    return out.empty() ? "base" : out;
}

std::vector<std::string> settingOverrides(const SweepSetting& setting)
{
    std::vector<std::string> out;
    for (const auto& [key, value] : setting)
        out.push_back(key + "=" + value);
    return out;
}

std::vector<SweepTrial> SweepPlan::trials() const
{
    std::vector<SweepTrial> out;
    for (size_t s = 0; s < settings.size(); ++s) {
        std::string slug;
        for (char c : settingLabel(settings[s]))
            slug += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '=' || c == '-' ? c : '_';
        char index[16];
        std::snprintf(index, sizeof index, "s%02zu-", s + 1);
        for (const auto seed : seeds)
            out.push_back({static_cast<int>(s), seed, index + slug.substr(0, 60) + "-seed" + std::to_string(seed)});
    }
    return out;
}

std::vector<std::int64_t> SweepPlan::rungs() const
{
    std::vector<std::int64_t> out{steps};
    if (!halving)
        return out;
    // One rung per halving: n settings need ceil(log_eta n) rungs before one is left.
    for (size_t n = settings.size(); n > 1 && out.front() / eta >= 1; n = (n + eta - 1) / eta)
        out.insert(out.begin(), out.front() / eta);
    return out;
}

std::vector<std::string> trialTrainArgs(const SweepPlan& plan, const SweepTrial& trial, const std::string& sweepDir,
                                        std::int64_t steps, int threads)
{
    std::vector<std::string> a{"train", "--resume-if-any", "--out", (fs::path(sweepDir) / trial.folder).string(), "--data", plan.data};
    if (!plan.config.empty())
        a.insert(a.end(), {"-c", plan.config});
    if (plan.limit > 0)
        a.insert(a.end(), {"--limit", std::to_string(plan.limit)});
    const std::int64_t n = steps > 0 ? steps : plan.steps;
    if (n > 0)
        a.insert(a.end(), {"--max-steps", std::to_string(n)});
    if (plan.diagnosticsEvery > 0)
        a.insert(a.end(), {"--diagnostics-every", std::to_string(plan.diagnosticsEvery), "--checkpoint-every",
                           std::to_string(plan.diagnosticsEvery)});
    a.insert(a.end(), {"--final-knn", "0", "--context-probe", "0", "-q", "--threads", std::to_string(threads), "--name",
                       settingLabel(plan.settings[static_cast<size_t>(trial.setting)]) + " seed" + std::to_string(trial.seed)});
    a.insert(a.end(), plan.fixed.begin(), plan.fixed.end());
    const auto own = settingOverrides(plan.settings[static_cast<size_t>(trial.setting)]);
    a.insert(a.end(), own.begin(), own.end());
    a.push_back("meta.seed=" + std::to_string(trial.seed));
    return a;
}

void writeSweepPlan(const std::string& sweepDir, const SweepPlan& p)
{
    nlohmann::json settings = nlohmann::json::array();
    for (const auto& s : p.settings) {
        nlohmann::json one = nlohmann::json::array();
        for (const auto& [k, v] : s)
            one.push_back({k, v});
        settings.push_back(one);
    }
    const nlohmann::json j{{"version", SweepPlan::kVersion}, {"config", p.config}, {"fixed", p.fixed},
                           {"data", p.data}, {"limit", p.limit}, {"steps", p.steps}, {"minutes", p.minutes},
                           {"seeds", p.seeds}, {"settings", settings}, {"baseline", p.baseline},
                           {"halving", p.halving}, {"criterion", p.criterion}, {"eta", p.eta},
                           {"diagnostics_every", p.diagnosticsEvery}};
    const std::string path = (fs::path(sweepDir) / "sweep.json").string();
    const std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    writeTextAtomically(path, text);
}

SweepPlan readSweepPlan(const std::string& sweepDir)
{
    const std::string path = (fs::path(sweepDir) / "sweep.json").string();
    std::ifstream in(path);
    if (!in)
        throw ConfigError(path + ": no sweep here (" + whyNotAFile(path) + ")");
    try {
        const auto j = nlohmann::json::parse(in);
        if (j.at("version").get<int>() != SweepPlan::kVersion)
            throw ConfigError(path + ": version " + j.at("version").dump() + " (this program reads version 1)");
        SweepPlan p;
        p.config = j.at("config").get<std::string>();
        p.fixed = j.at("fixed").get<std::vector<std::string>>();
        p.data = j.at("data").get<std::string>();
        p.limit = j.at("limit").get<std::int64_t>();
        p.steps = j.at("steps").get<std::int64_t>();
        p.minutes = j.at("minutes").get<double>();
        p.seeds = j.at("seeds").get<std::vector<std::int64_t>>();
        for (const auto& s : j.at("settings")) {
            SweepSetting one;
            for (const auto& kv : s)
                one.emplace_back(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
            p.settings.push_back(std::move(one));
        }
        p.baseline = j.at("baseline").get<int>();
        p.halving = j.at("halving").get<bool>();
        p.criterion = j.at("criterion").get<std::string>();
        p.eta = j.at("eta").get<int>();
        p.diagnosticsEvery = j.at("diagnostics_every").get<std::int64_t>();
        if (p.settings.empty() || p.seeds.empty() || p.eta < 2 || p.baseline >= static_cast<int>(p.settings.size()))
            throw ConfigError(path + ": no settings, no seeds, eta below 2 or a baseline out of range");
        return p;
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(path + ": not a sweep plan (" + e.what() + ")");
    }
}

std::string planDifference(const SweepPlan& a, const SweepPlan& b)
{
    const auto same = [](const SweepPlan& p) {
        return std::make_tuple(p.config, p.fixed, p.data, p.limit, p.steps, p.minutes, p.seeds, p.settings, p.halving,
                               p.criterion, p.eta);
    };
    if (same(a) == same(b))
        return "";
    std::string what;
    const auto note = [&](bool differs, const char* name) {
        if (differs)
            what += (what.empty() ? "" : ", ") + std::string(name);
    };
    note(a.config != b.config || a.fixed != b.fixed, "the config");
    note(a.data != b.data || a.limit != b.limit, "the data");
    note(a.steps != b.steps || a.minutes != b.minutes, "the budget");
    note(a.seeds != b.seeds, "the seeds");
    note(a.settings != b.settings, "the settings");
    note(a.halving != b.halving || a.criterion != b.criterion || a.eta != b.eta, "the halving");
    return what;
}

std::string shellQuote(const std::vector<std::string>& args)
{
    std::string out;
    for (const auto& a : args) {
        const bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_./=:,+@%").find(c) != std::string_view::npos;
        });
        std::string q = plain ? a : "'";
        if (!plain) {
            for (char c : a)
                q += c == '\'' ? std::string("'\\''") : std::string(1, c);
            q += "'";
        }
        out += (out.empty() ? "" : " ") + q;
    }
    return out;
}

} // namespace ijepa
