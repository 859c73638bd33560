#include "widgets/run_groups.h"

#include "core/runs/sweep_stats.h"

#include <QObject>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <map>

namespace ijepa::widgets {
namespace {

std::string groupKey(const RunRecord& r)
{
    if (!r.config)
        return "folder:" + r.folder;
    Config c = *r.config;
    c.meta.seed = 0;
    c.logging.folder.clear(); // where it was written is no setting
    return dumpConfig(c) + "\ndata:" + r.data;
}

// "lr=0.002 seed1" -> "lr=0.002": a sweep's trial names end in their seed.
QString withoutSeed(const std::string& name)
{
    static const QRegularExpression seed(QStringLiteral("[ _-]*seed[0-9]+$"));
    return QString::fromStdString(name).remove(seed);
}

} // namespace

std::vector<RunGroup> groupRuns(const std::vector<const RunRecord*>& runs, bool bySeed)
{
    // Runs with one key and different seeds share a group; the same seed twice (a repeat, or a
    // longer run of the same setting) starts another.
    std::vector<RunGroup> groups;
    std::multimap<std::string, size_t> index;
    for (const RunRecord* r : runs) {
        const std::string key = bySeed ? groupKey(*r) : "folder:" + r->folder;
        const auto seedOf = [](const RunRecord* x) { return x->config ? x->config->meta.seed : -1; };
        size_t into = groups.size();
        for (auto [it, end] = index.equal_range(key); it != end && into == groups.size(); ++it)
            if (std::none_of(groups[it->second].members.begin(), groups[it->second].members.end(),
                             [&](const RunRecord* m) { return seedOf(m) == seedOf(r); }))
                into = it->second;
        if (into == groups.size()) {
            index.emplace(key, into);
            groups.push_back({});
        }
        groups[into].members.push_back(r);
    }
    for (auto& g : groups) {
        if (g.members.size() == 1) {
            g.name = QString::fromStdString(g.members.front()->name);
            continue;
        }
        QString common = withoutSeed(g.members.front()->name);
        for (const RunRecord* r : g.members)
            if (withoutSeed(r->name) != common)
                common = QString::fromStdString(g.members.front()->name);
        g.name = QObject::tr("%1 (%2 seeds)").arg(common).arg(g.members.size());
    }
    return groups;
}

GroupCurve groupCurve(const RunGroup& group, const std::function<double(const RunPoint&)>& x,
                      const std::function<double(const RunPoint&)>& y)
{
    std::map<double, std::vector<double>> at;
    for (const RunRecord* r : group.members)
        for (const RunPoint& p : r->points) {
            const double v = y(p);
            if (std::isfinite(v))
                at[x(p)].push_back(v);
        }
    GroupCurve c;
    for (const auto& [key, values] : at) {
        const MeanSd m = meanSd(values);
        c.x << key;
        c.mean << m.mean;
        c.lo << m.mean - m.sd;
        c.hi << m.mean + m.sd;
    }
    return c;
}

QString meanPlusMinus(const std::vector<double>& values, int decimals)
{
    const MeanSd m = meanSd(values);
    if (m.n == 0)
        return {};
    const QString mean = QString::number(m.mean, 'f', decimals);
    // Seeds that agree exactly (the steps of a finished sweep) need no "± 0".
    return m.n > 1 && m.sd > 0 ? QStringLiteral("%1 ± %2").arg(mean, QString::number(m.sd, 'f', decimals)) : mean;
}

} // namespace ijepa::widgets
