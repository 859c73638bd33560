#include "widgets/predictor_loss_view.h"

#include "widgets/plot_tools.h"
#include "widgets/qcustomplot_include.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ijepa::widgets {
namespace {

QCustomPlot* barPlot(QWidget* parent, const QString& xLabel)
{
    auto* plot = new QCustomPlot(parent);
    plot->xAxis->setLabel(xLabel);
    plot->yAxis->setLabel(QObject::tr("mean token loss"));
    plot->setMinimumHeight(140);
    addPlotMenu(plot, {.name = QStringLiteral("predictor-loss"), .csv = {}, .resetView = {}});
    return plot;
}

void setBars(QCustomPlot* plot, const QVector<double>& x, const QVector<double>& y, const QColor& colour)
{
    plot->clearPlottables();
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setData(x, y, true);
    bars->setName(plot->xAxis->label());
    bars->setBrush(colour);
    bars->setPen(QPen(colour.darker(130)));
    bars->setWidth(x.size() > 1 ? 0.7 * (x.back() - x.front()) / (x.size() - 1) : 0.7);
    plot->rescaleAxes();
    plot->xAxis->scaleRange(1.2, plot->xAxis->range().center());
    plot->yAxis->setRangeLower(0);
    plot->yAxis->setRangeUpper(plot->yAxis->range().upper * 1.1);
    plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace

QColor viridis(double t)
{
    static const QColor stops[] = {QColor(68, 1, 84), QColor(59, 82, 139), QColor(33, 145, 140), QColor(94, 201, 98),
                                   QColor(253, 231, 37)};
    t = std::clamp(t, 0.0, 1.0) * 4.0;
    const int i = std::min(3, static_cast<int>(t));
    const double f = t - i;
    const QColor& a = stops[i];
    const QColor& b = stops[i + 1];
    return QColor::fromRgbF(a.redF() + f * (b.redF() - a.redF()), a.greenF() + f * (b.greenF() - a.greenF()),
                            a.blueF() + f * (b.blueF() - a.blueF()));
}

GridHeatmap::GridHeatmap(QWidget* parent)
    : QWidget(parent)
{
    setMouseTracking(true);
    setMinimumSize(160, 160);
}

void GridHeatmap::setValues(int grid, const QVector<double>& values)
{
    m_grid = values.size() == grid * grid ? grid : 0;
    m_values = values;
    m_lo = std::numeric_limits<double>::infinity();
    m_hi = -m_lo;
    for (double v : values)
        if (std::isfinite(v)) {
            m_lo = std::min(m_lo, v);
            m_hi = std::max(m_hi, v);
        }
    update();
}

QRectF GridHeatmap::cellRect(int cell) const
{
    const double side = std::min(width(), height() - 36) / static_cast<double>(std::max(1, m_grid));
    return {(cell % m_grid) * side, (cell / m_grid) * side, side, side};
}

void GridHeatmap::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    if (m_grid == 0) {
        p.drawText(rect(), Qt::AlignCenter, tr("no losses yet"));
        return;
    }
    for (int i = 0; i < m_grid * m_grid; ++i) {
        const double v = m_values[i];
        const double t = m_hi > m_lo ? (v - m_lo) / (m_hi - m_lo) : 0.5;
        p.fillRect(cellRect(i), std::isfinite(v) ? viridis(t) : QColor(90, 90, 90));
    }
    const double bottom = cellRect(m_grid * m_grid - 1).bottom();
    p.drawText(QRectF(0, bottom + 2, width(), 34), Qt::AlignLeft | Qt::TextWordWrap,
               tr("%1 (dark) .. %2 (bright); grey: never a target").arg(m_lo, 0, 'f', 4).arg(m_hi, 0, 'f', 4));
}

void GridHeatmap::mouseMoveEvent(QMouseEvent* event)
{
    if (m_grid == 0)
        return;
    for (int i = 0; i < m_grid * m_grid; ++i)
        if (cellRect(i).contains(event->position())) {
            QToolTip::showText(event->globalPosition().toPoint(),
                               tr("row %1, column %2: %3").arg(i / m_grid).arg(i % m_grid).arg(m_values[i], 0, 'f', 5), this);
            return;
        }
}

PredictorLossView::PredictorLossView(QWidget* parent)
    : QWidget(parent)
    , m_caption(new QLabel(tr("Where the predictor fails: no diagnostic step yet"), this))
    , m_heatmap(new GridHeatmap(this))
    , m_blocks(barPlot(this, tr("target block")))
    , m_sizes(barPlot(this, tr("target block size (patches)")))
{
    m_caption->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_caption);
    auto* row = new QHBoxLayout;
    row->addWidget(m_heatmap, 1);
    auto* bars = new QVBoxLayout;
    bars->addWidget(m_blocks, 1);
    bars->addWidget(m_sizes, 1);
    row->addLayout(bars, 1);
    layout->addLayout(row, 1);
}

void PredictorLossView::setLosses(qint64 step, qint64 windowSteps, int grid, const QVector<double>& byPosition,
                                  const QVector<double>& byBlock, const QVector<QPair<int, double>>& bySize)
{
    m_caption->setText(tr("Where the predictor fails, steps %1-%2: mean prediction loss of the target tokens at each patch "
                          "position, of each target block and by block size")
                           .arg(step - windowSteps + 1)
                           .arg(step));
    m_heatmap->setValues(grid, byPosition);
    QVector<double> x, y;
    for (int m = 0; m < byBlock.size(); ++m) {
        x << m + 1;
        y << byBlock[m];
    }
    setBars(m_blocks, x, y, QColor(31, 119, 180));
    x.clear();
    y.clear();
    for (const auto& [size, loss] : bySize) {
        x << size;
        y << loss;
    }
    setBars(m_sizes, x, y, QColor(255, 127, 14));
}

} // namespace ijepa::widgets
