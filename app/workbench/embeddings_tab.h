#pragma once

#include "core/config.h"
#include "core/data/image_source.h"
#include "core/model/vision_transformer.h"
#include "widgets/attention_view.h"
#include "widgets/embedding_browser.h"
#include "widgets/predictor_view.h"

#include <QWidget>

#include <memory>

class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;

namespace ijepa::workbench {

// The Embeddings tab: the embedding browser with its controls (open a checkpoint, take the current
// weights, how many held-out images) and the embedding job, which runs off the UI thread and
// reports its progress in the tab; beside the browser's neighbours, the attention maps and the
// predictor view of the image selected in it (with all three networks of the same weights).
class EmbeddingsTab : public QWidget {
    Q_OBJECT
public:
    explicit EmbeddingsTab(QWidget* parent = nullptr);

    widgets::EmbeddingBrowser* browser() const { return m_browser; }
    widgets::AttentionView* attentionView() const { return m_attention; }
    widgets::PredictorView* predictorView() const { return m_predictor; }
    void showPage(int page); // 0 neighbours, 1 attention, 2 predictor
    bool busy() const { return m_jobs > 0 || m_attention->busy() || m_predictor->busy(); }
    // "Current weights" takes a snapshot of a running training: enabled only while one runs.
    void setTrainingRunning(bool running);
    bool currentWeightsEnabled() const;
    // Embeds the first images of `source` (as many as the tab says) with `encoder` on a worker
    // thread; embeddingsReady or failed follow on the UI thread. `model` (all three networks of
    // the same weights; may be null) feeds the attention and predictor views.
    void embed(VisionTransformer encoder, std::shared_ptr<ImageSource> source, const Config& config, const QString& origin,
               std::shared_ptr<IJepaModel> model = nullptr);

Q_SIGNALS:
    void openCheckpointRequested();
    void currentWeightsRequested();
    void embeddingsReady();
    void failed(const QString& message);

private:
    void imageSelected(int index);

    widgets::EmbeddingBrowser* m_browser = nullptr;
    widgets::AttentionView* m_attention = nullptr;
    widgets::PredictorView* m_predictor = nullptr;
    QTabWidget* m_pages = nullptr;
    QSpinBox* m_images = nullptr;
    QPushButton* m_current = nullptr;
    QProgressBar* m_progress = nullptr;
    int m_jobs = 0;
};

} // namespace ijepa::workbench
