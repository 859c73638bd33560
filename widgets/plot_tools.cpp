#include "widgets/plot_tools.h"

#include "widgets/qcustomplot_include.h"

#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QFileDialog>
#include <QMenu>
#include <QMessageBox>
#include <QSaveFile>

namespace ijepa::widgets {

void legendAbove(QCustomPlot* plot, int columns)
{
    QCPLayoutGrid* layout = plot->plotLayout();
    if (layout->hasElement(0, 0) && layout->element(0, 0) == plot->legend)
        return;
    // The legend lives in the axis rect's inset layout until it is taken out of it.
    plot->axisRect()->insetLayout()->take(plot->legend);
    plot->axisRect()->insetLayout()->simplify();
    layout->insertRow(0);
    layout->addElement(0, 0, plot->legend);
    layout->setRowStretchFactor(0, 0.001); // as tall as its entries, the rest for the axes
    layout->setRowSpacing(0);
    plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    plot->legend->setWrap(std::max(1, columns));
    plot->legend->setBorderPen(Qt::NoPen);
    plot->legend->setBrush(Qt::NoBrush);
    plot->legend->setMargins(QMargins(4, 0, 4, 0));
    // A grid's widest is its children's: an empty legend would cap its column (and the axes under
    // it) at a few pixels. Any width, then; the height stays what its rows need.
    plot->legend->setMaximumSize(1 << 20, QWIDGETSIZE_MAX);
}

QString plotCsv(QCustomPlot* plot)
{
    QString out = QStringLiteral("series,x,y\n");
    const auto row = [&out](const QString& name, double x, double y) {
        QString quoted = name;
        if (quoted.contains(QLatin1Char(',')) || quoted.contains(QLatin1Char('"')))
            quoted = QLatin1Char('"') + quoted.replace(QLatin1String("\""), QLatin1String("\"\"")) + QLatin1Char('"');
        out += quoted + QLatin1Char(',') + QString::number(x, 'g', 12) + QLatin1Char(',') + QString::number(y, 'g', 10) + QLatin1Char('\n');
    };
    for (int i = 0; i < plot->graphCount(); ++i) {
        const QCPGraph* g = plot->graph(i);
        for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
            row(g->name(), it->key, it->value);
    }
    for (int i = 0; i < plot->plottableCount(); ++i)
        if (const auto* bars = qobject_cast<const QCPBars*>(plot->plottable(i)))
            for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
                row(bars->name(), it->key, it->value);
    return out;
}

bool savePlot(QCustomPlot* plot, const QString& path, const std::function<QString()>& csv)
{
    const QString lower = path.toLower();
    if (lower.endsWith(QLatin1String(".png")))
        return plot->savePng(path);
    if (lower.endsWith(QLatin1String(".pdf")))
        return plot->savePdf(path);
    if (!lower.endsWith(QLatin1String(".csv")))
        return false;
    return saveText(path, csv ? csv() : plotCsv(plot));
}

bool saveText(const QString& path, const QString& text)
{
    QSaveFile file(path); // all or nothing: a full disk leaves no half file
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text))
        return false;
    file.write(text.toUtf8());
    return file.commit();
}

QMenu* plotMenu(QCustomPlot* plot, const PlotMenuOptions& options, QWidget* parent)
{
    auto* menu = new QMenu(parent);
    const auto data = [plot, csv = options.csv] { return csv ? csv() : plotCsv(plot); };
    const auto saveAs = [plot, parent, options](const QString& title, const QString& filter, const QString& ext) {
        const QString path = QFileDialog::getSaveFileName(parent, title, options.name + ext, filter);
        if (!path.isEmpty() && !savePlot(plot, path, options.csv))
            QMessageBox::warning(parent, title, QObject::tr("Could not write %1").arg(path));
    };
    QObject::connect(menu->addAction(QObject::tr("Save image as PNG…")), &QAction::triggered, parent,
                     [saveAs] { saveAs(QObject::tr("Save plot"), QObject::tr("PNG images (*.png)"), QStringLiteral(".png")); });
    QObject::connect(menu->addAction(QObject::tr("Save image as PDF (vector)…")), &QAction::triggered, parent,
                     [saveAs] { saveAs(QObject::tr("Save plot"), QObject::tr("PDF files (*.pdf)"), QStringLiteral(".pdf")); });
    QObject::connect(menu->addAction(QObject::tr("Save data as CSV…")), &QAction::triggered, parent,
                     [saveAs] { saveAs(QObject::tr("Save data"), QObject::tr("CSV files (*.csv)"), QStringLiteral(".csv")); });
    QObject::connect(menu->addAction(QObject::tr("Copy data as CSV")), &QAction::triggered, parent,
                     [data] { QApplication::clipboard()->setText(data()); });
    menu->addSeparator();
    QObject::connect(menu->addAction(QObject::tr("Reset view")), &QAction::triggered, parent, [plot, reset = options.resetView] {
        if (reset)
            return reset();
        plot->rescaleAxes();
        plot->replot();
    });
    return menu;
}

void addPlotMenu(QCustomPlot* plot, PlotMenuOptions options)
{
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(plot, &QWidget::customContextMenuRequested, plot, [plot, options](const QPoint& at) {
        QMenu* menu = plotMenu(plot, options, plot);
        menu->setAttribute(Qt::WA_DeleteOnClose);
        menu->popup(plot->mapToGlobal(at));
    });
}

} // namespace ijepa::widgets
