#pragma once

#include "core/config.h"

#include <QDialog>
#include <QStringList>

#include <cstdint>
#include <functional>
#include <vector>

class QLabel;
class QLineEdit;
class QPushButton;

namespace ijepa::workbench {

// Steering a paused run: the settings that may change mid-run (learning rate and its ends, weight
// decay and its final value, EMA momentum range, total epochs, diagnostics cadence), filled with
// the run's current values. Each edit is checked with the core's messages and previewed (the
// `preview` callback draws the schedules with it from the current step on); Apply hands the
// changed keys to `apply`, which returns the refusal message or empty.
class SteerDialog : public QDialog {
    Q_OBJECT
public:
    SteerDialog(const Config& current, std::int64_t diagnosticsEvery, std::int64_t atStep,
                std::function<void(const Config&)> preview, std::function<QString(const QStringList&)> apply,
                QWidget* parent = nullptr);
    // The changed keys as key=value (what Apply sends).
    QStringList changes() const;
    // For tests: set a field by key and apply.
    void setValue(const QString& key, const QString& value);
    bool applyChanges();
    bool canApply() const; // Apply is enabled: something changed and every value is one a run can take

private:
    void edited();

    Config m_current;
    std::int64_t m_every;
    std::vector<std::pair<QString, QLineEdit*>> m_fields;
    std::vector<QString> m_initial;
    QLabel* m_message;
    QPushButton* m_applyButton = nullptr;
    std::function<void(const Config&)> m_preview;
    std::function<QString(const QStringList&)> m_apply;
};

} // namespace ijepa::workbench
