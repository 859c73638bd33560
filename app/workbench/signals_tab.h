#pragma once

#include "core/train/observer.h"
#include "widgets/health_panel.h"
#include "widgets/predictor_loss_view.h"
#include "widgets/spectrum_plot.h"

#include <QWidget>

namespace ijepa::workbench {

// "Is it learning?": the health verdict above the spectrum of the probe features and the map of
// where the predictor fails, updated at every diagnostic step of the run.
class SignalsTab : public QWidget {
    Q_OBJECT
public:
    explicit SignalsTab(QWidget* parent = nullptr);

    void showSignals(const StepReport& report); // a report with signals
    void clear();

    widgets::HealthPanel* health() const { return m_health; }
    widgets::SpectrumPlot* spectrum() const { return m_spectrum; }
    widgets::PredictorLossView* predictorLoss() const { return m_predictor; }

private:
    widgets::HealthPanel* m_health;
    widgets::SpectrumPlot* m_spectrum;
    widgets::PredictorLossView* m_predictor;
};

} // namespace ijepa::workbench
