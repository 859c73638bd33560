#include "widgets/inspect_support.h"

#include "core/data/augment.h"

#include <torch/torch.h>

#include <QCoreApplication>
#include <QPointer>
#include <QThreadPool>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstring>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace ijepa::widgets {

QThreadPool* jobPool()
{
    // Owned by the application, as Qt's global pool is: it is destroyed, waiting for the jobs still
    // running, while the application is torn down, before the libraries' own statics are.
    static QPointer<QThreadPool> pool;
    if (!pool) {
        pool = new QThreadPool(QCoreApplication::instance());
        pool->setMaxThreadCount(std::max(2, QThread::idealThreadCount()));
    }
    return pool;
}

void lowerThreadPriority()
{
#ifdef __linux__
    // Linux keeps a nice value per thread; raising it needs no privilege.
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    errno = 0;
    const int now = getpriority(PRIO_PROCESS, tid);
    if (errno == 0 && now < 10)
        setpriority(PRIO_PROCESS, tid, 10);
#endif
}

QColor heatColour(double v, int alpha)
{
    v = std::clamp(std::isfinite(v) ? v : 0.0, 0.0, 1.0);
    const QColor stops[] = {{48, 18, 59}, {40, 120, 230}, {40, 210, 150}, {250, 220, 40}, {220, 40, 20}};
    const double x = v * 4;
    const int i = std::min(3, static_cast<int>(x));
    const double t = x - i;
    const auto mix = [&](int a, int b) { return static_cast<int>(a + (b - a) * t); };
    return {mix(stops[i].red(), stops[i + 1].red()), mix(stops[i].green(), stops[i + 1].green()),
            mix(stops[i].blue(), stops[i + 1].blue()), alpha};
}

QVector<QColor> heatOverlay(const QVector<double>& values, double lo, double hi, int alpha)
{
    QVector<QColor> out;
    out.reserve(values.size());
    for (double v : values)
        out.push_back(std::isfinite(v) ? heatColour((v - lo) / std::max(1e-12, hi - lo), alpha) : QColor(0, 0, 0, 0));
    return out;
}

torch::Tensor hwcFromImage(const QImage& image)
{
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    auto out = torch::empty({rgb.height(), rgb.width(), 3}, torch::kUInt8);
    for (int y = 0; y < rgb.height(); ++y)
        std::memcpy(out.data_ptr<std::uint8_t>() + static_cast<std::int64_t>(y) * rgb.width() * 3, rgb.constScanLine(y),
                    static_cast<size_t>(rgb.width()) * 3);
    return out;
}

torch::Tensor normalizedView(const QImage& view)
{
    const auto hwc = hwcFromImage(view);
    const auto x = hwc.permute({2, 0, 1}).to(torch::kFloat).div(255.0);
    const auto mean = torch::tensor({kImageNetMean[0], kImageNetMean[1], kImageNetMean[2]}, torch::kFloat).view({3, 1, 1});
    const auto std = torch::tensor({kImageNetStd[0], kImageNetStd[1], kImageNetStd[2]}, torch::kFloat).view({3, 1, 1});
    return (x - mean) / std;
}

LatestJobRunner::LatestJobRunner(QObject* parent)
    : QObject(parent)
{
    connect(&m_watcher, &QFutureWatcher<Done>::finished, this, [this] {
        m_running = false;
        const Done done = m_watcher.result();
        if (m_pending) {
            Job next = std::move(*m_pending);
            m_pending.reset();
            start(std::move(next)); // the newer request supersedes this result
            return;
        }
        if (done)
            done();
    });
}

LatestJobRunner::~LatestJobRunner()
{
    m_watcher.disconnect();
    m_watcher.waitForFinished(); // a job holds only copies, but let it end before the pool is torn down
}

void LatestJobRunner::run(Job job)
{
    if (m_running)
        m_pending = std::move(job);
    else
        start(std::move(job));
}

void LatestJobRunner::start(Job job)
{
    m_running = true;
    m_watcher.setFuture(runJob(std::move(job)));
}

} // namespace ijepa::widgets
