#include "widgets/predictor_view.h"

#include "core/masks/multiblock_masks.h"
#include "widgets/inspect_support.h"
#include "widgets/mask_view.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ijepa::widgets {

PredictorView::PredictorView(QWidget* parent)
    : QWidget(parent)
    , m_drawMode(new QComboBox(this))
    , m_caption(new QLabel(tr("Open a checkpoint or take the current weights, then pick an image."), this))
    , m_input(new PatchCanvas(this))
    , m_predicted(new PatchCanvas(this))
    , m_truth(new PatchCanvas(this))
    , m_cosine(new PatchCanvas(this))
    , m_runner(new LatestJobRunner(this))
{
    m_drawMode->addItems({tr("Drag draws the context block"), tr("Drag adds a target block")});
    auto* sample = new QPushButton(tr("Sample masks"), this);
    sample->setToolTip(tr("A new context and targets from the config's mask sampler"));
    auto* clear = new QPushButton(tr("Clear targets"), this);
    m_caption->setWordWrap(true);
    m_input->setToolTip(tr("Drag with the mouse to draw a block (see the mode on the left)"));
    connect(sample, &QPushButton::clicked, this, [this] { sampleMasks(m_sampleIteration + 1); });
    connect(clear, &QPushButton::clicked, this, [this] { setMasks(m_context, {}); });
    connect(m_input, &PatchCanvas::patchDragged, this,
            [this](int from, int to) { drawBlock(from, to, m_drawMode->currentIndex() == 1); });

    auto* controls = new QHBoxLayout;
    controls->addWidget(sample);
    controls->addWidget(m_drawMode);
    controls->addWidget(clear);
    controls->addStretch();
    m_grid = new QGridLayout;
    const QString titles[] = {tr("Context (blue) and targets"), tr("Nearest patch to each prediction"),
                              tr("Nearest patch to each true target"), tr("cos(prediction, target)")};
    PatchCanvas* canvases[] = {m_input, m_predicted, m_truth, m_cosine};
    for (int i = 0; i < 4; ++i) {
        auto* title = new QLabel(titles[i], this);
        title->setWordWrap(true);
        m_cells << title << canvases[i];
    }
    arrange(4);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addLayout(m_grid, 1);
    layout->addWidget(m_caption);
}

void PredictorView::arrange(int columns)
{
    if (columns == m_columns)
        return;
    m_columns = columns;
    for (QWidget* w : m_cells)
        m_grid->removeWidget(w);
    for (int r = 0; r < 4; ++r)
        m_grid->setRowStretch(r, 0);
    for (int i = 0; i < 4; ++i) {
        const int row = 2 * (i / columns), column = i % columns;
        m_grid->addWidget(m_cells[2 * i], row, column);
        m_grid->addWidget(m_cells[2 * i + 1], row + 1, column);
        m_grid->setRowStretch(row + 1, 1); // the pictures take the height, the titles what they need
    }
}

void PredictorView::resizeEvent(QResizeEvent* event)
{
    // The four pictures are squares: in a row when the view is wide, 2 x 2 when that makes them
    // larger (a tall view would leave its lower half blank otherwise).
    const double w = width(), h = std::max(1, height() - 120); // controls, titles and caption
    arrange(std::min(w / 4, h) >= std::min(w / 2, h / 2) ? 4 : 2);
    QWidget::resizeEvent(event);
}

void PredictorView::setModel(std::shared_ptr<IJepaModel> model, const Config& config)
{
    m_model = std::move(model);
    m_config = config;
    m_haveConfig = true;
    m_gridH = m_gridW = config.gridSize();
    if (m_context.empty())
        sampleMasks(m_sampleIteration);
    else
        rerun();
}

void PredictorView::setEmbeddings(const EmbeddingSet& set)
{
    m_thumbnails = set.thumbnails;
    m_bankTokens = set.patches;
    m_bank.reset();
    m_bankHwc.reset();
    m_image = -1;
}

void PredictorView::setImage(int index)
{
    if (index < 0 || index >= m_thumbnails.size())
        return;
    m_image = index;
    showInput();
    rerun();
}

bool PredictorView::busy() const { return m_runner->busy(); }

void PredictorView::sampleMasks(std::int64_t iteration)
{
    if (!m_haveConfig)
        return;
    m_sampleIteration = iteration;
    try {
        const MaskSampler sampler(m_config.mask, m_gridH, m_gridW, static_cast<std::uint64_t>(m_config.meta.seed));
        const MaskDraw draw = sampler.drawAt(iteration, 1);
        setMasks(draw.enc.front().front(), draw.pred.front());
    } catch (const std::exception& e) {
        m_caption->setText(QString::fromUtf8(e.what()));
    }
}

void PredictorView::setMasks(std::vector<std::int64_t> context, std::vector<std::vector<std::int64_t>> targets)
{
    m_targets = std::move(targets);
    removeTargetPatches(context, m_targets);
    m_context = std::move(context);
    showInput();
    rerun();
}

void PredictorView::drawBlock(int from, int to, bool asTarget)
{
    if (m_gridW <= 0)
        return;
    const int r0 = std::min(from / m_gridW, to / m_gridW), r1 = std::max(from / m_gridW, to / m_gridW);
    const int c0 = std::min(from % m_gridW, to % m_gridW), c1 = std::max(from % m_gridW, to % m_gridW);
    std::vector<std::int64_t> block;
    for (int r = r0; r <= r1; ++r)
        for (int c = c0; c <= c1; ++c)
            block.push_back(r * m_gridW + c);
    if (asTarget) {
        auto targets = m_targets;
        targets.push_back(block);
        setMasks(m_context, targets);
    } else {
        setMasks(block, m_targets);
    }
}

void PredictorView::showInput()
{
    if (m_image < 0 || m_gridH <= 0)
        return;
    QVector<QColor> overlay(m_gridH * m_gridW, QColor(0, 0, 0, 0));
    for (auto p : m_context)
        overlay[static_cast<int>(p)] = QColor(kContextColor.red(), kContextColor.green(), kContextColor.blue(), 110);
    for (size_t b = 0; b < m_targets.size(); ++b)
        for (auto p : m_targets[b]) {
            QColor c = targetColor(static_cast<int>(b));
            c.setAlpha(150);
            overlay[static_cast<int>(p)] = c;
        }
    m_input->setImage(m_thumbnails.value(m_image), m_gridH, m_gridW);
    m_input->setOverlay(overlay);
}

void PredictorView::rerun()
{
    if (!m_model || m_image < 0 || m_context.empty() || m_targets.empty() || !m_bankTokens.defined()) {
        if (m_targets.empty() && m_image >= 0)
            m_caption->setText(tr("No target block: drag one on the left (mode \"adds a target block\")."));
        return;
    }
    const auto model = m_model;
    const auto view = normalizedView(m_thumbnails.value(m_image));
    const auto context = m_context;
    const auto targets = m_targets;
    const std::int64_t image = m_image;
    const auto tokens = m_bankTokens;
    auto bank = m_bank;
    auto bankHwc = m_bankHwc;
    const auto thumbnails = m_bankHwc ? QVector<QImage>{} : m_thumbnails;
    m_runner->run([=, this]() mutable -> LatestJobRunner::Done {
        QString error;
        PredictorProbe probe;
        try {
            if (!bank)
                bank = std::make_shared<PatchBank>(patchBankFromTokens(tokens));
            if (!bankHwc) {
                std::vector<torch::Tensor> images;
                for (const auto& t : thumbnails)
                    images.push_back(hwcFromImage(t));
                bankHwc = std::make_shared<torch::Tensor>(torch::stack(images));
            }
            probe = probePredictor(*model, view, context, targets, *bank, image);
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        return [this, probe, error, bank, bankHwc] {
            if (!error.isEmpty()) {
                m_caption->setText(error);
                return;
            }
            m_bank = bank;
            m_bankHwc = bankHwc;
            m_probe = probe;
            showProbe();
        };
    });
}

void PredictorView::showProbe()
{
    if (m_image < 0 || !m_bankHwc)
        return;
    const auto image = hwcFromImage(m_thumbnails.value(m_image));
    const auto toImage = [](const torch::Tensor& hwc) { return imageFromHwc(hwc); };
    m_predicted->setImage(toImage(assembleRetrieved(image, m_gridW, m_probe, *m_bankHwc, true)), m_gridH, m_gridW);
    m_truth->setImage(toImage(assembleRetrieved(image, m_gridW, m_probe, *m_bankHwc, false)), m_gridH, m_gridW);
    QVector<double> cosine(m_gridH * m_gridW, std::nan(""));
    for (const auto& block : m_probe.blocks)
        for (size_t i = 0; i < block.patches.size(); ++i)
            cosine[static_cast<int>(block.patches[i])] = block.cosine[i];
    m_cosine->setImage(m_thumbnails.value(m_image), m_gridH, m_gridW);
    m_cosine->setOverlay(heatOverlay(cosine, -1.0, 1.0, 220));
    m_caption->setText(tr("%1 context patches, %2 target blocks. Mean cos(prediction, target) %3 (colour: -1 dark .. +1 "
                          "red). Retrieval: the nearest of %4 bank images x %5 patch tokens of the target encoder, the "
                          "selected image left out.")
                           .arg(m_context.size())
                           .arg(m_probe.blocks.size())
                           .arg(m_probe.meanCosine, 0, 'f', 3)
                           .arg(m_bank ? m_bank->images : 0)
                           .arg(m_bank ? m_bank->patchesPerImage : 0));
    Q_EMIT updated();
}

} // namespace ijepa::widgets
