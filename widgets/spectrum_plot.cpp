#include "widgets/spectrum_plot.h"

#include "widgets/plot_tools.h"
#include "widgets/qcustomplot_include.h"

#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ijepa::widgets {

SpectrumPlot::SpectrumPlot(QWidget* parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
    , m_caption(new QLabel(tr("Spectrum: no diagnostic step yet"), this))
{
    m_plot->xAxis->setLabel(tr("singular value index"));
    m_plot->yAxis->setLabel(tr("normalised singular value"));
    m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->setNotAntialiasedElements(QCP::aePlottables); // 12 antialiased curves cost ~10x more to draw
    m_plot->setMinimumHeight(160);
    m_plot->legend->setVisible(true);
    m_plot->legend->setFont(QFont(font().family(), 8));
    legendAbove(m_plot, 2);
    addPlotMenu(m_plot, {.name = QStringLiteral("spectrum"), .csv = {}, .resetView = [this] { redraw(); }});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_caption);
    layout->addWidget(m_plot, 1);
}

void SpectrumPlot::addSpectrum(qint64 step, const QVector<double>& values, double rankMe)
{
    if (values.isEmpty())
        return;
    m_curves.push_back({step, values});
    if (m_curves.size() > kCurves)
        m_curves.removeFirst();
    m_caption->setText(tr("Spectrum of the probe features at step %1: RankMe %2 of %3 (older steps fade to grey)")
                           .arg(step)
                           .arg(rankMe, 0, 'f', 1)
                           .arg(values.size()));
    redraw();
}

void SpectrumPlot::clear()
{
    m_curves.clear();
    m_caption->setText(tr("Spectrum: no diagnostic step yet"));
    redraw();
}

void SpectrumPlot::redraw()
{
    m_plot->clearGraphs();
    double lo = 1.0;
    const int n = m_curves.size();
    for (int c = 0; c < n; ++c) {
        const Curve& curve = m_curves[c];
        QVector<double> x, y;
        for (int i = 0; i < curve.values.size(); ++i)
            if (curve.values[i] > 0) {
                x << i + 1;
                y << curve.values[i];
                lo = std::min(lo, curve.values[i]);
            }
        auto* g = m_plot->addGraph();
        g->setData(x, y, true);
        const bool newest = c == n - 1;
        const double age = n > 1 ? static_cast<double>(n - 1 - c) / (n - 1) : 0.0; // 0 newest .. 1 oldest
        QColor colour = newest ? QColor(214, 39, 40) : QColor::fromHsvF(0.6, 0.6 * (1 - age), 0.5 + 0.4 * age);
        colour.setAlphaF(newest ? 1.0 : 0.35 + 0.5 * (1 - age));
        g->setPen(QPen(colour, newest ? 2.5 : 1.0));
        g->setName(tr("step %1").arg(curve.step));
        if (!newest && c != 0)
            g->removeFromLegend(); // the legend names the oldest and the newest
    }
    m_plot->xAxis->setRange(1, std::max<double>(2, n ? m_curves.back().values.size() : 2));
    m_plot->yAxis->setRange(std::max(1e-8, lo * 0.5), 1.0);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace ijepa::widgets
