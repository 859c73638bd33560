#pragma once

#include "core/train/observer.h"

#include <QElapsedTimer>
#include <QObject>
#include <QString>

class QLabel;
class QProgressBar;
class QStatusBar;

namespace ijepa::workbench {

// The status bar's view of a run: state, progress, step and epoch, loss, img/s, ETA, device and
// memory.
class RunStatus : public QObject {
    Q_OBJECT
public:
    RunStatus(QStatusBar* bar, const QString& device);

    void setState(const QString& state);
    void started(const TrainStart& start);
    void step(const StepReport& last, double residentMb);
    // Long work after the steps (the end-of-run k-NN): its own progress and ETA.
    void work(const QString& what, qint64 done, qint64 total);
    // The run ended: how, the final k-NN when it ran; no ETA any more.
    void ended(const TrainResult& result);
    QString text() const; // every field, " | "-separated (tests read it)

private:
    QLabel *m_state, *m_step, *m_loss, *m_speed, *m_eta, *m_device, *m_memory;
    QProgressBar* m_progress;
    QString m_work;
    QElapsedTimer m_workTimer;
};

} // namespace ijepa::workbench
