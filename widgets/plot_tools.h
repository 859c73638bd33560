#pragma once

#include <QString>

#include <functional>

class QCustomPlot;
class QMenu;
class QWidget;

namespace ijepa::widgets {

// What every plot of the workbench shares: the legend in a row of its own above the axes (it never
// covers data), and a right-click menu to save the picture (PNG, PDF) and the data (CSV), copy the
// data, and reset the view.

// Moves the plot's legend out of the axis rect into a row above it, `columns` entries a line.
void legendAbove(QCustomPlot* plot, int columns = 4);

// Every plottable with data as CSV: "series,x,y" (bars give their key and value).
QString plotCsv(QCustomPlot* plot);

// The plot's right-click menu. `name` is the default file name; `csv` replaces plotCsv where a
// widget knows its data better (a curve's smoothed values); `resetView` replaces rescaleAxes.
struct PlotMenuOptions {
    QString name;
    std::function<QString()> csv;
    std::function<void()> resetView;
};
QMenu* plotMenu(QCustomPlot* plot, const PlotMenuOptions& options, QWidget* parent);
void addPlotMenu(QCustomPlot* plot, PlotMenuOptions options);

// The same saves the menu runs, without a dialog (tests, scripts): by the path's extension
// (.png, .pdf, .csv). False with nothing written for another extension or a failed write.
bool savePlot(QCustomPlot* plot, const QString& path, const std::function<QString()>& csv = {});
bool saveText(const QString& path, const QString& text); // atomically (QSaveFile)

} // namespace ijepa::widgets
