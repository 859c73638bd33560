#pragma once

#include "core/eval/embeddings.h"
#include "core/data/image_source.h"
#include "core/eval/nn_index.h"

#include <QImage>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QListWidget;
class QSpinBox;

namespace ijepa::widgets {

// Image embeddings and patch tokens with their thumbnails, ready to browse.
struct EmbeddingSet {
    QVector<QImage> thumbnails; // the evaluation views the encoder saw
    torch::Tensor features;     // [N, D] average-pooled patch tokens
    torch::Tensor patches;      // [N, P, D] patch tokens (P = gridH * gridW)
    int gridH = 0, gridW = 0;
    QStringList names;
    QVector<int> labels;
    QStringList classes;
    QString origin;             // where the weights came from, for the header
    torch::Tensor unitPatches;  // [N, P, D] L2-normalised patch tokens (preparePatchViews)
    torch::Tensor pca;          // [N, P, 3] in [0, 1]: the first three principal components
};

// Fills unitPatches and pca from patches (the browser's heavy preparation, for a worker thread).
void preparePatchViews(EmbeddingSet& set);

// Embeds the readable images among `maxImages` spread over `source` with `encoder` (evaluation view at
// `crop`), keeping patch tokens; unreadable images are left out.
EmbeddingSet computeEmbeddingSet(VisionTransformer encoder, std::shared_ptr<ImageSource> source, int crop, int patchSize,
                                 int maxImages, const EmbedProgress& progress = {});

// A square view of one image with an optional per-patch overlay (heat map or PCA colours);
// clicking reports the patch under the mouse.
class PatchCanvas : public QWidget {
    Q_OBJECT
public:
    explicit PatchCanvas(QWidget* parent = nullptr);
    void setImage(const QImage& image, int gridH, int gridW);
    void setOverlay(const QVector<QColor>& perPatch, int marked = -1); // empty: none
    QImage rendered(int size) const;
    QSize sizeHint() const override { return {320, 320}; }
    int patchAt(const QPoint& pos) const;

Q_SIGNALS:
    void patchClicked(int patch);
    // The mouse went down on patch `from` and up on patch `to` (the same patch for a click).
    void patchDragged(int from, int to);

protected:
    void paintEvent(QPaintEvent*) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    QRect imageRect() const;
    QImage m_image;
    int m_gridH = 0, m_gridW = 0;
    QVector<QColor> m_overlay;
    int m_marked = -1;
    int m_pressed = -1;
};

// Browses a checkpoint's embeddings: a grid of thumbnails; selecting one lists its k nearest
// neighbours (cosine) with similarities. Patch mode: click a patch of the selected image to see
// the cosine similarity of its token to every patch of the image and of the neighbours as a heat
// map. PCA mode: the first three principal components of the patch tokens as RGB.
class EmbeddingBrowser : public QWidget {
    Q_OBJECT
public:
    enum class Mode { Images, Patches, Pca };
    explicit EmbeddingBrowser(QWidget* parent = nullptr);

    void setEmbeddings(EmbeddingSet set);
    const EmbeddingSet& embeddings() const { return m_set; }
    void selectImage(int index);
    void selectPatch(int patch);
    void setMode(Mode mode);
    void setK(int k);
    void setStatus(const QString& text); // e.g. progress while embeddings are computed

    int selectedImage() const { return m_selected; }
    const std::vector<CosineIndex::Hit>& neighbours() const { return m_hits; }
    // Cosine similarity of the selected patch's token to each patch of image `image` ([P]).
    torch::Tensor patchSimilarities(int image) const;
    // Per-patch RGB of the PCA view for image `image`.
    QVector<QColor> pcaColours(int image) const;
    PatchCanvas* canvas() const { return m_canvas; }
    QListWidget* neighbourList() const { return m_neighbourList; }
    QListWidget* gallery() const { return m_gallery; }

Q_SIGNALS:
    void imageSelected(int index);

private:
    void fillGallery(int from, int generation);
    void refreshNeighbours();
    QVector<QColor> overlayFor(int image) const;
    QImage tile(int image) const;

    EmbeddingSet m_set;
    std::optional<CosineIndex> m_index; // on the centred features
    torch::Tensor m_unitFeatures;        // the raw features, unit rows (the raw cosine beside the centred one)
    torch::Tensor m_unitPatches; // [N, P, D] L2-normalised
    torch::Tensor m_pca;         // [N, P, 3] in [0, 1]
    std::vector<CosineIndex::Hit> m_hits;
    int m_selected = -1;
    int m_patch = -1;
    int m_k = 8;
    double m_heatLow = 0; // the selected image's lowest patch similarity: dark in every heat map
    Mode m_mode = Mode::Images;
    int m_generation = 0; // of the set being shown (the gallery fills in batches)

    QLabel* m_header;
    QComboBox* m_modeBox;
    QSpinBox* m_kBox;
    QListWidget* m_gallery;
    PatchCanvas* m_canvas;
    QLabel* m_caption;
    QListWidget* m_neighbourList;
};

} // namespace ijepa::widgets
