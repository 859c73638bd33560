#include "app/workbench/export_dialog.h"

#include "core/eval/embeddings.h"
#include "core/io/encoder_export.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace ijepa::workbench {
namespace {

// A line edit with a Browse… button that fills it from `pick`.
QWidget* withBrowse(QLineEdit* edit, QWidget* parent, const std::function<QString()>& pick)
{
    auto* row = new QWidget(parent);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* browse = new QPushButton(QObject::tr("Browse…"), row);
    QObject::connect(browse, &QPushButton::clicked, row, [edit, pick] {
        const QString path = pick();
        if (!path.isEmpty())
            edit->setText(path);
    });
    layout->addWidget(edit, 1);
    layout->addWidget(browse);
    return row;
}

struct ExportJob {
    QString summary;
    QString error;
};

} // namespace

ExportDialog::ExportDialog(const QString& checkpoint, const QString& folder, QWidget* parent)
    : QDialog(parent),
      m_checkpoint(new QLineEdit(checkpoint, this)),
      m_format(new QComboBox(this)),
      m_encoder(new QComboBox(this)),
      m_dtype(new QComboBox(this)),
      m_predictor(new QCheckBox(tr("with the predictor"), this)),
      m_out(new QLineEdit(this)),
      m_status(new QLabel(this)),
      m_go(new QPushButton(tr("Export"), this))
{
    setWindowTitle(tr("Export encoder"));
    m_format->addItem(tr("safetensors (the reference's names)"), QStringLiteral("safetensors"));
    m_format->addItem(tr("timm (vit_*_gap layout)"), QStringLiteral("timm"));
    m_format->addItem(tr("Hugging Face folder (IJepaModel)"), QStringLiteral("hf"));
    m_encoder->addItem(tr("target encoder (the paper's)"), QStringLiteral("target"));
    m_encoder->addItem(tr("context encoder"), QStringLiteral("context"));
    m_dtype->addItems({QStringLiteral("f32"), QStringLiteral("bf16")});
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    const QString base = QFileInfo(checkpoint).absoluteDir().filePath(QStringLiteral("encoder"));
    m_out->setText(base + QStringLiteral(".safetensors"));
    auto* form = new QFormLayout;
    form->addRow(tr("Checkpoint"), withBrowse(m_checkpoint, this, [this, folder] {
                     return QFileDialog::getOpenFileName(this, tr("Checkpoint to export"), folder,
                                                         tr("Checkpoints (*.pth.tar *.pth *.pt *.safetensors);;All files (*)"));
                 }));
    form->addRow(tr("Format"), m_format);
    form->addRow(tr("Encoder"), m_encoder);
    form->addRow(tr("Weights"), m_dtype);
    form->addRow(QString(), m_predictor);
    form->addRow(tr("Save to"), withBrowse(m_out, this, [this] {
                     return m_format->currentData().toString() == QStringLiteral("hf")
                                ? QFileDialog::getExistingDirectory(this, tr("Folder for the Hugging Face model"))
                                : QFileDialog::getSaveFileName(this, tr("Export to"), m_out->text(), tr("safetensors (*.safetensors)"));
                 }));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->addButton(m_go, QDialogButtonBox::AcceptRole);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_go, &QPushButton::clicked, this, &ExportDialog::startExport);
    connect(m_format, &QComboBox::currentIndexChanged, this, &ExportDialog::formatChanged);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_status);
    layout->addWidget(buttons);
    resize(640, sizeHint().height());
}

void ExportDialog::formatChanged()
{
    const bool hf = m_format->currentData().toString() == QStringLiteral("hf");
    m_predictor->setEnabled(m_format->currentData().toString() == QStringLiteral("safetensors"));
    if (!m_predictor->isEnabled())
        m_predictor->setChecked(false);
    QString out = m_out->text();
    if (hf && out.endsWith(QStringLiteral(".safetensors")))
        m_out->setText(out.chopped(12) + QStringLiteral("-hf"));
    else if (!hf && !out.endsWith(QStringLiteral(".safetensors")))
        m_out->setText(out + QStringLiteral(".safetensors"));
}

void ExportDialog::startExport()
{
    ExportOptions o;
    o.format = parseExportFormat(m_format->currentData().toString().toStdString());
    o.context = m_encoder->currentData().toString() == QStringLiteral("context");
    o.bf16 = m_dtype->currentText() == QStringLiteral("bf16");
    o.withPredictor = m_predictor->isChecked();
    const std::string checkpoint = m_checkpoint->text().toStdString(), out = m_out->text().toStdString();
    m_go->setEnabled(false);
    m_status->setText(tr("Exporting…"));
    auto* watcher = new QFutureWatcher<ExportJob>(this);
    connect(watcher, &QFutureWatcher<ExportJob>::finished, this, [this, watcher] {
        const ExportJob job = watcher->result();
        watcher->deleteLater();
        m_go->setEnabled(true);
        m_status->setText(job.error.isEmpty() ? job.summary : job.error);
        if (job.error.isEmpty())
            Q_EMIT exported(job.summary);
        else
            Q_EMIT failed(job.error);
    });
    watcher->setFuture(QtConcurrent::run([o, checkpoint, out] {
        ExportJob job;
        try {
            const auto loaded = loadModel(checkpoint, nullptr);
            const auto files = exportEncoder(*loaded.model, loaded.config, o, out);
            job.summary = tr("Exported the %1 encoder to %2")
                              .arg(o.context ? tr("context") : tr("target"), QString::fromStdString(files.front()));
            if (files.size() > 1)
                job.summary += tr(" (and config.json, preprocessor_config.json)");
        } catch (const std::exception& e) {
            job.error = QString::fromUtf8(e.what());
        }
        return job;
    }));
}

} // namespace ijepa::workbench
