#include "app/workbench/signals_tab.h"

#include <QHBoxLayout>
#include <QVBoxLayout>

namespace ijepa::workbench {
namespace {

template <class T>
QVector<T> toQVector(const std::vector<T>& v)
{
    return QVector<T>(v.begin(), v.end());
}

} // namespace

SignalsTab::SignalsTab(QWidget* parent)
    : QWidget(parent)
    , m_health(new widgets::HealthPanel(this))
    , m_spectrum(new widgets::SpectrumPlot(this))
    , m_predictor(new widgets::PredictorLossView(this))
{
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_health);
    auto* row = new QHBoxLayout;
    row->addWidget(m_spectrum, 1);
    row->addWidget(m_predictor, 1);
    layout->addLayout(row, 1);
}

void SignalsTab::showSignals(const StepReport& r)
{
    const Signals& s = *r.signals;
    QVector<widgets::HealthPanel::Line> lines;
    for (const HealthLine& l : s.verdict)
        lines.push_back({QString::fromStdString(l.state), QString::fromStdString(l.text), QString::fromStdString(l.hint), l.warning});
    if (!lines.isEmpty())
        m_health->setVerdict(r.iteration, lines);
    if (!s.spectrum.empty())
        m_spectrum->addSpectrum(r.iteration, toQVector(s.spectrum), r.rankMe);
    if (!s.positionLoss.empty()) {
        QVector<QPair<int, double>> bySize;
        for (const auto& [size, loss] : s.sizeLoss)
            bySize.push_back({size, loss});
        m_predictor->setLosses(r.iteration, s.windowSteps, s.gridSize, toQVector(s.positionLoss), toQVector(s.blockLoss), bySize);
    }
}

void SignalsTab::clear()
{
    m_spectrum->clear();
}

} // namespace ijepa::workbench
