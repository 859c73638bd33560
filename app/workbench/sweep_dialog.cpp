#include "app/workbench/sweep_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QStandardPaths>
#include <QVBoxLayout>

namespace ijepa::workbench {

SweepDialog::SweepDialog(const Config& config, const QString& data, std::int64_t limit, const QString& folder, QWidget* parent)
    : QDialog(parent)
    , m_config(config)
    , m_data(data)
    , m_limit(limit)
    , m_keys(new QPlainTextEdit(QStringLiteral("optimization.lr=0.001,0.002"), this))
    , m_seeds(new QSpinBox(this))
    , m_budget(new QLineEdit(QStringLiteral("200"), this))
    , m_halving(new QCheckBox(tr("Successive halving by"), this))
    , m_criterion(new QComboBox(this))
    , m_folder(new QLineEdit(folder, this))
    , m_progress(new QProgressBar(this))
    , m_status(new QLabel(this))
    , m_output(new QPlainTextEdit(this))
    , m_start(new QPushButton(tr("Start"), this))
    , m_stop(new QPushButton(tr("Stop"), this))
{
    setWindowTitle(tr("Sweep"));
    m_keys->setToolTip(tr("One swept key a line: section.key=v1,v2 (a grid); section.key=v sets it for every trial"));
    m_keys->setMaximumHeight(90);
    m_seeds->setRange(1, 20);
    m_seeds->setValue(2);
    m_budget->setToolTip(tr("Per trial: steps (200) or minutes of training (10m)"));
    m_criterion->addItems({QStringLiteral("rankme"), QStringLiteral("loss"), QStringLiteral("sigreg")});
    m_criterion->setToolTip(tr("The label-free signal halving ranks the settings by"));
    m_folder->setToolTip(tr("The sweep's folder: a run folder per trial, sweep.json, results.tsv. Start on a folder "
                            "with a stopped sweep continues it."));
    m_output->setReadOnly(true);
    m_output->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_output->setMinimumSize(760, 200);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_stop->setEnabled(false);
    auto* halving = new QHBoxLayout;
    halving->addWidget(m_halving);
    halving->addWidget(m_criterion, 1);
    auto* form = new QFormLayout;
    form->addRow(tr("Swept keys"), m_keys);
    form->addRow(tr("Seeds"), m_seeds);
    form->addRow(tr("Budget"), m_budget);
    form->addRow(QString(), halving);
    form->addRow(tr("Folder"), m_folder);
    form->addRow(tr("Data"), new QLabel(data + (limit > 0 ? tr(" (first %1 images)").arg(limit) : QString()), this));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_progress, 1);
    buttons->addWidget(m_start);
    buttons->addWidget(m_stop);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(m_status);
    layout->addWidget(m_output, 1);
    connect(m_start, &QPushButton::clicked, this, &SweepDialog::start);
    connect(m_stop, &QPushButton::clicked, this, &SweepDialog::stop);
    m_process.setProcessChannelMode(QProcess::SeparateChannels);
    connect(&m_process, &QProcess::readyReadStandardError, this, &SweepDialog::readOutput);
    connect(&m_process, &QProcess::readyReadStandardOutput, this, &SweepDialog::readOutput);
    connect(&m_process, &QProcess::finished, this, [this](int code, QProcess::ExitStatus) {
        readOutput();
        m_start->setEnabled(true);
        m_stop->setEnabled(false);
        m_status->setText(code == 0 ? tr("Done: results in %1").arg(QDir(this->folder()).filePath(QStringLiteral("results.tsv")))
                          : code == 130 ? tr("Stopped: each trial kept its checkpoint; Start continues the sweep")
                                        : tr("The sweep ended with exit code %1 (see the output)").arg(code));
        Q_EMIT sweepFinished(this->folder(), code);
    });
}

SweepDialog::~SweepDialog()
{
    if (running()) { // closing the window stops the sweep at a checkpoint, never mid-write
        m_process.terminate();
        m_process.waitForFinished(30000);
    }
}

QString SweepDialog::program()
{
    const QString env = qEnvironmentVariable("IJEPA_PROGRAM");
    if (!env.isEmpty())
        return env;
    const QDir here(QCoreApplication::applicationDirPath());
    for (const QString& candidate : {here.filePath(QStringLiteral("ijepa")), here.filePath(QStringLiteral("../ijepa"))})
        if (QFileInfo(candidate).isExecutable())
            return QFileInfo(candidate).canonicalFilePath();
    return QStandardPaths::findExecutable(QStringLiteral("ijepa"));
}

QStringList SweepDialog::arguments() const
{
    QStringList a{QStringLiteral("sweep"), QStringLiteral("-c"), QDir(folder()).filePath(QStringLiteral("config.yaml")),
                  QStringLiteral("--data"), m_data, QStringLiteral("--budget"), m_budget->text().trimmed(),
                  QStringLiteral("--seeds"), QString::number(m_seeds->value()), QStringLiteral("--out"), folder()};
    if (m_limit > 0)
        a << QStringLiteral("--limit") << QString::number(m_limit);
    if (m_halving->isChecked())
        a << QStringLiteral("--halving") << QStringLiteral("--criterion") << m_criterion->currentText();
    a << m_extra;
    for (const QString& line : m_keys->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        if (!line.trimmed().isEmpty())
            a << line.trimmed();
    return a;
}

bool SweepDialog::start()
{
    const QString ijepa = program();
    if (ijepa.isEmpty()) {
        m_status->setText(tr("The ijepa program was not found beside the workbench or on PATH (install the CLI package)"));
        return false;
    }
    if (running() || folder().isEmpty())
        return false;
    QDir().mkpath(folder());
    // The editor's settings as the sweep's base config (the same file on a continue: the same plan).
    try {
        saveConfig(m_config, QDir(folder()).filePath(QStringLiteral("config.yaml")).toStdString());
    } catch (const std::exception& e) {
        m_status->setText(QString::fromUtf8(e.what()));
        return false;
    }
    m_output->clear();
    m_results.clear();
    m_progress->setRange(0, 0); // busy until the first "N of M done"
    m_status->setText(tr("Running %1").arg(ijepa));
    m_start->setEnabled(false);
    m_stop->setEnabled(true);
    m_process.start(ijepa, arguments());
    Q_EMIT sweepStarted(folder());
    return true;
}

void SweepDialog::stop()
{
    if (running())
        m_process.terminate(); // SIGTERM: the sweep stops every trial after its step, with a checkpoint
}

void SweepDialog::readOutput()
{
    static const QRegularExpression done(QStringLiteral("sweep: (\\d+) of (\\d+) done(, about (\\d+) min left)?"));
    const QString err = QString::fromLocal8Bit(m_process.readAllStandardError());
    for (const QString& line : err.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        m_output->appendPlainText(line);
        const auto m = done.match(line);
        if (!m.hasMatch())
            continue;
        m_progress->setRange(0, m.captured(2).toInt());
        m_progress->setValue(m.captured(1).toInt());
        m_status->setText(m.captured(4).isEmpty() ? tr("%1 of %2 done").arg(m.captured(1), m.captured(2))
                                                  : tr("%1 of %2 done, ETA %3 min").arg(m.captured(1), m.captured(2), m.captured(4)));
    }
    const QString out = QString::fromLocal8Bit(m_process.readAllStandardOutput());
    if (!out.isEmpty()) {
        m_results += out;
        m_output->appendPlainText(out.trimmed());
    }
}

void SweepDialog::setKeys(const QString& lines) { m_keys->setPlainText(lines); }
void SweepDialog::setSeeds(int seeds) { m_seeds->setValue(seeds); }
void SweepDialog::setBudget(const QString& budget) { m_budget->setText(budget); }
void SweepDialog::setExtraArguments(const QStringList& args) { m_extra = args; }
bool SweepDialog::running() const { return m_process.state() != QProcess::NotRunning; }
QString SweepDialog::folder() const { return m_folder->text().trimmed(); }
QString SweepDialog::results() const { return m_results; }
QString SweepDialog::status() const { return m_status->text(); }

} // namespace ijepa::workbench
