#pragma once

#include "core/model/ijepa_model.h"

#include <QImage>
#include <QWidget>

#include <memory>

class QComboBox;
class QLabel;
class QSpinBox;

namespace ijepa::widgets {

class LatestJobRunner;
class PatchCanvas;

// Where the encoder attends, for one image of the embedding browser: pick the encoder (target or
// context), a block and a head (or the mean over heads); click a patch on the left to see its
// attention over the image; on the right, every query's attention averaged (where the block looks
// overall). The maps are computed off the UI thread when the weights, image, encoder or block
// change; head and query only pick rows of them.
class AttentionView : public QWidget {
    Q_OBJECT
public:
    explicit AttentionView(QWidget* parent = nullptr);
    void setModel(std::shared_ptr<IJepaModel> model, const QString& origin);
    void setImage(const QImage& view, int gridH, int gridW, const QString& name);
    void setEncoder(bool context);
    void setLayer(int layer);
    void setHead(int head); // -1: mean over heads
    void setQuery(int patch);
    bool busy() const;
    torch::Tensor maps() const { return m_maps; } // [heads, N, N] of the shown block
    int query() const { return m_query; }
    double colourTop() const { return m_colourTop; } // the red end of the colour scale (0 is dark)
    PatchCanvas* queryCanvas() const { return m_queryCanvas; }
    PatchCanvas* overallCanvas() const { return m_overallCanvas; }

Q_SIGNALS:
    void updated();

private:
    void recompute();
    void redraw();

    std::shared_ptr<IJepaModel> m_model;
    QString m_origin;
    QImage m_image;
    QString m_name;
    int m_gridH = 0, m_gridW = 0;
    torch::Tensor m_maps;
    int m_query = -1;
    double m_colourTop = 0;
    QComboBox* m_encoder;
    QSpinBox* m_layer;
    QComboBox* m_head;
    QLabel* m_caption;
    PatchCanvas* m_queryCanvas;
    PatchCanvas* m_overallCanvas;
    LatestJobRunner* m_runner;
};

} // namespace ijepa::widgets
