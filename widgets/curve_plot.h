#pragma once

#include <QColor>
#include <QString>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPGraph;
class QCPItemText;
class QLabel;
class QSlider;
class QCheckBox;

namespace ijepa::widgets {

// Line plot of one or more series over training steps (QCustomPlot): raw values plus a smoothed
// line (exponential moving average debiased as TensorBoard's smoothing slider), linear or log y,
// a hover read-out of the nearest step, drag to pan, wheel to zoom, export to PNG and CSV.
// Points are appended in batches and drawn with QCustomPlot's adaptive sampling, so 100,000+
// points stay smooth. The view follows new data until the user zooms or pans ("Fit" restores it).
class CurvePlot : public QWidget {
    Q_OBJECT
public:
    explicit CurvePlot(const QString& yLabel, QWidget* parent = nullptr);

    // Adds a series and returns its id; `smoothed` adds the EMA line over a faint raw line.
    int addSeries(const QString& name, const QColor& color, bool smoothed = true);
    // Appends one point; non-finite values are skipped. Call refresh() after a batch of points.
    void append(int series, double x, double y);
    // Appends many points at once (x increasing): one insertion into the plot's data.
    void appendMany(int series, const QVector<double>& x, const QVector<double>& y);
    // A shaded band from lo to hi under `series` in its colour (the spread of the seeds its line
    // is the mean of); replaces the series' previous band. Not in the legend or the CSV.
    void setBand(int series, const QVector<double>& x, const QVector<double>& lo, const QVector<double>& hi);
    bool hasBand(int series) const;
    void refresh(); // queued replot, rescaled while following the data
    void clear();          // empties every series
    void removeAllSeries(); // no series left (the runs overlay rebuilds its own)
    void setXLabel(const QString& label);
    // Shows or hides the faint raw lines under the smoothed ones (the runs overlay leaves them out
    // when many runs are drawn: ten noisy lines hide each other and double the replot time).
    void setRawVisible(bool on);

    void setSmoothing(double weight); // 0 (raw) .. 0.999
    double smoothing() const { return m_smoothing; }
    void setLogScale(bool on);
    bool logScale() const { return m_log; }
    void fit(); // rescale to all data and follow new points again

    int pointCount(int series) const;
    QVector<double> smoothedValues(int series) const;
    // The hover read-out for the point nearest step `x` (also what mouse moves show).
    QString readoutAt(double x) const;
    QString readout() const;

    QString csv() const;                     // series,step,value,smoothed
    bool saveCsv(const QString& path) const; // csv() into a file, atomically
    bool savePng(const QString& path, int width = 0, int height = 0);
    QCustomPlot* plot() const { return m_plot; }

private:
    struct Series {
        QString name;
        QVector<double> x, y, smooth;
        double ema = 0;
        int count = 0; // finite values folded into ema
        QCPGraph* raw = nullptr;
        QCPGraph* smoothGraph = nullptr;
        QCPGraph *bandLo = nullptr, *bandHi = nullptr;
    };
    void smoothAppend(Series& s, double y);
    void resmooth();
    void updateLegend();
    bool eventFilter(QObject* watched, QEvent* event) override;
    void showEvent(QShowEvent* event) override;

    QCustomPlot* m_plot;
    QCPItemText* m_empty = nullptr; // "no data yet" before the first point
    QLabel* m_readout;
    QSlider* m_slider;
    QCheckBox* m_logBox;
    QVector<Series> m_series;
    QVector<QCPGraph*> m_legendGraphs; // what the legend lists now
    double m_smoothing = 0.6;
    bool m_log = false;
    bool m_follow = true;
    bool m_dirty = false;
};

} // namespace ijepa::widgets
