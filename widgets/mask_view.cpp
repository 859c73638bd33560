#include "widgets/mask_view.h"

#include "core/data/augment.h"
#include "core/eval/embeddings.h"
#include "core/errors.h"
#include "core/masks/multiblock_masks.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <random>

namespace ijepa::widgets {
namespace {

QVector<QVector<QVector<int>>> masksPerImage(const torch::Tensor& masks, int images)
{
    // masks: [num_masks, B, K] -> [image][mask] -> indices
    const auto m = masks.to(torch::kInt64).contiguous();
    const auto a = m.accessor<std::int64_t, 3>();
    QVector<QVector<QVector<int>>> out(images);
    for (int i = 0; i < images; ++i)
        for (int b = 0; b < m.size(0); ++b) {
            QVector<int> idx;
            idx.reserve(m.size(2));
            for (int k = 0; k < m.size(2); ++k)
                idx.push_back(static_cast<int>(a[b][i][k]));
            out[i].push_back(idx);
        }
    return out;
}

} // namespace

QColor targetColor(int block)
{
    static const QColor palette[] = {{230, 25, 75}, {255, 200, 25}, {60, 180, 75}, {245, 130, 48},
                                     {145, 30, 180}, {70, 240, 240}, {240, 50, 230}, {128, 128, 0}};
    return palette[block % 8];
}

QImage imageFromHwc(const torch::Tensor& hwc)
{
    const auto t = hwc.to(torch::kUInt8).contiguous();
    QImage image(static_cast<int>(t.size(1)), static_cast<int>(t.size(0)), QImage::Format_RGB888);
    for (int y = 0; y < image.height(); ++y)
        std::memcpy(image.scanLine(y), t.data_ptr<std::uint8_t>() + y * t.size(1) * 3, t.size(1) * 3);
    return image;
}

MaskSample maskSampleFromMasks(const MaskBatch& masks, int gridH, int gridW, const QVector<QImage>& images,
                               int batchSize)
{
    MaskSample s;
    const int n = std::min<int>(images.size(), static_cast<int>(masks.enc.size(1)));
    s.images = images.mid(0, n);
    s.gridH = gridH;
    s.gridW = gridW;
    s.context = masksPerImage(masks.enc.cpu(), n);
    s.targets = masksPerImage(masks.pred.cpu(), n);
    s.batchSize = batchSize;
    return s;
}

MaskSample maskSampleFromBatch(const Batch& batch, int gridH, int gridW, int maxImages)
{
    const int n = std::min<int>(maxImages, static_cast<int>(batch.images.size(0)));
    const auto pixels = denormalizeToUint8(batch.images.narrow(0, 0, n).cpu()).permute({0, 2, 3, 1});
    QVector<QImage> images;
    for (int i = 0; i < n; ++i)
        images.push_back(imageFromHwc(pixels[i]));
    MaskSample s = maskSampleFromMasks(batch.masks, gridH, gridW, images, static_cast<int>(batch.images.size(0)));
    s.iteration = batch.iteration;
    return s;
}

MaskView::MaskView(QWidget* parent)
    : QWidget(parent)
{
    setMinimumSize(200, 120);
}

void MaskView::setSample(const MaskSample& sample)
{
    m_sample = sample;
    update();
}

void MaskView::setShowGrid(bool on)
{
    m_showGrid = on;
    update();
}

void MaskView::drawTile(QPainter& p, int i, const QRect& rect) const
{
    const MaskSample& s = m_sample;
    p.drawImage(rect, s.images[i]);
    if (s.gridH <= 0 || s.gridW <= 0)
        return;
    const double ph = rect.height() / static_cast<double>(s.gridH);
    const double pw = rect.width() / static_cast<double>(s.gridW);
    const auto patchRect = [&](int idx) {
        return QRectF(rect.left() + (idx % s.gridW) * pw, rect.top() + (idx / s.gridW) * ph, pw, ph);
    };
    // Everything outside the context is dimmed, the context tinted, targets filled on top.
    std::vector<char> inContext(s.gridH * s.gridW, 0);
    for (const auto& block : s.context[i])
        for (int idx : block)
            if (idx >= 0 && idx < static_cast<int>(inContext.size()))
                inContext[idx] = 1;
    for (int idx = 0; idx < static_cast<int>(inContext.size()); ++idx)
        p.fillRect(patchRect(idx), inContext[idx] ? QColor(kContextColor.red(), kContextColor.green(), kContextColor.blue(), 70)
                                                  : QColor(0, 0, 0, 110));
    for (int b = 0; b < s.targets[i].size(); ++b) {
        QColor c = targetColor(b);
        c.setAlpha(150);
        for (int idx : s.targets[i][b])
            p.fillRect(patchRect(idx), c);
    }
    if (m_showGrid) {
        p.setPen(QPen(QColor(255, 255, 255, 120), 1));
        for (int r = 1; r < s.gridH; ++r)
            p.drawLine(QPointF(rect.left(), rect.top() + r * ph), QPointF(rect.right() + 1, rect.top() + r * ph));
        for (int c = 1; c < s.gridW; ++c)
            p.drawLine(QPointF(rect.left() + c * pw, rect.top()), QPointF(rect.left() + c * pw, rect.bottom() + 1));
    }
}

QImage MaskView::renderTile(int i, int size) const
{
    QImage out(size, size, QImage::Format_RGB32);
    out.fill(Qt::white);
    if (i < 0 || i >= m_sample.images.size())
        return out;
    QPainter p(&out);
    drawTile(p, i, QRect(0, 0, size, size));
    return out;
}

void MaskView::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.fillRect(rect(), palette().window());
    const int n = m_sample.images.size();
    if (n == 0) {
        p.drawText(rect(), Qt::AlignCenter, tr("No mask sample yet"));
        return;
    }
    // The largest square tiles that fit n images.
    int best = 0, bestCols = 1;
    for (int cols = 1; cols <= n; ++cols) {
        const int rows = (n + cols - 1) / cols;
        const int side = std::min((width() - 4 * (cols + 1)) / cols, (height() - 4 * (rows + 1)) / rows);
        if (side > best) {
            best = side;
            bestCols = cols;
        }
    }
    if (best <= 4)
        return;
    for (int i = 0; i < n; ++i) {
        const QRect r(4 + (i % bestCols) * (best + 4), 4 + (i / bestCols) * (best + 4), best, best);
        drawTile(p, i, r);
    }
}

MaskPanel::MaskPanel(QWidget* parent)
    : QWidget(parent)
    , m_view(new MaskView(this))
    , m_sampler(new QComboBox(this))
    , m_position(new QComboBox(this))
    , m_sizes(new QLabel(this))
{
    m_sampler->addItems({"multiblock", "block", "random", "rasterized"});
    m_sampler->setToolTip(tr("multiblock: the paper's sampler (1 context block minus N target blocks).\n"
                             "block: a single target block. random: random patches of the same sizes.\n"
                             "rasterized: one quadrant is the context, the other three the targets."));
    m_position->addItems({"faithful", "corrected"});
    m_position->setToolTip(tr("faithful: block positions as the reference (never touching the last row or column).\n"
                              "corrected: every position possible."));
    auto* again = new QPushButton(tr("Sample again"), this);
    m_sampleButton = again;
    auto* grid = new QCheckBox(tr("Patch grid"), this);
    connect(again, &QPushButton::clicked, this, &MaskPanel::sampleAgain);
    connect(grid, &QCheckBox::toggled, m_view, &MaskView::setShowGrid);
    const auto changed = [this] {
        if (m_config.mask.sampler == m_sampler->currentText().toStdString() &&
            m_config.mask.position_mode == m_position->currentText().toStdString())
            return;
        m_config.mask.sampler = m_sampler->currentText().toStdString();
        m_config.mask.position_mode = m_position->currentText().toStdString();
        resample();
        Q_EMIT maskSettingsChanged(m_sampler->currentText(), m_position->currentText());
    };
    connect(m_sampler, &QComboBox::currentTextChanged, this, changed);
    connect(m_position, &QComboBox::currentTextChanged, this, changed);

    auto* legend = new QLabel(this);
    QString html = QStringLiteral("<span style='color:%1'>■</span> context ").arg(kContextColor.name());
    for (int b = 0; b < 4; ++b)
        html += QStringLiteral("<span style='color:%1'>■</span> ").arg(targetColor(b).name());
    legend->setText(html + tr("targets"));

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Sampler"), this));
    controls->addWidget(m_sampler);
    controls->addWidget(new QLabel(tr("Positions"), this));
    controls->addWidget(m_position);
    controls->addWidget(again);
    controls->addWidget(grid);
    controls->addStretch(1);
    controls->addWidget(legend);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_sizes);
}

void MaskPanel::setSource(std::shared_ptr<const ImageSource> source)
{
    m_source = std::move(source);
    m_images.clear();
    if (!m_training)
        sampleAgain();
}

void MaskPanel::setConfig(const Config& config)
{
    const bool cropChanged = config.data.crop_size != m_config.data.crop_size;
    m_config = config;
    {
        const QSignalBlocker b1(m_sampler), b2(m_position);
        m_sampler->setCurrentText(QString::fromStdString(config.mask.sampler));
        m_position->setCurrentText(QString::fromStdString(config.mask.position_mode));
    }
    if (cropChanged)
        m_images.clear();
    if (!m_training)
        resample();
}

void MaskPanel::pickImages()
{
    m_images.clear();
    if (!m_source || m_source->size() == 0)
        return;
    std::mt19937_64 rng(m_draw * 7919 + 1);
    std::uniform_int_distribution<std::int64_t> pick(0, m_source->size() - 1);
    for (int tries = 0; m_images.size() < 8 && tries < 32; ++tries) {
        try {
            const auto view = evalTransform(m_source->image(pick(rng)), m_config.data.crop_size);
            m_images.push_back(imageFromHwc(denormalizeToUint8(view.unsqueeze(0))[0].permute({1, 2, 0})));
        } catch (const Error&) {
            // an unreadable file: pick another
        }
    }
}

void MaskPanel::sampleAgain()
{
    ++m_draw;
    m_images.clear();
    resample();
}

void MaskPanel::resample()
{
    if (m_training)
        return;
    const int grid = m_config.gridSize();
    try {
        validateMaskSettings(m_config.mask, grid);
        if (m_images.isEmpty())
            pickImages();
        QVector<QImage> images = m_images;
        if (images.isEmpty()) // no data chosen yet: masks on a blank canvas
            for (int i = 0; i < 8; ++i) {
                QImage blank(m_config.data.crop_size, m_config.data.crop_size, QImage::Format_RGB888);
                blank.fill(QColor(200, 200, 200));
                images.push_back(blank);
            }
        MaskSampler sampler(m_config.mask, grid, grid, static_cast<std::uint64_t>(m_config.meta.seed));
        const int batch = std::max(static_cast<int>(images.size()), m_config.data.batch_size);
        m_view->setSample(maskSampleFromMasks(sampler.sampleAt(static_cast<std::int64_t>(m_draw), batch), grid, grid,
                                              images, batch));
        m_sizes->setText(tr("Preview, draw %1: ").arg(m_draw) + sizesText());
    } catch (const std::exception& e) {
        m_view->setSample({});
        m_sizes->setText(tr("Cannot sample masks: %1").arg(QString::fromUtf8(e.what())));
    }
}

void MaskPanel::setLiveSample(const MaskSample& sample)
{
    m_view->setSample(sample);
    m_sizes->setText(tr("Training batch at iteration %1: ").arg(sample.iteration) + sizesText());
}

void MaskPanel::setTraining(bool training)
{
    m_training = training;
    m_sampler->setEnabled(!training);
    m_position->setEnabled(!training);
    m_sampleButton->setEnabled(!training);
    if (!training)
        resample();
}

QString MaskPanel::sizesText() const
{
    const MaskSample& s = m_view->sample();
    if (s.context.isEmpty())
        return {};
    const int context = s.context[0].isEmpty() ? 0 : s.context[0][0].size();
    QStringList targets;
    for (const auto& t : s.targets[0])
        targets << QString::number(t.size());
    return tr("grid %1×%2, batch %3: context %4 patches, %5 target block(s) of %6 patches (truncated to the batch minimum)")
        .arg(s.gridH)
        .arg(s.gridW)
        .arg(s.batchSize)
        .arg(context)
        .arg(s.targets[0].size())
        .arg(targets.isEmpty() ? QStringLiteral("0") : targets[0]);
}

} // namespace ijepa::widgets
