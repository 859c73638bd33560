#pragma once

#include "core/train/observer.h"

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
    QString text() const; // every field, " | "-separated (tests read it)

private:
    QLabel *m_state, *m_step, *m_loss, *m_speed, *m_eta, *m_device, *m_memory;
    QProgressBar* m_progress;
};

} // namespace ijepa::workbench
