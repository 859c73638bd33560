#pragma once

#include <QDialog>
#include <QString>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace ijepa::workbench {

// Export encoder…: a checkpoint's encoder as safetensors, for timm, or as a Hugging Face folder
// (core/io/encoder_export.h, as `ijepa export`). The export runs on a worker thread; the dialog
// says where the files went, or why not, and stays open for another.
class ExportDialog : public QDialog {
    Q_OBJECT
public:
    ExportDialog(const QString& checkpoint, const QString& folder, QWidget* parent = nullptr);
    // Starts the export with the dialog's choices (what the Export button does).
    void startExport();

Q_SIGNALS:
    void exported(const QString& summary);
    void failed(const QString& message);

private:
    void formatChanged();

    QLineEdit* m_checkpoint;
    QComboBox* m_format;
    QComboBox* m_encoder;
    QComboBox* m_dtype;
    QCheckBox* m_predictor;
    QLineEdit* m_out;
    QLabel* m_status;
    QPushButton* m_go;
};

} // namespace ijepa::workbench
