#include "widgets/embedding_browser.h"

#include "widgets/inspect_support.h"
#include "widgets/mask_view.h"

#include "core/data/augment.h"
#include "core/errors.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMouseEvent>
#include <QPainter>
#include <QSpinBox>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace ijepa::widgets {

EmbeddingSet computeEmbeddingSet(VisionTransformer encoder, std::shared_ptr<ImageSource> source, int crop, int patchSize,
                                 int maxImages, const EmbedProgress& progress)
{
    EmbeddingSet set;
    // maxImages images spread over the source (every class of a sorted folder), decoded on every
    // thread; unreadable ones are left out.
    const auto spread = spreadSource(source, maxImages);
    const EvalViews views = evalViews(*spread, crop);
    const auto pixels = denormalizeToUint8(views.images).permute({0, 2, 3, 1}).contiguous();
    for (std::size_t k = 0; k < views.indices.size(); ++k) {
        const auto i = views.indices[k];
        set.thumbnails.push_back(imageFromHwc(pixels[static_cast<std::int64_t>(k)]));
        set.names << QString::fromStdString(spread->name(i));
        set.labels << static_cast<int>(spread->label(i));
    }
    const auto subset = subsetSource(spread, views.indices, "browser images");
    torch::NoGradGuard noGrad;
    const Embeddings e = embedImages(encoder, *subset, crop, /*keepPatches=*/true, 64, progress);
    set.features = e.features;
    set.patches = e.patches;
    set.gridH = set.gridW = crop / patchSize;
    preparePatchViews(set);
    for (const auto& c : source->classes())
        set.classes << QString::fromStdString(c);
    return set;
}

void preparePatchViews(EmbeddingSet& set)
{
    if (!set.patches.defined())
        return;
    set.unitPatches = torch::nn::functional::normalize(set.patches.to(torch::kFloat32),
                                                     torch::nn::functional::NormalizeFuncOptions().dim(-1));
    // PCA over (a sample of) all patch tokens; colours scaled by the 1st/99th percentiles.
    const auto flat = set.patches.reshape({-1, set.patches.size(-1)}).to(torch::kFloat32);
    const auto sample = flat.size(0) > 20000 ? flat.index({torch::randperm(flat.size(0)).narrow(0, 0, 20000)}) : flat;
    const auto mean = sample.mean(0, true);
    const auto svd = torch::linalg::svd(sample - mean, /*full_matrices=*/false, c10::nullopt);
    const auto v = std::get<2>(svd).narrow(0, 0, std::min<std::int64_t>(3, std::get<2>(svd).size(0))).t();
    auto proj = (flat - mean).matmul(v);
    if (proj.size(1) < 3)
        proj = torch::cat({proj, torch::zeros({proj.size(0), 3 - proj.size(1)})}, 1);
    const auto lo = std::get<0>(proj.kthvalue(std::max<std::int64_t>(1, proj.size(0) / 100), 0));
    const auto hi = std::get<0>(proj.kthvalue(std::max<std::int64_t>(1, proj.size(0) * 99 / 100), 0));
    set.pca = ((proj - lo) / (hi - lo).clamp_min(1e-6)).clamp(0, 1).reshape({set.patches.size(0), set.patches.size(1), 3});
}

PatchCanvas::PatchCanvas(QWidget* parent)
    : QWidget(parent)
{
    setMinimumSize(160, 160);
    setCursor(Qt::CrossCursor);
}

void PatchCanvas::setImage(const QImage& image, int gridH, int gridW)
{
    m_image = image;
    m_gridH = gridH;
    m_gridW = gridW;
    update();
}

void PatchCanvas::setOverlay(const QVector<QColor>& perPatch, int marked)
{
    m_overlay = perPatch;
    m_marked = marked;
    update();
}

QRect PatchCanvas::imageRect() const
{
    const int side = std::min(width(), height());
    return {(width() - side) / 2, (height() - side) / 2, side, side};
}

int PatchCanvas::patchAt(const QPoint& pos) const
{
    const QRect r = imageRect();
    if (!r.contains(pos) || m_gridH <= 0 || m_gridW <= 0)
        return -1;
    const int col = (pos.x() - r.left()) * m_gridW / r.width();
    const int row = (pos.y() - r.top()) * m_gridH / r.height();
    return std::clamp(row, 0, m_gridH - 1) * m_gridW + std::clamp(col, 0, m_gridW - 1);
}

// An image with one colour per patch laid over it and, optionally, one patch outlined.
static void drawPatchImage(QPainter& p, const QRect& r, const QImage& image, int gridH, int gridW,
                           const QVector<QColor>& overlay, int marked)
{
    if (image.isNull())
        return;
    p.drawImage(r, image);
    if (gridH <= 0 || gridW <= 0)
        return;
    const double ph = r.height() / static_cast<double>(gridH), pw = r.width() / static_cast<double>(gridW);
    for (int i = 0; i < overlay.size(); ++i)
        p.fillRect(QRectF(r.left() + (i % gridW) * pw, r.top() + (i / gridW) * ph, pw, ph), overlay[i]);
    if (marked >= 0) {
        p.setPen(QPen(Qt::white, 2));
        p.drawRect(QRectF(r.left() + (marked % gridW) * pw, r.top() + (marked / gridW) * ph, pw, ph));
    }
}

// A `size`-pixel square rendering, drawn on a QImage (no widget: building one per tile held the UI
// thread for 60-450 ms per eight neighbours under training load).
static QImage renderPatchImage(int size, const QImage& image, int gridH, int gridW, const QVector<QColor>& overlay,
                               int marked = -1)
{
    QImage out(size, size, QImage::Format_RGB32);
    out.fill(Qt::black);
    QPainter p(&out);
    drawPatchImage(p, QRect(0, 0, size, size), image, gridH, gridW, overlay, marked);
    return out;
}

QImage PatchCanvas::rendered(int size) const
{
    return renderPatchImage(size, m_image, m_gridH, m_gridW, m_overlay, m_marked);
}

void PatchCanvas::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    drawPatchImage(p, imageRect(), m_image, m_gridH, m_gridW, m_overlay, m_marked);
}

void PatchCanvas::mousePressEvent(QMouseEvent* event)
{
    const int patch = patchAt(event->position().toPoint());
    m_pressed = patch;
    if (patch >= 0)
        Q_EMIT patchClicked(patch);
}

void PatchCanvas::mouseReleaseEvent(QMouseEvent* event)
{
    const int patch = patchAt(event->position().toPoint());
    if (m_pressed >= 0 && patch >= 0)
        Q_EMIT patchDragged(m_pressed, patch);
    m_pressed = -1;
}

EmbeddingBrowser::EmbeddingBrowser(QWidget* parent)
    : QWidget(parent)
    , m_header(new QLabel(tr("No embeddings yet: open a checkpoint, or take the current weights while training."), this))
    , m_modeBox(new QComboBox(this))
    , m_kBox(new QSpinBox(this))
    , m_gallery(new QListWidget(this))
    , m_canvas(new PatchCanvas(this))
    , m_caption(new QLabel(this))
    , m_neighbourList(new QListWidget(this))
{
    m_modeBox->addItems({tr("Images"), tr("Patches"), tr("PCA of patch features")});
    m_modeBox->setToolTip(tr("Images: nearest neighbours by pooled embedding.\n"
                             "Patches: click a patch to see how similar every patch is to it.\n"
                             "PCA: the first three principal components of the patch tokens as RGB."));
    m_kBox->setRange(1, 64);
    m_kBox->setValue(m_k);
    for (QListWidget* list : {m_gallery, m_neighbourList}) {
        list->setViewMode(QListView::IconMode);
        list->setResizeMode(QListView::Adjust);
        list->setMovement(QListView::Static);
        list->setUniformItemSizes(true);
    }
    m_gallery->setIconSize({56, 56});
    // The selected image is framed in the highlight colour (the style's own mark is a few pixels
    // under an empty caption); every item keeps a transparent frame so nothing moves.
    m_gallery->setStyleSheet(QStringLiteral("QListView::item { border: 3px solid transparent; padding: 1px; }"
                                            "QListView::item:selected { border: 3px solid palette(highlight); "
                                            "background: transparent; }"));
    m_neighbourList->setIconSize({96, 96});
    m_caption->setWordWrap(true);

    connect(m_gallery, &QListWidget::currentRowChanged, this, &EmbeddingBrowser::selectImage);
    connect(m_neighbourList, &QListWidget::itemDoubleClicked, this,
            [this](QListWidgetItem* item) { selectImage(item->data(Qt::UserRole).toInt()); });
    connect(m_canvas, &PatchCanvas::patchClicked, this, &EmbeddingBrowser::selectPatch);
    connect(m_modeBox, &QComboBox::currentIndexChanged, this, [this](int i) { setMode(static_cast<Mode>(i)); });
    connect(m_kBox, &QSpinBox::valueChanged, this, &EmbeddingBrowser::setK);

    auto* controls = new QHBoxLayout;
    controls->addWidget(m_header, 1);
    controls->addWidget(new QLabel(tr("View"), this));
    controls->addWidget(m_modeBox);
    controls->addWidget(new QLabel(tr("k"), this));
    controls->addWidget(m_kBox);
    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->addWidget(m_canvas, 2);
    rightLayout->addWidget(m_caption);
    rightLayout->addWidget(m_neighbourList, 2);
    auto* split = new QSplitter(this);
    split->addWidget(m_gallery);
    split->addWidget(right);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(controls);
    layout->addWidget(split, 1);
}

void EmbeddingBrowser::setStatus(const QString& text)
{
    m_header->setText(text);
}

void EmbeddingBrowser::setEmbeddings(EmbeddingSet set)
{
    m_set = std::move(set);
    // Neighbours by the cosine of centred features: pooled ViT features share a large common
    // component (every raw cosine 0.99+ on a young run), which the mean takes out; the raw cosine
    // is shown beside it.
    const auto features = m_set.features.to(torch::kFloat32);
    m_index.emplace(features - features.mean(0, true));
    m_unitFeatures = torch::nn::functional::normalize(features, torch::nn::functional::NormalizeFuncOptions().dim(1));
    if (m_set.patches.defined() && !m_set.pca.defined())
        preparePatchViews(m_set); // usually done by computeEmbeddingSet, off the UI thread
    m_unitPatches = m_set.unitPatches;
    m_pca = m_set.pca;
    m_header->setText(tr("%1 images, %2-d embeddings, %3×%4 patches — %5")
                          .arg(m_set.features.size(0))
                          .arg(m_set.features.size(1))
                          .arg(m_set.gridH)
                          .arg(m_set.gridW)
                          .arg(m_set.origin));
    m_gallery->clear();
    fillGallery(0, ++m_generation);
    m_selected = -1;
    m_patch = -1;
    selectImage(0);
}

// Thumbnails go in 100 at a time, one batch per turn of the event loop: a thousand icons at once
// would hold the UI thread for a noticeable moment.
void EmbeddingBrowser::fillGallery(int from, int generation)
{
    if (generation != m_generation)
        return; // a newer set replaced this one
    const int to = std::min<int>(static_cast<int>(m_set.thumbnails.size()), from + 100);
    for (int i = from; i < to; ++i) {
        auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(m_set.thumbnails[i])), QString(), m_gallery);
        item->setToolTip(m_set.names.value(i));
    }
    if (to < m_set.thumbnails.size())
        QTimer::singleShot(0, this, [this, to, generation] { fillGallery(to, generation); });
}

void EmbeddingBrowser::selectImage(int index)
{
    if (!m_index || index < 0 || index >= m_set.features.size(0))
        return;
    m_selected = index;
    if (m_gallery->currentRow() != index) {
        const QSignalBlocker block(m_gallery);
        m_gallery->setCurrentRow(index);
    }
    if (m_patch < 0 || m_patch >= m_set.gridH * m_set.gridW)
        m_patch = (m_set.gridH / 2) * m_set.gridW + m_set.gridW / 2;
    m_canvas->setImage(m_set.thumbnails.value(index), m_set.gridH, m_set.gridW);
    m_hits = m_index->queryItem(index, m_k);
    refreshNeighbours();
    Q_EMIT imageSelected(index);
}

void EmbeddingBrowser::selectPatch(int patch)
{
    m_patch = patch;
    if (m_mode != Mode::Patches)
        setMode(Mode::Patches);
    else
        refreshNeighbours();
}

void EmbeddingBrowser::setMode(Mode mode)
{
    m_mode = mode;
    if (m_modeBox->currentIndex() != static_cast<int>(mode)) {
        const QSignalBlocker block(m_modeBox);
        m_modeBox->setCurrentIndex(static_cast<int>(mode));
    }
    refreshNeighbours();
}

void EmbeddingBrowser::setK(int k)
{
    m_k = k;
    if (m_kBox->value() != k) {
        const QSignalBlocker block(m_kBox);
        m_kBox->setValue(k);
    }
    selectImage(m_selected);
}

torch::Tensor EmbeddingBrowser::patchSimilarities(int image) const
{
    if (!m_unitPatches.defined() || m_selected < 0 || m_patch < 0)
        return {};
    return m_unitPatches[image].matmul(m_unitPatches[m_selected][m_patch]);
}

QVector<QColor> EmbeddingBrowser::pcaColours(int image) const
{
    QVector<QColor> colours;
    if (!m_pca.defined())
        return colours;
    const auto a = m_pca[image].contiguous();
    const auto acc = a.accessor<float, 2>();
    for (int i = 0; i < a.size(0); ++i)
        colours.push_back(QColor::fromRgbF(acc[i][0], acc[i][1], acc[i][2], 0.85f));
    return colours;
}

QVector<QColor> EmbeddingBrowser::overlayFor(int image) const
{
    if (m_mode == Mode::Pca)
        return pcaColours(image);
    if (m_mode == Mode::Patches) {
        const auto sims = patchSimilarities(image);
        QVector<QColor> colours;
        if (!sims.defined())
            return colours;
        // Colours span the selected image's own range of similarities (its least similar patch
        // is dark, the clicked patch itself, 1, is red), the same scale for every neighbour.
        const auto a = sims.contiguous();
        const auto acc = a.accessor<float, 1>();
        for (int i = 0; i < a.size(0); ++i)
            colours.push_back(heatColour((acc[i] - m_heatLow) / std::max(1e-6, 1.0 - m_heatLow)));
        return colours;
    }
    return {};
}

QImage EmbeddingBrowser::tile(int image) const
{
    return renderPatchImage(96, m_set.thumbnails.value(image), m_set.gridH, m_set.gridW, overlayFor(image));
}

void EmbeddingBrowser::refreshNeighbours()
{
    if (m_selected < 0)
        return;
    const auto label = [this](int i) {
        const int l = m_set.labels.value(i, -1);
        return l >= 0 && l < m_set.classes.size() ? m_set.classes[l] : (l >= 0 ? QString::number(l) : QString());
    };
    const auto ownSims = patchSimilarities(m_selected);
    m_heatLow = ownSims.defined() ? ownSims.min().item<double>() : 0.0; // one scale for every heat map
    m_canvas->setOverlay(overlayFor(m_selected), m_mode == Mode::Patches ? m_patch : -1);
    QString caption = tr("%1 %2").arg(m_set.names.value(m_selected), label(m_selected));
    if (m_mode == Mode::Patches)
        caption += tr(" — patch %1 (row %2, column %3): heat = cosine similarity of its token to every patch, "
                      "from %4 (dark) to 1 (red)")
                       .arg(m_patch)
                       .arg(m_patch / std::max(1, m_set.gridW))
                       .arg(m_patch % std::max(1, m_set.gridW))
                       .arg(m_heatLow, 0, 'f', 3);
    m_caption->setText(caption);
    m_neighbourList->clear();
    for (const auto& hit : m_hits) {
        const int i = static_cast<int>(hit.index);
        const double raw = m_unitFeatures[m_selected].dot(m_unitFeatures[i]).item<double>();
        auto* item = new QListWidgetItem(QIcon(QPixmap::fromImage(tile(i))),
                                         tr("%1 (raw %2)\n%3").arg(hit.similarity, 0, 'f', 3).arg(raw, 0, 'f', 4).arg(label(i)),
                                         m_neighbourList);
        item->setData(Qt::UserRole, i);
        item->setToolTip(tr("%1\ncosine of the features less their mean over the set: %2; of the raw features: %3")
                             .arg(m_set.names.value(i))
                             .arg(hit.similarity, 0, 'f', 4)
                             .arg(raw, 0, 'f', 6));
    }
}

} // namespace ijepa::widgets
