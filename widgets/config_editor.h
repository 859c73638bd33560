#pragma once

#include "core/config.h"

#include <QMap>
#include <QString>
#include <QWidget>

class QLabel;
class QScrollArea;

namespace ijepa::widgets {

// Edits every key of the reference YAML schema, grouped by section, each with a tooltip. Every
// edit is validated at once with the core's own checks (parseConfig/validateConfig); an invalid
// value shows the core's message and marks the key's field, and the last valid config stays in
// force. Loads and saves YAML files in the reference schema.
class ConfigEditor : public QWidget {
    Q_OBJECT
public:
    explicit ConfigEditor(QWidget* parent = nullptr);

    void setConfig(const Config& config);
    const Config& config() const { return m_config; } // the last valid config
    bool isValid() const { return m_error.isEmpty(); }
    QString errorText() const { return m_error; }
    QString errorKey() const { return m_errorKey; }    // "section.key" of the field marked and shown: the one just edited
    QStringList markedKeys() const { return m_marked; } // that one and the key the message names

    // Sets one field's text as if typed ("section.key", YAML value) and validates.
    void setValue(const QString& key, const QString& value);
    QString value(const QString& key) const;

    bool loadYaml(const QString& path); // false (and the message shown) on error
    bool saveYaml(const QString& path);
    void setLocked(bool locked);        // read-only while training

Q_SIGNALS:
    void configChanged(const ijepa::Config& config); // after every edit that validates
    void validityChanged(bool valid);

private:
    void rebuildFromFields();
    void edited(const QString& key); // a field changed by hand (or setValue): remembered, then checked
    void showError(const QString& message);
    QWidget* addField(const ConfigEntry& entry);
    static void setFieldText(QWidget* field, const QString& text);

    Config m_config;
    QMap<QString, QWidget*> m_fields; // "section.key" -> editor
    QLabel* m_errorLabel;
    QString m_error, m_errorKey, m_editedKey;
    QStringList m_marked;
    QScrollArea* m_scroll = nullptr;
    bool m_updating = false;
};


} // namespace ijepa::widgets
