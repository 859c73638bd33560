#pragma once

#include <QStringList>
#include <QWidget>

class QLabel;

namespace ijepa::widgets {

// The health verdict in plain words: one line per topic with a coloured mark (green: fine, amber:
// no trend yet or off, red: a warning) and, for warnings, the hint below it.
class HealthPanel : public QWidget {
    Q_OBJECT
public:
    struct Line {
        QString state, text, hint;
        bool warning = false;
    };
    explicit HealthPanel(QWidget* parent = nullptr);
    void setVerdict(qint64 step, const QVector<Line>& lines);
    QString text() const; // the verdict as shown, plain
    QSize sizeHint() const override { return {400, 110}; }

private:
    QLabel* m_label;
    QString m_plain;
};

} // namespace ijepa::widgets
