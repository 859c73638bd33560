#pragma once

#include "core/config.h"
#include "core/data/image_source.h"
#include "core/model/vision_transformer.h"
#include "widgets/embedding_browser.h"

#include <QWidget>

#include <memory>

class QProgressBar;
class QSpinBox;

namespace ijepa::workbench {

// The Embeddings tab: the embedding browser with its controls (open a checkpoint, take the current
// weights, how many held-out images) and the embedding job, which runs off the UI thread and
// reports its progress in the tab.
class EmbeddingsTab : public QWidget {
    Q_OBJECT
public:
    explicit EmbeddingsTab(QWidget* parent = nullptr);

    widgets::EmbeddingBrowser* browser() const { return m_browser; }
    bool busy() const { return m_jobs > 0; }
    // Embeds the first images of `source` (as many as the tab says) with `encoder` on a worker
    // thread; embeddingsReady or failed follow on the UI thread.
    void embed(VisionTransformer encoder, std::shared_ptr<ImageSource> source, const Config& config, const QString& origin);

Q_SIGNALS:
    void openCheckpointRequested();
    void currentWeightsRequested();
    void embeddingsReady();
    void failed(const QString& message);

private:
    widgets::EmbeddingBrowser* m_browser = nullptr;
    QSpinBox* m_images = nullptr;
    QProgressBar* m_progress = nullptr;
    int m_jobs = 0;
};

} // namespace ijepa::workbench
