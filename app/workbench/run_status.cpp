#include "app/workbench/run_status.h"

#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QStatusBar>
#include <QStringList>

#include <algorithm>
#include <cmath>

namespace ijepa::workbench {
namespace {

QString duration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return QStringLiteral("–");
    const qint64 s = static_cast<qint64>(seconds);
    return s >= 3600 ? QStringLiteral("%1h%2m").arg(s / 3600).arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
                     : QStringLiteral("%1m%2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

RunStatus::RunStatus(QStatusBar* bar, const QString& device)
    : QObject(bar)
    , m_state(new QLabel(tr("Ready"), bar))
    , m_step(new QLabel(bar))
    , m_loss(new QLabel(bar))
    , m_speed(new QLabel(bar))
    , m_eta(new QLabel(bar))
    , m_device(new QLabel(device, bar))
    , m_memory(new QLabel(bar))
    , m_progress(new QProgressBar(bar))
{
    m_progress->setMaximumWidth(180);
    for (QWidget* w : std::initializer_list<QWidget*>{m_state, m_progress, m_step, m_loss, m_speed, m_eta, m_device, m_memory})
        bar->addWidget(w);
}

void RunStatus::setState(const QString& state)
{
    m_state->setText(state);
}

void RunStatus::started(const TrainStart& start)
{
    m_progress->setRange(0, static_cast<int>(start.totalIterations));
    m_progress->setValue(static_cast<int>(start.firstIteration));
    // "cpu, fp32" or "cpu, bf16"; the reason in the tool tip.
    m_device->setText(QString::fromStdString(start.device + (start.bf16 ? ", bf16" : ", fp32")));
    m_device->setToolTip(QString::fromStdString(start.precision));
}

void RunStatus::step(const StepReport& last, double residentMb)
{
    m_progress->setValue(static_cast<int>(last.iteration));
    m_step->setText(tr("step %1/%2, epoch %3").arg(last.iteration).arg(last.totalIterations).arg(last.epoch));
    m_loss->setText(tr("loss %1").arg(last.loss, 0, 'f', 4));
    m_speed->setText(tr("%1 img/s").arg(last.imagesPerSecond, 0, 'f', 1));
    m_eta->setText(tr("ETA %1").arg(duration(last.etaSeconds)));
    m_memory->setText(std::isfinite(last.gpuMemoryMb) ? tr("%1 MiB, GPU %2 MiB (peak %3)")
                                                            .arg(residentMb, 0, 'f', 0)
                                                            .arg(last.gpuMemoryMb, 0, 'f', 0)
                                                            .arg(last.gpuPeakMemoryMb, 0, 'f', 0)
                                                      : tr("%1 MiB").arg(residentMb, 0, 'f', 0));
}

void RunStatus::work(const QString& what, qint64 done, qint64 total)
{
    if (what != m_work || done == 0 || !m_workTimer.isValid()) {
        m_work = what;
        m_workTimer.start();
    }
    const double fraction = static_cast<double>(done) / static_cast<double>(std::max<qint64>(1, total));
    const double elapsed = static_cast<double>(m_workTimer.elapsed()) / 1000.0;
    m_state->setText(tr("Computing the %1…").arg(what));
    m_progress->setRange(0, 1000);
    m_progress->setValue(static_cast<int>(1000 * fraction));
    m_step->setText(tr("%1 of %2 images").arg(QLocale().toString(done), QLocale().toString(total)));
    m_eta->setText(tr("ETA %1").arg(done > 0 ? duration(elapsed * (1 - fraction) / fraction) : QStringLiteral("–")));
}

void RunStatus::ended(const TrainResult& result)
{
    QString state = QString::fromStdString(describeStatus(result.status));
    state[0] = state[0].toUpper();
    if (std::isfinite(result.finalKnn))
        state += tr(": final k-NN %1%").arg(100.0 * result.finalKnn, 0, 'f', 2);
    m_state->setText(state);
    m_state->setToolTip(QString::fromStdString(describeResult(result)));
    m_eta->clear();
    m_work.clear();
    if (result.status == TrainStatus::Finished || result.status == TrainStatus::MaxSteps) {
        m_progress->setRange(0, 1);
        m_progress->setValue(1);
    }
}

QString RunStatus::text() const
{
    QStringList parts;
    for (QLabel* l : {m_state, m_step, m_loss, m_speed, m_eta, m_device, m_memory})
        if (!l->text().isEmpty())
            parts << l->text();
    return parts.join(QStringLiteral(" | "));
}

} // namespace ijepa::workbench
