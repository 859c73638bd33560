#include "widgets/curve_plot.h"

#include "widgets/plot_tools.h"
#include "widgets/qcustomplot_include.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ijepa::widgets {

CurvePlot::CurvePlot(const QString& yLabel, QWidget* parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
    , m_readout(new QLabel(this))
    , m_slider(new QSlider(Qt::Horizontal, this))
    , m_logBox(new QCheckBox(tr("Log scale"), this))
{
    setXLabel(tr("step"));
    m_plot->yAxis->setLabel(yLabel);
    // Before the first point: a word instead of empty 0-5 axes (and no previous run's range).
    m_empty = new QCPItemText(m_plot);
    m_empty->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_empty->position->setCoords(0.5, 0.5);
    m_empty->setText(tr("no data yet"));
    m_empty->setColor(Qt::gray);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->legend->setVisible(false);
    m_plot->setNoAntialiasingOnDrag(true);
    m_plot->setNotAntialiasedElements(QCP::aePlottables); // antialiased 100k-point lines cost ~10x more
    m_plot->installEventFilter(this);
    m_plot->setPlottingHint(QCP::phFastPolylines, true); // plain line segments, not a stroked polyline: 10x faster replots
    m_plot->setMinimumHeight(160);
    connect(m_plot, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
        m_readout->setText(readoutAt(m_plot->xAxis->pixelToCoord(e->position().x())));
    });

    m_slider->setRange(0, 99);
    m_slider->setValue(static_cast<int>(m_smoothing * 100));
    m_slider->setToolTip(tr("Smoothing: exponential moving average weight, debiased as in TensorBoard"));
    auto* smoothLabel = new QLabel(tr("Smoothing %1").arg(m_smoothing, 0, 'f', 2), this);
    connect(m_slider, &QSlider::valueChanged, this, [this, smoothLabel](int v) {
        setSmoothing(v / 100.0);
        smoothLabel->setText(tr("Smoothing %1").arg(m_smoothing, 0, 'f', 2));
    });
    connect(m_logBox, &QCheckBox::toggled, this, &CurvePlot::setLogScale);
    auto* fitButton = new QPushButton(tr("Fit"), this);
    fitButton->setToolTip(tr("Show all data and follow new points"));
    connect(fitButton, &QPushButton::clicked, this, &CurvePlot::fit);
    // Right-click on the plot, or this button: save the picture or the data, copy the data, fit.
    const PlotMenuOptions menu{.name = yLabel, .csv = [this] { return csv(); }, .resetView = [this] { fit(); }};
    addPlotMenu(m_plot, menu);
    auto* saveButton = new QPushButton(tr("Save…"), this);
    saveButton->setToolTip(tr("Save the plot as PNG or PDF, or its data as CSV (also on right-click)"));
    saveButton->setMenu(plotMenu(m_plot, menu, this));
    legendAbove(m_plot, 4);

    auto* controls = new QHBoxLayout;
    controls->addWidget(smoothLabel);
    controls->addWidget(m_slider, 1);
    controls->addWidget(m_logBox);
    controls->addWidget(fitButton);
    controls->addWidget(saveButton);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_readout);
    layout->addLayout(controls);
}

int CurvePlot::addSeries(const QString& name, const QColor& color, bool smoothed)
{
    Series s;
    s.name = name;
    s.raw = m_plot->addGraph();
    s.raw->setName(name);
    s.raw->setAdaptiveSampling(true);
    QColor faint = color;
    if (smoothed) {
        faint.setAlpha(110);
        s.smoothGraph = m_plot->addGraph();
        s.smoothGraph->setName(name);
        s.smoothGraph->setPen(QPen(color, 2));
        s.smoothGraph->setAdaptiveSampling(true);
    }
    s.raw->setPen(QPen(faint, 1));
    s.raw->removeFromLegend(); // the legend lists series once they have points (updateLegend)
    if (s.smoothGraph)
        s.smoothGraph->removeFromLegend();
    if (!smoothed) // sparse series (e.g. diagnostics every N steps): mark each point
        s.raw->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
    m_series.push_back(s);
    return static_cast<int>(m_series.size()) - 1;
}

void CurvePlot::setBand(int series, const QVector<double>& x, const QVector<double>& lo, const QVector<double>& hi)
{
    if (series < 0 || series >= m_series.size())
        return;
    Series& s = m_series[series];
    if (!s.bandLo) {
        QColor fill = (s.smoothGraph ? s.smoothGraph : s.raw)->pen().color();
        fill.setAlpha(45);
        s.bandLo = m_plot->addGraph();
        s.bandHi = m_plot->addGraph();
        for (QCPGraph* g : {s.bandLo, s.bandHi}) {
            g->setPen(Qt::NoPen);
            g->removeFromLegend();
            g->setName(s.name + tr(" (spread)"));
        }
        s.bandHi->setBrush(fill);
        s.bandHi->setChannelFillGraph(s.bandLo);
    }
    s.bandLo->setData(x, lo, true);
    s.bandHi->setData(x, hi, true);
    refresh();
}

bool CurvePlot::hasBand(int series) const
{
    return series >= 0 && series < m_series.size() && m_series[series].bandLo && !m_series[series].bandLo->data()->isEmpty();
}

void CurvePlot::updateLegend()
{
    // The legend names the series that have points, in the order they were added (a series that
    // may never get any, such as the SIGReg part of a run without it, stays out of it); the
    // smoothed line stands for its faint raw line. No legend for a single series.
    QVector<QCPGraph*> named;
    for (const Series& s : m_series)
        if (!s.x.isEmpty())
            named.push_back(s.smoothGraph ? s.smoothGraph : s.raw);
    if (named == m_legendGraphs)
        return;
    m_plot->legend->clearItems();
    for (QCPGraph* g : named)
        g->addToLegend();
    m_legendGraphs = named;
    m_plot->legend->setVisible(named.size() > 1);
}

void CurvePlot::smoothAppend(Series& s, double y)
{
    // TensorBoard: ema = w * ema + (1 - w) * y, shown divided by (1 - w^n) so early points are not
    // pulled towards zero.
    s.ema = m_smoothing * s.ema + (1.0 - m_smoothing) * y;
    ++s.count;
    const double debias = 1.0 - std::pow(m_smoothing, s.count);
    s.smooth.push_back(debias > 0 ? s.ema / debias : y);
}

void CurvePlot::append(int series, double x, double y)
{
    if (series < 0 || series >= m_series.size() || !std::isfinite(x) || !std::isfinite(y))
        return;
    Series& s = m_series[series];
    s.x.push_back(x);
    s.y.push_back(y);
    s.raw->addData(x, y);
    if (s.smoothGraph) {
        smoothAppend(s, y);
        s.smoothGraph->addData(x, s.smooth.back());
    }
}

void CurvePlot::appendMany(int series, const QVector<double>& xs, const QVector<double>& ys)
{
    if (series < 0 || series >= m_series.size())
        return;
    Series& s = m_series[series];
    QVector<double> x, y, smooth;
    for (int i = 0; i < xs.size() && i < ys.size(); ++i)
        if (std::isfinite(xs[i]) && std::isfinite(ys[i])) {
            x.push_back(xs[i]);
            y.push_back(ys[i]);
            if (s.smoothGraph) {
                smoothAppend(s, ys[i]);
                smooth.push_back(s.smooth.back());
            }
        }
    s.x += x;
    s.y += y;
    s.raw->addData(x, y, /*alreadySorted=*/true);
    if (s.smoothGraph)
        s.smoothGraph->addData(x, smooth, true);
}

void CurvePlot::refresh()
{
    if (!isVisible()) { // a plot on a hidden tab is redrawn when it is shown
        m_dirty = true;
        return;
    }
    m_dirty = false;
    updateLegend();
    const bool empty = std::all_of(m_series.begin(), m_series.end(), [](const Series& s) { return s.x.empty(); });
    m_empty->setVisible(empty);
    for (QCPAxis* axis : {m_plot->xAxis, m_plot->yAxis})
        axis->setTickLabels(!empty);
    if (empty) {
        m_plot->xAxis->setRange(0, 1);
        m_plot->yAxis->setRange(0, 1);
    } else if (m_follow) {
        m_plot->rescaleAxes();
        // Points off the frame: 5% room on either side of y, and a lone point in the middle of its range.
        const QCPRange y = m_plot->yAxis->range(), x = m_plot->xAxis->range();
        const double pad = y.size() > 0 ? 0.05 * y.size() : std::max(1e-3, 0.1 * std::abs(y.center()));
        m_plot->yAxis->setRange(y.lower - pad, y.upper + pad);
        if (x.size() <= 0)
            m_plot->xAxis->setRange(x.center() - 1, x.center() + 1);
        if (m_log && m_plot->yAxis->range().lower <= 0)
            m_plot->yAxis->setRangeLower(std::max(1e-6, y.lower * 0.9));
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void CurvePlot::setRawVisible(bool on)
{
    for (auto& s : m_series)
        if (s.smoothGraph)
            s.raw->setVisible(on);
    refresh();
}

void CurvePlot::removeAllSeries()
{
    m_plot->clearGraphs();
    m_series.clear();
    m_legendGraphs.clear();
    m_plot->legend->setVisible(false);
    m_follow = true;
    refresh();
}

void CurvePlot::setXLabel(const QString& label)
{
    m_plot->xAxis->setLabel(label);
    // Steps are whole numbers: ticks at integer multiples (no 2.5, 7.5); epochs and time are not.
    if (label == tr("step")) {
        auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
        ticker->setTickStep(1.0);
        ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        m_plot->xAxis->setTicker(ticker);
    } else {
        m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    }
}

void CurvePlot::clear()
{
    for (Series& s : m_series) {
        s.x.clear();
        s.y.clear();
        s.smooth.clear();
        s.ema = 0;
        s.count = 0;
        s.raw->data()->clear();
        for (QCPGraph* band : {s.bandLo, s.bandHi})
            if (band)
                band->data()->clear();
        if (s.smoothGraph)
            s.smoothGraph->data()->clear();
    }
    m_follow = true;
    refresh();
}

void CurvePlot::resmooth()
{
    for (Series& s : m_series) {
        if (!s.smoothGraph)
            continue;
        s.smooth.clear();
        s.ema = 0;
        s.count = 0;
        for (double y : s.y)
            smoothAppend(s, y);
        s.smoothGraph->setData(s.x, s.smooth, /*alreadySorted=*/true);
    }
}

void CurvePlot::setSmoothing(double weight)
{
    m_smoothing = std::clamp(weight, 0.0, 0.999);
    resmooth();
    refresh();
}

void CurvePlot::setLogScale(bool on)
{
    m_log = on;
    if (m_logBox->isChecked() != on)
        m_logBox->setChecked(on);
    m_plot->yAxis->setScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (on)
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    else
        m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    refresh();
}

void CurvePlot::fit()
{
    m_follow = true;
    refresh();
}

void CurvePlot::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    if (m_dirty)
        refresh();
}

bool CurvePlot::eventFilter(QObject* watched, QEvent* event)
{
    // A wheel or drag on the plot is the user taking over the view: stop following new points.
    if (watched == m_plot && (event->type() == QEvent::Wheel || event->type() == QEvent::MouseButtonPress))
        m_follow = false;
    return QWidget::eventFilter(watched, event);
}

int CurvePlot::pointCount(int series) const
{
    return series >= 0 && series < m_series.size() ? static_cast<int>(m_series[series].x.size()) : 0;
}

QVector<double> CurvePlot::smoothedValues(int series) const
{
    return series >= 0 && series < m_series.size() ? m_series[series].smooth : QVector<double>{};
}

QString CurvePlot::readoutAt(double x) const
{
    QStringList parts;
    for (const Series& s : m_series) {
        if (s.x.isEmpty())
            continue;
        const auto it = std::lower_bound(s.x.begin(), s.x.end(), x);
        qsizetype i = it - s.x.begin();
        if (i == s.x.size() || (i > 0 && x - s.x[i - 1] < s.x[i] - x))
            --i;
        QString part = tr("%1 @ step %2: %3").arg(s.name).arg(s.x[i], 0, 'f', 0).arg(s.y[i], 0, 'g', 5);
        if (s.smoothGraph)
            part += tr(" (smoothed %1)").arg(s.smooth[i], 0, 'g', 5);
        parts << part;
    }
    return parts.join(QStringLiteral("   "));
}

QString CurvePlot::readout() const
{
    return m_readout->text();
}

QString CurvePlot::csv() const
{
    QString out = QStringLiteral("series,step,value,smoothed\n");
    for (const Series& s : m_series) {
        for (qsizetype i = 0; i < s.x.size(); ++i) {
            out += s.name + QLatin1Char(',') + QString::number(s.x[i], 'g', 12) + QLatin1Char(',') + QString::number(s.y[i], 'g', 10);
            out += QLatin1Char(',') + (s.smoothGraph ? QString::number(s.smooth[i], 'g', 10) : QString()) + QLatin1Char('\n');
        }
    }
    return out;
}

bool CurvePlot::saveCsv(const QString& path) const
{
    return saveText(path, csv());
}

bool CurvePlot::savePng(const QString& path, int width, int height)
{
    updateLegend();
    if (m_follow)
        m_plot->rescaleAxes();
    return m_plot->savePng(path, width, height);
}

} // namespace ijepa::widgets
