#include "core/runs/sweep_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace ijepa {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> finite(const std::vector<double>& v)
{
    std::vector<double> out;
    std::copy_if(v.begin(), v.end(), std::back_inserter(out), [](double x) { return !std::isnan(x); });
    return out;
}

// The continued fraction of the incomplete beta function (modified Lentz), for x < (a + 1) / (a + b + 2).
double betaContinuedFraction(double a, double b, double x)
{
    constexpr double tiny = 1e-300, eps = 1e-15;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    d = 1.0 / (std::abs(d) < tiny ? tiny : d);
    double h = d;
    for (int m = 1; m <= 300; ++m) {
        for (int half = 0; half < 2; ++half) {
            const double num = half == 0 ? m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m))
                                         : -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
            d = 1.0 + num * d;
            d = 1.0 / (std::abs(d) < tiny ? tiny : d);
            c = 1.0 + num / c;
            c = std::abs(c) < tiny ? tiny : c;
            h *= d * c;
            if (half == 1 && std::abs(d * c - 1.0) < eps)
                return h;
        }
    }
    return h;
}

// The regularised incomplete beta function I_x(a, b).
double incompleteBeta(double a, double b, double x)
{
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
    if (x < (a + 1.0) / (a + b + 2.0))
        return front * betaContinuedFraction(a, b, x) / a;
    return 1.0 - front * betaContinuedFraction(b, a, 1.0 - x) / b;
}

std::vector<double> ranks(const std::vector<double>& v)
{
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return v[i] < v[j]; });
    std::vector<double> r(v.size());
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]])
            ++j;
        for (size_t k = i; k <= j; ++k) // ties share the mean of their ranks (1-based)
            r[order[k]] = (static_cast<double>(i + j) / 2.0) + 1.0;
        i = j + 1;
    }
    return r;
}

} // namespace

MeanSd meanSd(const std::vector<double>& values)
{
    const auto v = finite(values);
    MeanSd r;
    r.n = static_cast<int>(v.size());
    if (v.empty())
        return {kNaN, kNaN, 0};
    r.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    double squares = 0;
    for (double x : v)
        squares += (x - r.mean) * (x - r.mean);
    r.sd = v.size() > 1 ? std::sqrt(squares / static_cast<double>(v.size() - 1)) : 0.0;
    return r;
}

double studentTwoSidedP(double t, double df)
{
    if (std::isnan(t) || !(df > 0))
        return kNaN;
    if (std::isinf(t))
        return 0.0;
    return incompleteBeta(df / 2.0, 0.5, df / (df + t * t));
}

WelchResult welchTest(const std::vector<double>& a, const std::vector<double>& b)
{
    const MeanSd x = meanSd(a), y = meanSd(b);
    if (x.n < 2 || y.n < 2)
        return {kNaN, kNaN, kNaN};
    const double va = x.sd * x.sd / x.n, vb = y.sd * y.sd / y.n;
    if (va + vb <= 0)
        return {kNaN, kNaN, kNaN};
    WelchResult r;
    r.t = (x.mean - y.mean) / std::sqrt(va + vb);
    r.df = (va + vb) * (va + vb) / (va * va / (x.n - 1) + vb * vb / (y.n - 1));
    r.p = studentTwoSidedP(r.t, r.df);
    return r;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y)
{
    std::vector<double> a, b;
    for (size_t i = 0; i < std::min(x.size(), y.size()); ++i)
        if (!std::isnan(x[i]) && !std::isnan(y[i])) {
            a.push_back(x[i]);
            b.push_back(y[i]);
        }
    if (a.size() < 3)
        return kNaN;
    const auto ra = ranks(a), rb = ranks(b);
    const MeanSd ma = meanSd(ra), mb = meanSd(rb);
    if (ma.sd == 0 || mb.sd == 0)
        return kNaN;
    double cov = 0;
    for (size_t i = 0; i < ra.size(); ++i)
        cov += (ra[i] - ma.mean) * (rb[i] - mb.mean);
    return cov / static_cast<double>(ra.size() - 1) / (ma.sd * mb.sd);
}

} // namespace ijepa
