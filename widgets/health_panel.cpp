#include "widgets/health_panel.h"

#include <QLabel>
#include <QVBoxLayout>

namespace ijepa::widgets {

HealthPanel::HealthPanel(QWidget* parent)
    : QWidget(parent)
    , m_label(new QLabel(tr("<b>Is it learning?</b> The verdict appears at the first diagnostic step."), this))
{
    m_label->setWordWrap(true);
    m_label->setTextFormat(Qt::RichText);
    m_label->setFrameShape(QFrame::StyledPanel);
    m_label->setMargin(6);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_label);
}

void HealthPanel::setVerdict(qint64 step, const QVector<Line>& lines)
{
    QString html = tr("<b>Is it learning?</b> (step %1)<br>").arg(step);
    QStringList plain;
    for (const Line& l : lines) {
        const bool neutral = l.state == QLatin1String("early") || l.state == QLatin1String("off") ||
                             l.state == QLatin1String("flat") || l.state == QLatin1String("unknown");
        const char* colour = l.warning ? "#d62728" : neutral ? "#ff9f0e" : "#2ca02c";
        html += QStringLiteral("<span style='color:%1'>&#9679;</span> %2").arg(QLatin1String(colour), l.text.toHtmlEscaped());
        if (l.warning && !l.hint.isEmpty())
            html += QStringLiteral("<br>&nbsp;&nbsp;&nbsp;<i style='color:gray'>%1</i>").arg(l.hint.toHtmlEscaped());
        html += QStringLiteral("<br>");
        plain << l.text + (l.hint.isEmpty() ? QString() : QStringLiteral(" (") + l.hint + QStringLiteral(")"));
    }
    m_label->setText(html);
    m_plain = plain.join(QLatin1Char('\n'));
}

QString HealthPanel::text() const
{
    return m_plain;
}

} // namespace ijepa::widgets
