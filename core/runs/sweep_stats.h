#pragma once

#include <vector>

namespace ijepa {

// The statistics a sweep's table reports. NaN entries are left out everywhere.

struct MeanSd {
    double mean = 0, sd = 0; // sd: the sample standard deviation (n - 1); 0 for one value
    int n = 0;               // values that were not NaN; mean and sd are NaN for none
};
MeanSd meanSd(const std::vector<double>& values);

// Welch's unequal-variance t test of mean(a) - mean(b): t, the Welch-Satterthwaite degrees of
// freedom and the two-sided p. All NaN when either side has fewer than two values or both have no
// spread.
struct WelchResult {
    double t = 0, df = 0, p = 0;
};
WelchResult welchTest(const std::vector<double>& a, const std::vector<double>& b);

// Two-sided p of Student's t with `df` degrees of freedom: P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2).
double studentTwoSidedP(double t, double df);

// Spearman's rank correlation (Pearson's on ranks, ties given their mean rank) of the pairs where
// neither value is NaN; NaN for fewer than three such pairs or a constant side.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

} // namespace ijepa
