#include "widgets/schedule_plot.h"

#include "core/train/schedules.h"

#include "widgets/plot_tools.h"
#include "widgets/qcustomplot_include.h"

#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>
#include <numeric>

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
        graph->setName(tr(kNames[c]));
        auto* line = new QCPItemStraightLine(m_plot);
        line->setClipAxisRect(rect);
        line->point1->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        line->point2->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        line->setPen(QPen(Qt::black, 1, Qt::DashLine));
        line->setVisible(false);
        m_cursors.push_back(line);
    }
    for (int c = 0; c < 3; ++c) { // the preview of a change being edited: dashed, from its step on
        auto* rect = m_plot->axisRect(c);
        auto* preview = m_plot->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        preview->setPen(QPen(QColor(255, 127, 14), 2, Qt::DashLine));
        preview->setName(tr("%1 (preview)").arg(tr(kNames[c])));
    }
    m_plot->setMinimumHeight(300);
    addPlotMenu(m_plot, {.name = QStringLiteral("schedules"), .csv = {}, .resetView = [this] { redraw(); }});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_label);
}

void SchedulePlot::setSchedule(const OptimizationConfig& config, std::int64_t iterationsPerEpoch)
{
    m_ipe = std::max<std::int64_t>(1, iterationsPerEpoch);
    m_segments = {{0, config}};
    m_preview.clear();
    redraw();
}

void SchedulePlot::addChange(std::int64_t fromIteration, const OptimizationConfig& config)
{
    m_segments.push_back({fromIteration, config});
    m_preview.clear();
    redraw();
}

void SchedulePlot::setPreview(std::int64_t fromIteration, const OptimizationConfig& config)
{
    m_preview = {{fromIteration, config}};
    redraw();
}

void SchedulePlot::clearPreview()
{
    m_preview.clear();
    redraw();
}

// Samples of the schedule made of `segments` (each in force from its iteration on) from step `from`.
void SchedulePlot::sample(const std::vector<Segment>& segments, std::int64_t from, QVector<double>& steps,
                          QVector<double> (&values)[3]) const
{
    steps.clear();
    for (auto& v : values)
        v.clear();
    const std::int64_t total = static_cast<std::int64_t>(segments.back().config.epochs) * m_ipe;
    const std::int64_t stride = std::max<std::int64_t>(1, (total + 1999) / 2000);
    const auto add = [&](std::int64_t s) {
        const Segment* seg = &segments.front();
        for (const auto& g : segments)
            if (g.from < s)
                seg = &g;
        const Schedules schedules(seg->config, m_ipe);
        steps.push_back(static_cast<double>(s));
        values[0].push_back(schedules.learningRate(s));
        values[1].push_back(schedules.weightDecay(s));
        values[2].push_back(schedules.momentum(s - 1));
    };
    for (std::int64_t s = std::max<std::int64_t>(1, from); s <= total; s += stride)
        add(s);
    for (const auto& g : segments) // both sides of each change, so the jump is drawn where it happens
        for (std::int64_t s : {g.from, g.from + 1})
            if (s >= std::max<std::int64_t>(1, from) && s <= total)
                add(s);
    if (steps.isEmpty() || steps.back() != static_cast<double>(total))
        add(total);
    // Sorted by step (the change points were appended).
    QVector<int> order(steps.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return steps[a] < steps[b]; });
    QVector<double> sorted[4];
    for (int i : order) {
        sorted[0].push_back(steps[i]);
        for (int c = 0; c < 3; ++c)
            sorted[c + 1].push_back(values[c][i]);
    }
    steps = sorted[0];
    for (int c = 0; c < 3; ++c)
        values[c] = sorted[c + 1];
}

void SchedulePlot::redraw()
{
    m_config = m_segments.back().config;
    m_total = static_cast<std::int64_t>(m_config.epochs) * m_ipe;
    sample(m_segments, 1, m_steps, m_values);
    QVector<double> previewSteps, previewValues[3];
    if (!m_preview.empty()) {
        auto segments = m_segments;
        segments.push_back(m_preview.front());
        sample(segments, m_preview.front().from + 1, previewSteps, previewValues);
    }
    for (int c = 0; c < 3; ++c) {
        m_plot->graph(c)->setData(m_steps, m_values[c]);
        m_plot->graph(c + 3)->setData(previewSteps, previewValues[c]);
        m_plot->graph(c)->rescaleAxes();
        m_plot->graph(c + 3)->rescaleAxes(true);
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
    const std::int64_t s = std::clamp<std::int64_t>(m_cursor < 1 ? 1 : m_cursor, 1, std::max<std::int64_t>(1, m_total));
    const Segment* seg = &m_segments.front();
    for (const auto& g : m_segments)
        if (g.from < s)
            seg = &g;
    const Schedules schedules(seg->config, m_ipe);
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
