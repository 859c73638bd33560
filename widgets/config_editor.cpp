#include "widgets/config_editor.h"

#include "core/errors.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QVBoxLayout>

namespace ijepa::widgets {

ConfigEditor::ConfigEditor(QWidget* parent)
    : QWidget(parent)
    , m_errorLabel(new QLabel(this))
{
    auto* inner = new QWidget;
    auto* innerLayout = new QVBoxLayout(inner);
    QFormLayout* form = nullptr;
    QString section;
    for (const ConfigEntry& entry : configEntries(m_config)) {
        if (section != QString::fromStdString(entry.section)) {
            section = QString::fromStdString(entry.section);
            auto* group = new QGroupBox(section, inner);
            form = new QFormLayout(group);
            form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
            innerLayout->addWidget(group);
        }
        QWidget* field = addField(entry);
        auto* label = new QLabel(QString::fromStdString(entry.key), inner);
        label->setToolTip(field->toolTip());
        form->addRow(label, field);
    }
    innerLayout->addStretch(1);
    auto* scroll = new QScrollArea(this);
    scroll->setWidget(inner);
    scroll->setWidgetResizable(true);
    m_scroll = scroll;

    m_errorLabel->setWordWrap(true);
    m_errorLabel->setStyleSheet(QStringLiteral("color: #b00020"));
    auto* load = new QPushButton(tr("Load YAML…"), this);
    auto* save = new QPushButton(tr("Save YAML…"), this);
    connect(load, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Load config"), {}, tr("YAML (*.yaml *.yml)"));
        if (!path.isEmpty())
            loadYaml(path);
    });
    connect(save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save config"), {}, tr("YAML (*.yaml *.yml)"));
        if (!path.isEmpty())
            saveYaml(path);
    });
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(load);
    buttons->addWidget(save);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(buttons);
    layout->addWidget(scroll, 1);
    layout->addWidget(m_errorLabel);
    setConfig(m_config);
}

QWidget* ConfigEditor::addField(const ConfigEntry& entry)
{
    const QString key = QString::fromStdString(entry.section + "." + entry.key);
    QWidget* field = nullptr;
    if (entry.type == "bool") {
        auto* box = new QCheckBox;
        connect(box, &QCheckBox::toggled, this, [this, key] { edited(key); });
        field = box;
    } else if (key == "meta.model_name" || key == "mask.sampler" || key == "mask.position_mode" ||
               key == "mask.truncation") {
        auto* combo = new QComboBox;
        combo->setEditable(key == "meta.model_name");
        if (key == "meta.model_name")
            combo->addItems({"vit_tiny", "vit_small", "vit_base", "vit_large", "vit_huge", "vit_giant"});
        else if (key == "mask.sampler")
            combo->addItems({"multiblock", "block", "random", "rasterized"});
        else if (key == "mask.truncation")
            combo->addItems({"prefix", "random"});
        else
            combo->addItems({"faithful", "corrected"});
        connect(combo, &QComboBox::currentTextChanged, this, [this, key] { edited(key); });
        field = combo;
    } else {
        auto* edit = new QLineEdit;
        connect(edit, &QLineEdit::textEdited, this, [this, key] { edited(key); });
        field = edit;
    }
    field->setObjectName(key);
    field->setProperty("configType", QString::fromStdString(entry.type));
    field->setToolTip(QStringLiteral("<b>%1</b> (%2)<br>%3").arg(key, QString::fromStdString(entry.type), QString::fromStdString(entry.doc).toHtmlEscaped()));
    m_fields.insert(key, field);
    return field;
}

void ConfigEditor::edited(const QString& key)
{
    if (m_updating)
        return;
    m_editedKey = key;
    rebuildFromFields();
}

void ConfigEditor::setConfig(const Config& config)
{
    m_editedKey.clear(); // a whole config: no field was edited by hand
    m_updating = true;
    for (const ConfigEntry& entry : configEntries(config))
        setFieldText(m_fields.value(QString::fromStdString(entry.section + "." + entry.key)),
                     QString::fromStdString(entry.value));
    m_updating = false;
    rebuildFromFields();
}

void ConfigEditor::setFieldText(QWidget* field, const QString& text)
{
    if (auto* box = qobject_cast<QCheckBox*>(field))
        box->setChecked(text == "true");
    else if (auto* combo = qobject_cast<QComboBox*>(field))
        combo->setCurrentText(text);
    else if (auto* edit = qobject_cast<QLineEdit*>(field))
        edit->setText(text);
}

QString ConfigEditor::value(const QString& key) const
{
    QWidget* field = m_fields.value(key);
    if (auto* box = qobject_cast<QCheckBox*>(field))
        return box->isChecked() ? QStringLiteral("true") : QStringLiteral("false");
    if (auto* combo = qobject_cast<QComboBox*>(field))
        return combo->currentText();
    if (auto* edit = qobject_cast<QLineEdit*>(field))
        return edit->text();
    return {};
}

void ConfigEditor::setValue(const QString& key, const QString& text)
{
    m_updating = true;
    setFieldText(m_fields.value(key), text);
    m_updating = false;
    edited(key);
}

void ConfigEditor::rebuildFromFields()
{
    if (m_updating)
        return;
    Config candidate;
    try {
        for (auto it = m_fields.cbegin(); it != m_fields.cend(); ++it) {
            QString text = value(it.key());
            const QString type = it.value()->property("configType").toString();
            const auto quoted = [&] { return "'" + QString(text).replace("'", "''") + "'"; };
            if (type == "string" || (type == "optional string" && text != "~" && !text.isEmpty()))
                text = quoted();
            else if (text.trimmed().isEmpty())
                text = QStringLiteral("~"); // an empty field: null, which only optional keys take
            applyOverride(candidate, (it.key() + "=" + text).toStdString());
        }
        validateConfig(candidate);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return;
    }
    const bool wasValid = isValid();
    showError({});
    m_config = candidate;
    if (!wasValid)
        Q_EMIT validityChanged(true);
    Q_EMIT configChanged(m_config);
}

void ConfigEditor::showError(const QString& message)
{
    const bool wasValid = isValid();
    for (const QString& key : std::as_const(m_marked))
        if (QWidget* field = m_fields.value(key))
            field->setStyleSheet({});
    m_marked.clear();
    m_error = message;
    m_errorKey.clear();
    const auto match = QRegularExpression(QStringLiteral("key '([a-z_]+\\.[a-z_]+)'")).match(message);
    // The field just edited is the one marked and shown (a crop size that the patch no longer
    // divides marks data.crop_size); the key the message names is marked beside it.
    const QString named = match.hasMatch() ? match.captured(1) : QString();
    m_errorKey = !message.isEmpty() && m_fields.contains(m_editedKey) ? m_editedKey : named;
    if (!message.isEmpty() && !named.isEmpty() && named != m_errorKey)
        m_error = m_errorKey + ": " + message;
    for (const QString& key : {m_errorKey, named})
        if (QWidget* field = m_fields.value(key); field && !message.isEmpty()) {
            field->setStyleSheet(QStringLiteral("border: 2px solid #b00020"));
            m_marked << key;
        }
    if (QWidget* field = m_fields.value(m_errorKey))
        m_scroll->ensureWidgetVisible(field);
    m_errorLabel->setText(m_error);
    m_errorLabel->setVisible(!m_error.isEmpty());
    if (wasValid && !message.isEmpty())
        Q_EMIT validityChanged(false);
}

bool ConfigEditor::loadYaml(const QString& path)
{
    try {
        setConfig(loadConfig(path.toStdString()));
        return true;
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
}

bool ConfigEditor::saveYaml(const QString& path)
{
    try {
        saveConfig(m_config, path.toStdString());
        return true;
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
}

void ConfigEditor::setLocked(bool locked)
{
    for (QWidget* field : std::as_const(m_fields))
        field->setEnabled(!locked);
}

} // namespace ijepa::widgets
