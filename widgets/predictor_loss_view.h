#pragma once

#include <QPair>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QLabel;

namespace ijepa::widgets {

// A grid x grid heat map (viridis, NaN cells grey) with a hover read-out of the cell's value.
class GridHeatmap : public QWidget {
    Q_OBJECT
public:
    explicit GridHeatmap(QWidget* parent = nullptr);
    void setValues(int grid, const QVector<double>& values);
    int grid() const { return m_grid; }
    const QVector<double>& values() const { return m_values; }
    QSize sizeHint() const override { return {320, 320}; }

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    QRectF cellRect(int cell) const;
    int m_grid = 0;
    QVector<double> m_values;
    double m_lo = 0, m_hi = 0;
};

// Where the predictor fails: its mean token loss by patch position (heat map over the grid), by
// target block (first..M-th) and by block size, over the last steps.
class PredictorLossView : public QWidget {
    Q_OBJECT
public:
    explicit PredictorLossView(QWidget* parent = nullptr);
    void setLosses(qint64 step, qint64 windowSteps, int grid, const QVector<double>& byPosition,
                   const QVector<double>& byBlock, const QVector<QPair<int, double>>& bySize);
    GridHeatmap* heatmap() const { return m_heatmap; }

private:
    QLabel* m_caption;
    GridHeatmap* m_heatmap;
    QCustomPlot* m_blocks;
    QCustomPlot* m_sizes;
};

// A viridis colour for t in [0, 1].
QColor viridis(double t);

} // namespace ijepa::widgets
