#pragma once

#include "core/config.h"
#include "core/data/data_loader.h"
#include "core/data/image_source.h"

#include <QImage>
#include <QVector>
#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;

namespace ijepa::widgets {

// A plain-value copy of a batch's masks and its first images, safe to pass between threads.
struct MaskSample {
    QVector<QImage> images;                    // RGB888, one per shown image
    int gridH = 0, gridW = 0;
    QVector<QVector<QVector<int>>> context;    // [image][context block] -> patch indices
    QVector<QVector<QVector<int>>> targets;    // [image][target block] -> patch indices
    qint64 iteration = -1;                     // the training iteration, -1 for a preview
    int batchSize = 0;
};

// Copies the first `maxImages` images (de-normalised) and their masks out of a training batch.
MaskSample maskSampleFromBatch(const Batch& batch, int gridH, int gridW, int maxImages);
// Masks sampled for a batch with the given images underneath (the first images.size() rows).
MaskSample maskSampleFromMasks(const MaskBatch& masks, int gridH, int gridW, const QVector<QImage>& images,
                               int batchSize);
// [H, W, 3] uint8 -> QImage (deep copy).
QImage imageFromHwc(const torch::Tensor& hwc);

// The colour of target block b (context is kContextColor); shared by the view and its legend.
QColor targetColor(int block);
inline const QColor kContextColor{66, 133, 244};

// Draws each image with its context patches tinted blue and each target block filled in its own
// colour, optionally with the patch grid.
class MaskView : public QWidget {
    Q_OBJECT
public:
    explicit MaskView(QWidget* parent = nullptr);
    void setSample(const MaskSample& sample);
    const MaskSample& sample() const { return m_sample; }
    void setShowGrid(bool on);
    // Renders tile i (one image and its masks) at `size` x `size` pixels.
    QImage renderTile(int i, int size) const;
    QSize sizeHint() const override { return {640, 360}; }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    void drawTile(QPainter& p, int i, const QRect& rect) const;
    MaskSample m_sample;
    bool m_showGrid = false;
};

// The mask inspector: a MaskView with the sampler and position mode switchable, "sample again",
// the patch grid toggle and per-batch sizes. Before training it previews masks for images of the
// chosen data set with the config being edited; during training it shows the batch being trained.
class MaskPanel : public QWidget {
    Q_OBJECT
public:
    explicit MaskPanel(QWidget* parent = nullptr);
    void setSource(std::shared_ptr<const ImageSource> source); // images for previews
    void setConfig(const Config& config);                       // resamples the preview at once
    void sampleAgain();
    void setLiveSample(const MaskSample& sample);               // from training
    void setTraining(bool training);
    MaskView* view() const { return m_view; }
    QString sizesText() const;

Q_SIGNALS:
    // The user switched the sampler or position mode (the config editor follows).
    void maskSettingsChanged(const QString& sampler, const QString& positionMode);

private:
    void resample();
    void pickImages();
    std::shared_ptr<const ImageSource> m_source;
    Config m_config;
    QVector<QImage> m_images;
    std::uint64_t m_draw = 0;
    MaskView* m_view;
    QComboBox* m_sampler;
    QComboBox* m_position;
    QLabel* m_sizes;
    QWidget* m_sampleButton;
    bool m_training = false;
};

} // namespace ijepa::widgets
