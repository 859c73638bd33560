#pragma once

#include "core/config.h"
#include "core/eval/predictor_probe.h"
#include "widgets/embedding_browser.h"

#include <QWidget>

#include <memory>
#include <vector>

class QComboBox;
class QGridLayout;
class QLabel;

namespace ijepa::widgets {

class LatestJobRunner;

// What the predictor believes is behind the mask (the paper's Fig. 10 without a decoder), for the
// image selected in the embedding browser: a context block and target blocks (sampled with the
// config's mask sampler, or dragged with the mouse), the predictor run from the context, and for
// every predicted target patch the nearest real patch token (cosine) of the browser's other images
// (target-encoder tokens, layer-normed as the training targets) shown in the target's place;
// beside it the same retrieval for the true target tokens, and cos(prediction, target) per patch.
// Every change re-runs at once, off the UI thread (latest wins).
class PredictorView : public QWidget {
    Q_OBJECT
public:
    explicit PredictorView(QWidget* parent = nullptr);
    // The weights and config; the bank is the browser's embeddings (from the same weights).
    void setModel(std::shared_ptr<IJepaModel> model, const Config& config);
    void setEmbeddings(const EmbeddingSet& set);
    void setImage(int index);
    void sampleMasks(std::int64_t iteration);
    void setMasks(std::vector<std::int64_t> context, std::vector<std::vector<std::int64_t>> targets);
    // Drag on the input: a block from patch `from` to patch `to`, as context or a new target.
    void drawBlock(int from, int to, bool asTarget);
    bool busy() const;
    const PredictorProbe& probe() const { return m_probe; }
    const std::vector<std::int64_t>& context() const { return m_context; }
    PatchCanvas* inputCanvas() const { return m_input; }

    int columns() const { return m_columns; } // the pictures' arrangement: 4 in a row or 2 x 2

Q_SIGNALS:
    void updated();

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void arrange(int columns);
    void rerun();
    void showInput();
    void showProbe();

    std::shared_ptr<IJepaModel> m_model;
    Config m_config;
    bool m_haveConfig = false;
    QVector<QImage> m_thumbnails;
    torch::Tensor m_bankTokens;               // [M, P, D] from the browser
    std::shared_ptr<PatchBank> m_bank;        // built from them on first use (off the UI thread)
    std::shared_ptr<torch::Tensor> m_bankHwc; // [M, H, W, 3] uint8 of the thumbnails
    int m_gridH = 0, m_gridW = 0;
    int m_image = -1;
    std::vector<std::int64_t> m_context;
    std::vector<std::vector<std::int64_t>> m_targets;
    PredictorProbe m_probe;
    std::int64_t m_sampleIteration = 0;
    QComboBox* m_drawMode;
    QLabel* m_caption;
    PatchCanvas* m_input;
    PatchCanvas* m_predicted;
    PatchCanvas* m_truth;
    PatchCanvas* m_cosine;
    QGridLayout* m_grid = nullptr;
    QVector<QWidget*> m_cells; // title, picture for each of the four
    int m_columns = 0;
    LatestJobRunner* m_runner;
};

} // namespace ijepa::widgets
