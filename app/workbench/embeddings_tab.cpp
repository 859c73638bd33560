#include "app/workbench/embeddings_tab.h"

#include "widgets/inspect_support.h"

#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>

namespace ijepa::workbench {
namespace {

struct EmbeddingJob {
    widgets::EmbeddingSet set;
    QString error;
};

} // namespace

void EmbeddingsTab::setTrainingRunning(bool running)
{
    m_current->setEnabled(running);
    m_current->setToolTip(running ? tr("Embed with a snapshot of the target encoder taken after the current step")
                                  : tr("Available while training runs; open a checkpoint to look at saved weights"));
}

bool EmbeddingsTab::currentWeightsEnabled() const { return m_current->isEnabled(); }

EmbeddingsTab::EmbeddingsTab(QWidget* parent)
    : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    auto* row = new QHBoxLayout;
    auto* open = new QPushButton(tr("Open checkpoint…"), this);
    connect(open, &QPushButton::clicked, this, &EmbeddingsTab::openCheckpointRequested);
    auto* current = m_current = new QPushButton(tr("Current weights"), this);
    connect(current, &QPushButton::clicked, this, &EmbeddingsTab::currentWeightsRequested);
    setTrainingRunning(false);
    m_images = new QSpinBox(this);
    m_images->setRange(16, 10000);
    m_images->setValue(1000);
    m_images->setToolTip(tr("Held-out images to embed and browse"));
    m_progress = new QProgressBar(this);
    m_progress->setVisible(false);
    row->addWidget(open);
    row->addWidget(current);
    row->addWidget(new QLabel(tr("Images"), this));
    row->addWidget(m_images);
    row->addWidget(m_progress, 1);
    row->addStretch();
    m_browser = new widgets::EmbeddingBrowser(this);
    m_attention = new widgets::AttentionView(this);
    m_predictor = new widgets::PredictorView(this);
    m_pages = new QTabWidget(this);
    m_pages->addTab(m_browser, tr("Neighbours"));
    m_pages->addTab(m_attention, tr("Attention"));
    m_pages->addTab(m_predictor, tr("Predictor"));
    m_pages->setTabToolTip(1, tr("Where the encoder attends in the image selected under Neighbours"));
    m_pages->setTabToolTip(2, tr("What the predictor predicts behind the mask, for the image selected under Neighbours"));
    connect(m_browser, &widgets::EmbeddingBrowser::imageSelected, this, &EmbeddingsTab::imageSelected);
    layout->addLayout(row);
    layout->addWidget(m_pages, 1);
}

void EmbeddingsTab::showPage(int page) { m_pages->setCurrentIndex(page); }

void EmbeddingsTab::imageSelected(int index)
{
    const auto& set = m_browser->embeddings();
    if (index < 0 || index >= set.thumbnails.size())
        return;
    m_attention->setImage(set.thumbnails[index], set.gridH, set.gridW, set.names.value(index));
    m_predictor->setImage(index);
}

void EmbeddingsTab::embed(VisionTransformer encoder, std::shared_ptr<ImageSource> source, const Config& config,
                          const QString& origin, std::shared_ptr<IJepaModel> model)
{
    ++m_jobs;
    m_progress->setVisible(true);
    m_progress->setValue(0);
    const int count = m_images->value();
    m_browser->setStatus(tr("Embedding %1 images with %2…").arg(count).arg(origin));
    auto* watcher = new QFutureWatcher<EmbeddingJob>(this);
    connect(watcher, &QFutureWatcher<EmbeddingJob>::finished, this, [this, watcher, origin, model, config] {
        EmbeddingJob job = watcher->result();
        watcher->deleteLater();
        --m_jobs;
        m_progress->setVisible(m_jobs > 0);
        if (!job.error.isEmpty()) {
            m_browser->setStatus(job.error);
            Q_EMIT failed(job.error);
            return;
        }
        job.set.origin = origin;
        if (model) {
            m_attention->setModel(model, origin);
            m_predictor->setEmbeddings(job.set);
            m_predictor->setModel(model, config);
        }
        m_browser->setEmbeddings(std::move(job.set));
        if (model)
            imageSelected(std::max(0, m_browser->selectedImage()));
        Q_EMIT embeddingsReady();
    });
    const QPointer<QProgressBar> bar = m_progress;
    const auto progress = [bar](std::int64_t done, std::int64_t total) {
        QMetaObject::invokeMethod(bar, [bar, done, total] {
            if (bar) {
                bar->setMaximum(static_cast<int>(total));
                bar->setValue(static_cast<int>(done));
            }
        }, Qt::QueuedConnection);
    };
    const int crop = config.data.crop_size, patch = config.mask.patch_size;
    watcher->setFuture(widgets::runJob([encoder, source, count, crop, patch, progress]() {
        EmbeddingJob job;
        try {
            job.set = widgets::computeEmbeddingSet(encoder, source, crop, patch, count, progress);
        } catch (const std::exception& e) {
            job.error = QString::fromUtf8(e.what());
        }
        return job;
    }));
}

} // namespace ijepa::workbench
