#pragma once

#include "core/runs/run_folder.h"

#include <QString>
#include <QVector>

#include <functional>
#include <vector>

namespace ijepa::widgets {

// Runs that differ only in their seed (a sweep's trials of one setting, repeats by hand) taken
// together: the Runs tab draws their mean with a band and tabulates mean +- sd.

struct RunGroup {
    QString name;                          // "lr=0.002 (3 seeds)"
    std::vector<const RunRecord*> members; // in the order given
};
// Groups `runs` by their config with meta.seed left out and their data, in order of first
// appearance, each seed once in a group; a run without a readable config is a group of its own.
// With `bySeed` false every run is a group of its own.
std::vector<RunGroup> groupRuns(const std::vector<const RunRecord*>& runs, bool bySeed);

// The members' mean at every x any of them has, and mean -+ sd where two or more have it (lo = hi
// = mean elsewhere). `x` and `y` read a point; non-finite y is left out.
struct GroupCurve {
    QVector<double> x, mean, lo, hi;
};
GroupCurve groupCurve(const RunGroup& group, const std::function<double(const RunPoint&)>& x,
                      const std::function<double(const RunPoint&)>& y);

// "0.6742 ± 0.0123" of the members' values (non-finite left out; one value, or values all equal,
// without the ±).
QString meanPlusMinus(const std::vector<double>& values, int decimals);

} // namespace ijepa::widgets
