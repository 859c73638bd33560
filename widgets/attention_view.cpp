#include "widgets/attention_view.h"

#include "core/eval/attention_maps.h"
#include "widgets/embedding_browser.h"
#include "widgets/inspect_support.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QVBoxLayout>

namespace ijepa::widgets {
namespace {

QVector<double> toVector(const torch::Tensor& t)
{
    const auto d = t.to(torch::kDouble).contiguous();
    return QVector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

} // namespace

AttentionView::AttentionView(QWidget* parent)
    : QWidget(parent)
    , m_encoder(new QComboBox(this))
    , m_layer(new QSpinBox(this))
    , m_head(new QComboBox(this))
    , m_caption(new QLabel(tr("Open a checkpoint or take the current weights, then pick an image."), this))
    , m_queryCanvas(new PatchCanvas(this))
    , m_overallCanvas(new PatchCanvas(this))
    , m_runner(new LatestJobRunner(this))
{
    m_encoder->addItems({tr("target encoder"), tr("context encoder")});
    m_layer->setRange(0, 0);
    m_layer->setToolTip(tr("Transformer block (0 = first)"));
    m_head->addItem(tr("mean over heads"));
    m_caption->setWordWrap(true);
    m_queryCanvas->setToolTip(tr("Click a patch: its attention over the image"));
    connect(m_encoder, &QComboBox::currentIndexChanged, this, &AttentionView::recompute);
    connect(m_layer, &QSpinBox::valueChanged, this, &AttentionView::recompute);
    connect(m_head, &QComboBox::currentIndexChanged, this, &AttentionView::redraw);
    connect(m_queryCanvas, &PatchCanvas::patchClicked, this, &AttentionView::setQuery);

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Encoder"), this));
    controls->addWidget(m_encoder);
    controls->addWidget(new QLabel(tr("Block"), this));
    controls->addWidget(m_layer);
    controls->addWidget(new QLabel(tr("Head"), this));
    controls->addWidget(m_head);
    controls->addStretch();
    auto* canvases = new QGridLayout;
    canvases->addWidget(new QLabel(tr("Attention of the clicked patch (outlined)"), this), 0, 0);
    canvases->addWidget(new QLabel(tr("Every query's attention averaged"), this), 0, 1);
    canvases->addWidget(m_queryCanvas, 1, 0);
    canvases->addWidget(m_overallCanvas, 1, 1);
    canvases->setRowStretch(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addLayout(canvases, 1);
    layout->addWidget(m_caption);
}

void AttentionView::setModel(std::shared_ptr<IJepaModel> model, const QString& origin)
{
    m_model = std::move(model);
    m_origin = origin;
    if (!m_model)
        return;
    const int depth = static_cast<int>(m_model->targetEncoder->blocks->size());
    const int heads = m_model->targetEncoder->options.numHeads;
    {
        const QSignalBlocker b1(m_layer), b2(m_head);
        const bool wasLast = m_layer->value() == m_layer->maximum();
        m_layer->setRange(0, depth - 1);
        if (wasLast)
            m_layer->setValue(depth - 1);
        const int head = m_head->currentIndex();
        m_head->clear();
        m_head->addItem(tr("mean over heads"));
        for (int h = 0; h < heads; ++h)
            m_head->addItem(tr("head %1").arg(h));
        m_head->setCurrentIndex(head <= heads ? std::max(0, head) : 0);
    }
    recompute();
}

void AttentionView::setImage(const QImage& view, int gridH, int gridW, const QString& name)
{
    m_image = view;
    m_name = name;
    if (m_gridH != gridH || m_gridW != gridW || m_query < 0 || m_query >= gridH * gridW)
        m_query = (gridH / 2) * gridW + gridW / 2;
    m_gridH = gridH;
    m_gridW = gridW;
    m_queryCanvas->setImage(view, gridH, gridW);
    m_overallCanvas->setImage(view, gridH, gridW);
    recompute();
}

void AttentionView::setEncoder(bool context) { m_encoder->setCurrentIndex(context ? 1 : 0); }
void AttentionView::setLayer(int layer) { m_layer->setValue(layer); }
void AttentionView::setHead(int head) { m_head->setCurrentIndex(head + 1); }
bool AttentionView::busy() const { return m_runner->busy(); }

void AttentionView::setQuery(int patch)
{
    m_query = patch;
    redraw();
}

void AttentionView::recompute()
{
    if (!m_model || m_image.isNull())
        return;
    auto encoder = m_encoder->currentIndex() == 1 ? m_model->encoder : m_model->targetEncoder;
    const auto model = m_model; // keeps the networks alive while the job runs
    const int layer = m_layer->value();
    const auto view = normalizedView(m_image);
    m_caption->setText(tr("Computing the attention of block %1…").arg(layer));
    m_runner->run([this, model, encoder, layer, view]() mutable -> LatestJobRunner::Done {
        torch::Tensor maps;
        QString error;
        try {
            maps = attentionMaps(encoder, view.unsqueeze(0), layer)[0];
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        return [this, maps, error] {
            if (!error.isEmpty()) {
                m_caption->setText(error);
                return;
            }
            m_maps = maps;
            redraw();
        };
    });
}

void AttentionView::redraw()
{
    if (!m_maps.defined() || m_query < 0 || m_query >= m_maps.size(1))
        return;
    const int head = m_head->currentIndex() - 1;
    const auto row = toVector(attentionRow(m_maps, head, m_query));
    const auto overall = toVector(attentionRow(m_maps, head, -1));
    const auto minOf = [](const QVector<double>& v) { return *std::min_element(v.begin(), v.end()); };
    const auto maxOf = [](const QVector<double>& v) { return *std::max_element(v.begin(), v.end()); };
    // One scale from 0 that reaches at least 4x uniform attention (1/N): a near-uniform map looks
    // flat instead of being stretched to full contrast; the caption gives the numbers.
    const double uniform = 1.0 / std::max(1, static_cast<int>(row.size()));
    const double top = std::max({maxOf(row), maxOf(overall), 4 * uniform});
    m_colourTop = top;
    m_queryCanvas->setOverlay(heatOverlay(row, 0.0, top), m_query);
    m_overallCanvas->setOverlay(heatOverlay(overall, 0.0, top));
    m_caption->setText(tr("%1, block %2 of %3, %4, %5: patch %6 attends most to patch %7 (%8 of its attention); "
                          "colours run from 0 (dark) to %10 (red), uniform attention being 1/%11 = %12; this "
                          "patch's weights span %13-%8. Weights: %9.")
                           .arg(m_encoder->currentText())
                           .arg(m_layer->value())
                           .arg(m_layer->maximum() + 1)
                           .arg(m_head->currentText(), m_name)
                           .arg(m_query)
                           .arg(std::max_element(row.begin(), row.end()) - row.begin())
                           .arg(maxOf(row), 0, 'f', 3)
                           .arg(m_origin)
                           .arg(top, 0, 'f', 3)
                           .arg(row.size())
                           .arg(uniform, 0, 'f', 4)
                           .arg(minOf(row), 0, 'f', 3));
    Q_EMIT updated();
}

} // namespace ijepa::widgets
