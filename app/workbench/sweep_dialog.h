#pragma once

#include "core/config.h"

#include <QDialog>
#include <QProcess>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace ijepa::workbench {

// A sweep from the window: the editor's config and the data in use, the keys to sweep (one
// key=v1,v2 a line), seeds, budget, halving; it runs `ijepa sweep` (the program beside this one)
// in its own process, shows its progress and ETA, stops it (each trial writes its checkpoint),
// continues it when started again on the same folder, and shows the results table. The folder's
// trials appear in the Runs tab with their seeds as one.
class SweepDialog : public QDialog {
    Q_OBJECT
public:
    SweepDialog(const Config& config, const QString& data, std::int64_t limit, const QString& folder, QWidget* parent = nullptr);
    ~SweepDialog() override;

    // For tests and scripts: the fields, then start / stop as the buttons do.
    void setKeys(const QString& lines);
    void setSeeds(int seeds);
    void setBudget(const QString& budget);
    void setExtraArguments(const QStringList& args); // e.g. the evaluation sizes
    bool start();  // false (and the message shown) when it cannot start
    void stop();
    bool running() const;
    QString folder() const;
    QString results() const; // the table once it has run
    QString status() const;
    static QString program(); // the ijepa program the sweep runs ($IJEPA_PROGRAM, beside this one, or on PATH)

Q_SIGNALS:
    void sweepStarted(const QString& folder);
    void sweepFinished(const QString& folder, int exitCode);

private:
    void readOutput();
    QStringList arguments() const;

    Config m_config;
    QString m_data;
    std::int64_t m_limit;
    QStringList m_extra;
    QPlainTextEdit* m_keys;
    QSpinBox* m_seeds;
    QLineEdit* m_budget;
    QCheckBox* m_halving;
    QComboBox* m_criterion;
    QLineEdit* m_folder;
    QProgressBar* m_progress;
    QLabel* m_status;
    QPlainTextEdit* m_output;
    QPushButton *m_start, *m_stop;
    QProcess m_process;
    QString m_results;
};

} // namespace ijepa::workbench
