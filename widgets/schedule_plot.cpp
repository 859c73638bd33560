#include "widgets/schedule_plot.h"

#include "core/train/schedules.h"

#include "widgets/qcustomplot_include.h"

#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>

namespace ijepa::widgets {
namespace {
const char* const kNames[3] = {"learning rate", "weight decay", "EMA momentum"};
const QColor kColors[3] = {QColor(31, 119, 180), QColor(214, 39, 40), QColor(44, 160, 44)};
} // namespace

SchedulePlot::SchedulePlot(QWidget* parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
    , m_label(new QLabel(this))
{
    // Three axis rects stacked, sharing the step axis.
    m_plot->plotLayout()->clear();
    auto* group = new QCPMarginGroup(m_plot);
    for (int c = 0; c < 3; ++c) {
        auto* rect = new QCPAxisRect(m_plot);
        m_plot->plotLayout()->addElement(c, 0, rect);
        rect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
        rect->axis(QCPAxis::atLeft)->setLabel(tr(kNames[c]));
        rect->axis(QCPAxis::atBottom)->setLabel(c == 2 ? tr("step") : QString());
        auto* graph = m_plot->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        graph->setPen(QPen(kColors[c], 2));
        auto* line = new QCPItemStraightLine(m_plot);
        line->setClipAxisRect(rect);
        line->point1->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        line->point2->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        line->setPen(QPen(Qt::black, 1, Qt::DashLine));
        line->setVisible(false);
        m_cursors.push_back(line);
    }
    m_plot->setMinimumHeight(300);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_label);
}

void SchedulePlot::setSchedule(const OptimizationConfig& config, std::int64_t iterationsPerEpoch)
{
    m_config = config;
    m_ipe = std::max<std::int64_t>(1, iterationsPerEpoch);
    const Schedules schedules(config, m_ipe);
    m_total = static_cast<std::int64_t>(config.epochs) * m_ipe;
    const std::int64_t stride = std::max<std::int64_t>(1, (m_total + 1999) / 2000);
    m_steps.clear();
    for (auto& v : m_values)
        v.clear();
    for (std::int64_t s = 1; s <= m_total; s += stride) {
        m_steps.push_back(static_cast<double>(s));
        m_values[0].push_back(schedules.learningRate(s));
        m_values[1].push_back(schedules.weightDecay(s));
        m_values[2].push_back(schedules.momentum(s - 1));
    }
    if (m_steps.isEmpty() || m_steps.back() != static_cast<double>(m_total)) {
        m_steps.push_back(static_cast<double>(m_total));
        m_values[0].push_back(schedules.learningRate(m_total));
        m_values[1].push_back(schedules.weightDecay(m_total));
        m_values[2].push_back(schedules.momentum(m_total - 1));
    }
    for (int c = 0; c < 3; ++c) {
        m_plot->graph(c)->setData(m_steps, m_values[c], true);
        m_plot->graph(c)->rescaleAxes();
        auto* y = m_plot->graph(c)->valueAxis();
        const double pad = std::max(1e-12, (y->range().upper - y->range().lower) * 0.05);
        y->setRange(y->range().lower - pad, y->range().upper + pad);
    }
    setCursor(m_cursor);
}

void SchedulePlot::setCursor(std::int64_t step)
{
    m_cursor = step;
    for (auto* line : m_cursors) {
        line->setVisible(step >= 0);
        line->point1->setCoords(static_cast<double>(step), 0);
        line->point2->setCoords(static_cast<double>(step), 1);
    }
    m_label->setText(cursorText());
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QString SchedulePlot::cursorText() const
{
    const Schedules schedules(m_config, m_ipe);
    const std::int64_t s = std::clamp<std::int64_t>(m_cursor < 1 ? 1 : m_cursor, 1, std::max<std::int64_t>(1, m_total));
    return tr("%1 steps (%2 epochs × %3)   at step %4: lr %5, wd %6, momentum %7")
        .arg(m_total)
        .arg(m_config.epochs)
        .arg(m_ipe)
        .arg(m_cursor < 0 ? QStringLiteral("–") : QString::number(m_cursor))
        .arg(schedules.learningRate(s), 0, 'g', 4)
        .arg(schedules.weightDecay(s), 0, 'g', 4)
        .arg(schedules.momentum(s - 1), 0, 'g', 6);
}

bool SchedulePlot::savePng(const QString& path, int width, int height)
{
    return m_plot->savePng(path, width, height);
}

} // namespace ijepa::widgets
