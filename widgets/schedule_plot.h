#pragma once

#include "core/config.h"

#include <QVector>
#include <QWidget>

#include <cstdint>
#include <vector>

class QCustomPlot;
class QCPItemStraightLine;
class QLabel;

namespace ijepa::widgets {

// The learning-rate, weight-decay and EMA-momentum schedules of a whole run (core Schedules,
// the reference's per-iteration formulas), one plot each over the steps, with a cursor at the
// current step. Before training it previews the config being edited.
class SchedulePlot : public QWidget {
    Q_OBJECT
public:
    explicit SchedulePlot(QWidget* parent = nullptr);

    // Recomputes the curves for `iterationsPerEpoch` (at most ~2,000 points per curve).
    void setSchedule(const OptimizationConfig& config, std::int64_t iterationsPerEpoch);
    // A change of a steered run, in force from iteration `fromIteration` (0-based) on.
    void addChange(std::int64_t fromIteration, const OptimizationConfig& config);
    // A change being edited, drawn dashed from its iteration on; cleared by addChange or clearPreview.
    void setPreview(std::int64_t fromIteration, const OptimizationConfig& config);
    void clearPreview();
    bool hasPreview() const { return !m_preview.empty(); }
    void setCursor(std::int64_t step); // -1 hides it
    std::int64_t cursor() const { return m_cursor; }
    std::int64_t totalSteps() const { return m_total; }

    // The plotted value of curve 0 (lr), 1 (wd) or 2 (momentum) at sample i, and its step.
    int sampleCount() const { return static_cast<int>(m_steps.size()); }
    double sampleStep(int i) const { return m_steps[i]; }
    double sampleValue(int curve, int i) const { return m_values[curve][i]; }
    QString cursorText() const;
    bool savePng(const QString& path, int width, int height);

private:
    struct Segment {
        std::int64_t from = 0; // first iteration (0-based) with this config
        OptimizationConfig config;
    };
    void sample(const std::vector<Segment>& segments, std::int64_t from, QVector<double>& steps,
                QVector<double> (&values)[3]) const;
    void redraw();

    std::vector<Segment> m_segments{{0, {}}};
    std::vector<Segment> m_preview;
    QCustomPlot* m_plot;
    QLabel* m_label;
    QVector<QCPItemStraightLine*> m_cursors;
    QVector<double> m_steps;
    QVector<double> m_values[3];
    OptimizationConfig m_config;
    std::int64_t m_ipe = 1;
    std::int64_t m_total = 0;
    std::int64_t m_cursor = -1;
};

} // namespace ijepa::widgets
