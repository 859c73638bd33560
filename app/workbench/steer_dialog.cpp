#include "app/workbench/steer_dialog.h"

#include "core/errors.h"
#include "core/train/steering.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace ijepa::workbench {

SteerDialog::SteerDialog(const Config& current, std::int64_t diagnosticsEvery, std::int64_t atStep,
                         std::function<void(const Config&)> preview, std::function<QString(const QStringList&)> apply,
                         QWidget* parent)
    : QDialog(parent)
    , m_current(current)
    , m_every(diagnosticsEvery)
    , m_message(new QLabel(this))
    , m_preview(std::move(preview))
    , m_apply(std::move(apply))
{
    setWindowTitle(tr("Steer the run"));
    auto* form = new QFormLayout;
    const auto entries = configEntries(current);
    for (const auto& key : steerableKeys()) {
        QString value = QString::number(diagnosticsEvery);
        for (const auto& e : entries)
            if (e.section + "." + e.key == key)
                value = QString::fromStdString(e.value);
        auto* field = new QLineEdit(value, this);
        connect(field, &QLineEdit::textEdited, this, &SteerDialog::edited);
        form->addRow(QString::fromStdString(key), field);
        m_fields.emplace_back(QString::fromStdString(key), field);
        m_initial.push_back(value);
    }
    m_message->setWordWrap(true);
    m_message->setText(tr("From step %1 on. The change is written into the run (config_history.jsonl, the CSV's "
                          "settings column, TensorBoard text), so resuming or re-running it replays it.")
                           .arg(atStep + 1));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Apply | QDialogButtonBox::Cancel, this);
    m_applyButton = buttons->button(QDialogButtonBox::Apply);
    m_applyButton->setEnabled(false); // nothing changed yet
    connect(m_applyButton, &QPushButton::clicked, this, [this] {
        if (applyChanges())
            accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_message);
    layout->addWidget(buttons);
}

QStringList SteerDialog::changes() const
{
    QStringList out;
    for (size_t i = 0; i < m_fields.size(); ++i)
        if (m_fields[i].second->text().trimmed() != m_initial[i])
            out << m_fields[i].first + QLatin1Char('=') + m_fields[i].second->text().trimmed();
    return out;
}

void SteerDialog::setValue(const QString& key, const QString& value)
{
    for (auto& [k, field] : m_fields)
        if (k == key)
            field->setText(value);
    edited();
}

void SteerDialog::edited()
{
    std::vector<std::string> list;
    for (const auto& c : changes())
        list.push_back(c.toStdString());
    try {
        checkSteerable(list);
        Config preview = m_current;
        applyChange(preview, {0, list});
        m_message->setText(list.empty() ? tr("No change yet.") : tr("Previewed on the Schedules tab (dashed)."));
        m_message->setStyleSheet({});
        m_applyButton->setEnabled(!list.empty());
        m_preview(preview);
    } catch (const std::exception& e) { // Apply waits for a value it can take; the message says what is wrong
        m_message->setText(QString::fromUtf8(e.what()));
        m_message->setStyleSheet(QStringLiteral("color: #b00020"));
        m_applyButton->setEnabled(false);
    }
}

bool SteerDialog::canApply() const { return m_applyButton->isEnabled(); }

bool SteerDialog::applyChanges()
{
    const QStringList list = changes();
    if (list.isEmpty())
        return true;
    const QString refused = m_apply(list);
    m_message->setText(refused);
    return refused.isEmpty();
}

} // namespace ijepa::workbench
