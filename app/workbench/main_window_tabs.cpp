// The window's tabs: one view each (masks, loss and probe, signals, collapse, schedules,
// throughput, embeddings, log), built once; main_window.cpp wires them to the run.
#include "app/workbench/main_window.h"

#include <QAction>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QPlainTextEdit>
#include <QTabWidget>
#include <QVBoxLayout>

#include <initializer_list>

namespace ijepa::workbench {

// Two plots stacked, with an optional caption above them.
static QWidget* plotStack(QWidget* parent, std::initializer_list<widgets::CurvePlot*> plots, const QString& caption = {})
{
    auto* page = new QWidget(parent);
    auto* layout = new QVBoxLayout(page);
    if (!caption.isEmpty()) {
        auto* label = new QLabel(caption, page);
        label->setWordWrap(true);
        layout->addWidget(label);
    }
    for (auto* plot : plots) {
        plot->setParent(page);
        layout->addWidget(plot, 1);
    }
    return page;
}

void MainWindow::buildTabs()
{
    m_tabs = new QTabWidget(this);
    m_masks = new widgets::MaskPanel(this);
    connect(m_masks, &widgets::MaskPanel::maskSettingsChanged, this, [this](const QString& sampler, const QString& position) {
        m_editor->setValue(QStringLiteral("mask.sampler"), sampler);
        m_editor->setValue(QStringLiteral("mask.position_mode"), position);
    });
    m_maskStats = new widgets::MaskStatsView(this);
    m_maskPages = new QTabWidget(this);
    m_maskPages->addTab(m_masks, tr("Samples"));
    m_maskPages->addTab(m_maskStats, tr("Statistics"));
    m_maskPages->setTabToolTip(1, tr("The sampler as a distribution over many batches, beside a second setting"));
    m_tabs->addTab(m_maskPages, tr("Masks"));

    m_loss = new widgets::CurvePlot(tr("loss"), this);
    m_loss->addSeries(tr("loss"), QColor(31, 119, 180));
    // With SIGReg on (loss.sigreg_weight w > 0): the two parts of (1 - w) * JEPA + w * SIGReg.
    m_loss->addSeries(tr("JEPA (smooth L1)"), QColor(255, 127, 14));
    m_loss->addSeries(tr("w x SIGReg"), QColor(23, 190, 207));
    m_probe = new widgets::CurvePlot(tr("online k-NN top-1 (%)"), this);
    m_probe->addSeries(tr("target encoder (evaluated)"), QColor(214, 39, 40), false);
    m_probe->addSeries(tr("context encoder"), QColor(44, 160, 44), false);
    m_tabs->addTab(plotStack(this, {m_loss, m_probe},
                             tr("The training loss (with SIGReg on: its JEPA and weighted SIGReg parts) above the online "
                                "k-NN probe on fixed held-out images, of the target encoder (what is evaluated) and of the "
                                "context encoder (what the optimiser trains; its lead is how far the EMA lags): a falling "
                                "loss with a flat probe means the features are not improving.")),
                   tr("Loss"));
    m_signals = new SignalsTab(this);
    m_tabs->addTab(m_signals, tr("Signals"));

    m_rank = new widgets::CurvePlot(tr("RankMe"), this);
    m_rank->addSeries(tr("RankMe"), QColor(148, 103, 189), false);
    m_featStd = new widgets::CurvePlot(tr("std of normalised features"), this);
    m_featStd->addSeries(tr("feature std"), QColor(140, 86, 75), false);
    m_sigreg = new widgets::CurvePlot(tr("SIGReg statistic"), this);
    m_sigreg->addSeries(tr("SIGReg of the probe features"), QColor(23, 190, 207), false);
    m_sigreg->setLogScale(true);
    m_tabs->addTab(plotStack(this, {m_rank, m_featStd, m_sigreg},
                             tr("Collapse diagnostics of the target encoder on fixed held-out images: RankMe near 1 or "
                                "a feature std near 0 means the representation has collapsed. The SIGReg statistic "
                                "needs no labels: about 1 for isotropic Gaussian features, large for collapsed or "
                                "few-direction ones.")),
                   tr("Collapse"));

    m_schedules = new widgets::SchedulePlot(this);
    m_tabs->addTab(m_schedules, tr("Schedules"));

    m_throughput = new widgets::CurvePlot(tr("images / s"), this);
    m_throughput->addSeries(tr("img/s"), QColor(44, 160, 44), false);
    m_memory = new widgets::CurvePlot(tr("resident memory (MiB)"), this);
    m_memory->addSeries(tr("memory"), QColor(255, 127, 14), false);
    m_tabs->addTab(plotStack(this, {m_throughput, m_memory}), tr("Throughput"));

    m_embeddings = new EmbeddingsTab(this);
    connect(m_embeddings, &EmbeddingsTab::openCheckpointRequested, m_open, &QAction::trigger);
    connect(m_embeddings, &EmbeddingsTab::currentWeightsRequested, this, &MainWindow::useCurrentWeights);
    connect(m_embeddings, &EmbeddingsTab::embeddingsReady, this, &MainWindow::embeddingsReady);
    connect(m_embeddings, &EmbeddingsTab::failed, this, &MainWindow::showError);
    m_tabs->addTab(m_embeddings, tr("Embeddings"));

    m_runs = new widgets::RunsPanel(this);
    m_runs->addRoot(runsRoot());
    connect(m_runs, &widgets::RunsPanel::branchRequested, this, [this](const QString& checkpoint) {
        if (m_worker->isRunning()) {
            showError(tr("Stop the running training first: a branch starts a new run."));
            return;
        }
        openCheckpoint(checkpoint, CheckpointUse::Continue, [this, checkpoint] {
            log(tr("branch: edit the settings on the left, then Start; the new run records %1 as its parent").arg(checkpoint));
        });
    });
    m_tabs->addTab(m_runs, tr("Runs"));

    m_log = new QPlainTextEdit(this);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    m_tabs->addTab(m_log, tr("Log"));
    setCentralWidget(m_tabs);
}

void MainWindow::showMaskPage(int page) { m_maskPages->setCurrentIndex(page); }

} // namespace ijepa::workbench
