#include "core/train/steering.h"

#include "core/io/atomic_file.h"

#include "core/errors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

namespace ijepa {
namespace {

constexpr const char* kDiagnosticsKey = "diagnostics.every";

std::string keyOf(const std::string& assignment) { return assignment.substr(0, assignment.find('=')); }

} // namespace

const std::vector<std::string>& steerableKeys()
{
    static const std::vector<std::string> keys{"optimization.lr",           "optimization.start_lr",
                                               "optimization.final_lr",     "optimization.weight_decay",
                                               "optimization.final_weight_decay", "optimization.ema",
                                               "optimization.epochs",       "loss.sigreg_weight",
                                               kDiagnosticsKey};
    return keys;
}

void checkSteerable(const std::vector<std::string>& assignments)
{
    Config probe;
    for (const auto& a : assignments) {
        const auto key = keyOf(a);
        if (a.find('=') == std::string::npos)
            throw ConfigError("'" + a + "': expected section.key=value");
        const auto& keys = steerableKeys();
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
            std::string can;
            for (const auto& k : keys)
                can += (can.empty() ? "" : ", ") + k;
            throw ConfigError("key '" + key + "' cannot change in a running run (these can: " + can + ")");
        }
        if (key == kDiagnosticsKey) {
            try {
                if (std::stoll(a.substr(a.find('=') + 1)) < 0)
                    throw ConfigError("key 'diagnostics.every': must be 0 or more");
            } catch (const std::logic_error&) {
                throw ConfigError("key 'diagnostics.every': expected a whole number, got '" + a.substr(a.find('=') + 1) + "'");
            }
        } else {
            applyOverride(probe, a); // type errors name the key
        }
    }
    validateConfig(probe); // values out of range name the key
}

void applyChange(Config& config, const SettingsChange& change)
{
    for (const auto& a : change.assignments)
        if (keyOf(a) != kDiagnosticsKey)
            applyOverride(config, a);
    validateConfig(config);
}

std::int64_t diagnosticsEveryOf(const SettingsChange& change)
{
    std::int64_t every = -1;
    for (const auto& a : change.assignments)
        if (keyOf(a) == kDiagnosticsKey)
            every = std::stoll(a.substr(a.find('=') + 1));
    return every;
}

std::string describeChange(const SettingsChange& change)
{
    std::string out;
    for (const auto& a : change.assignments) {
        if (!out.empty())
            out += "; ";
        out += a;
    }
    return out;
}

std::string configHistoryPath(const std::string& runDir) { return runDir + "/config_history.jsonl"; }

std::vector<SettingsChange> readConfigHistory(const std::string& path)
{
    std::vector<SettingsChange> out;
    std::ifstream in(path);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (line.empty())
            continue;
        try {
            const auto j = nlohmann::json::parse(line);
            SettingsChange c{j.at("step").get<std::int64_t>(), j.at("set").get<std::vector<std::string>>()};
            checkSteerable(c.assignments);
            out.push_back(std::move(c));
        } catch (const std::exception& e) {
            throw ConfigError(path + ":" + std::to_string(n) + ": not a settings change (" + e.what() + ")");
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
    return out;
}

void appendConfigHistory(const std::string& path, const SettingsChange& change)
{
    AppendFile(path, false).append(nlohmann::json{{"step", change.step}, {"set", change.assignments}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

void SteeringQueue::request(const std::vector<std::string>& assignments)
{
    checkSteerable(assignments);
    const std::lock_guard lock(m_mutex);
    m_pending.insert(m_pending.end(), assignments.begin(), assignments.end());
}

std::vector<std::string> SteeringQueue::take()
{
    const std::lock_guard lock(m_mutex);
    return std::exchange(m_pending, {});
}

void applySteering(RunRecord& run)
{
    if (!run.config)
        return;
    try {
        Config steered = *run.config;
        std::vector<std::string> keys;
        for (const auto& change : readConfigHistory(configHistoryPath(run.folder))) {
            applyChange(steered, change);
            for (const auto& a : change.assignments) {
                const std::string key = a.substr(0, a.find('='));
                if (std::find(keys.begin(), keys.end(), key) == keys.end())
                    keys.push_back(key);
            }
        }
        run.config = steered;
        run.steered = std::move(keys);
    } catch (const Error& e) {
        run.problems.push_back(e.what());
    }
}

} // namespace ijepa
