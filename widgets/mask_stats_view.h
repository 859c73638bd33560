#pragma once

#include "core/config.h"
#include "core/masks/mask_stats.h"

#include <QWidget>

#include <atomic>
#include <memory>
#include <vector>

class QComboBox;
class QCustomPlot;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTimer;

namespace ijepa::widgets {

class LatestJobRunner;

// A patch-grid heat map of shares in [0, 1] (one colour scale for every map), with a caption.
class ShareMap : public QWidget {
    Q_OBJECT
public:
    explicit ShareMap(QWidget* parent = nullptr);
    void setValues(const std::vector<double>& values, int grid, const QString& caption);
    QSize sizeHint() const override { return {180, 200}; }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    std::vector<double> m_values;
    int m_grid = 0;
    QString m_caption;
};

// The mask sampler as a distribution (the Masks tab's second view): over the next N batches of the
// edited config, and of a second setting beside it, heat maps of where patches are context, target
// or neither, histograms of context sizes (block, after removing the targets, after truncation),
// target block sizes and aspect ratios, and the table `ijepa masks --stats` prints. Computed off
// the UI thread, again whenever the config or the choices change.
class MaskStatsView : public QWidget {
    Q_OBJECT
public:
    explicit MaskStatsView(QWidget* parent = nullptr);
    void setConfig(const Config& config);
    void setBatches(int batches);
    // The second setting: index into comparisons() (0: none).
    void setComparison(int index);
    QStringList comparisons() const;
    void recompute();
    bool busy() const;
    const std::vector<MaskStats>& stats() const { return m_stats; }
    QString tableText() const;
    // The histograms: 0 context patches, 1 target block patches, 2 target aspect ratio.
    QCustomPlot* histogramPlot(int i) const { return i == 0 ? m_contextPlot : i == 1 ? m_targetPlot : m_aspectPlot; }

Q_SIGNALS:
    void computed();

private:
    void scheduleRecompute();
    void display(std::vector<QString> names, std::vector<MaskStats> stats);
    void plotHistograms();

    Config m_config;
    bool m_haveConfig = false;
    std::vector<MaskStats> m_stats;
    std::vector<QString> m_names;
    std::shared_ptr<std::atomic_bool> m_cancel;
    QSpinBox* m_batches;
    QComboBox* m_compare;
    QPushButton* m_compute;
    QProgressBar* m_progress;
    QLabel* m_status;
    QLabel* m_table;
    std::vector<ShareMap*> m_maps; // [setting * 3 + kind]
    QCustomPlot* m_contextPlot;
    QCustomPlot* m_targetPlot;
    QCustomPlot* m_aspectPlot;
    QTimer* m_debounce;
    LatestJobRunner* m_runner;
};

} // namespace ijepa::widgets
