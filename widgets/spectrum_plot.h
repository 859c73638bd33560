#pragma once

#include <QVector>
#include <QWidget>

class QCustomPlot;
class QLabel;

namespace ijepa::widgets {

// The singular-value spectrum of the probe features, one curve per diagnostic step on a log
// scale: the newest in colour and bold, older ones fading to grey (at most kCurves kept), with
// the step and RankMe of the newest in the caption. A collapsing run shows its spectrum dropping
// off a cliff.
class SpectrumPlot : public QWidget {
    Q_OBJECT
public:
    static constexpr int kCurves = 12;

    explicit SpectrumPlot(QWidget* parent = nullptr);

    // `values`: normalised singular values, descending.
    void addSpectrum(qint64 step, const QVector<double>& values, double rankMe);
    void clear();
    int curveCount() const { return m_curves.size(); }
    QCustomPlot* plot() const { return m_plot; }

private:
    struct Curve {
        qint64 step;
        QVector<double> values;
    };
    void redraw();

    QCustomPlot* m_plot;
    QLabel* m_caption;
    QVector<Curve> m_curves;
};

} // namespace ijepa::widgets
