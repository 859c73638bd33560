#pragma once

// The Runs tab's tables: sortable cells and the formats of their figures (runs_panel.cpp,
// runs_panel_compare.cpp).
#include "core/runs/run_folder.h"

#include <QColor>
#include <QString>
#include <QStringList>
#include <QTableWidgetItem>

#include <cmath>
#include <vector>

class QTableWidget;
class QWidget;

namespace ijepa::widgets {

enum RunColumn { Name, Data, Model, Steps, Loss, Probe, Wall, State, Problems, Columns };

// A cell that sorts by a number (UserRole + 1) when it has one, else by its text.
class Cell : public QTableWidgetItem {
public:
    explicit Cell(const QString& text, double key = std::nan(""));
    bool operator<(const QTableWidgetItem& other) const override;
};

QString number(double v, int decimals); // "–" for none
QString clock(double seconds);          // h:mm:ss
QColor runColour(int i);                // the i-th run's colour on the plots
// The keys that differ, less logging.folder (each run's own folder, not a setting).
std::vector<ConfigDifference> settingDifferences(const Config& a, const Config& b);
inline constexpr int kNameRole = Qt::UserRole + 2; // the name a Name cell showed before an edit
QTableWidget* makeTable(QWidget* parent, const QStringList& headers);
// A run's k-NN: the end-of-run figure when it ran, else the last online probe marked "~".
Cell* knnCell(const RunRecord& r);
// A setting's value in a run; one steered while it trained shows its latest value, marked.
Cell* settingCell(const RunRecord& r, const std::string& key, const std::string& value);

} // namespace ijepa::widgets
