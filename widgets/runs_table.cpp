#include "widgets/runs_table.h"

#include <QHeaderView>
#include <QTableWidget>

#include <algorithm>

namespace ijepa::widgets {


Cell::Cell(const QString& text, double key)
    : QTableWidgetItem(text)
{
    setData(Qt::UserRole + 1, key);
    setFlags(flags() & ~Qt::ItemIsEditable);
}

bool Cell::operator<(const QTableWidgetItem& other) const
{
    const double a = data(Qt::UserRole + 1).toDouble(), b = other.data(Qt::UserRole + 1).toDouble();
    if (std::isfinite(a) || std::isfinite(b))
        return (std::isfinite(a) ? a : -1e300) < (std::isfinite(b) ? b : -1e300);
    return text() < other.text();
}

QString number(double v, int decimals)
{
    return std::isfinite(v) ? QString::number(v, 'f', decimals) : QStringLiteral("–");
}

QString clock(double seconds)
{
    const auto s = static_cast<long long>(seconds);
    return QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'));
}

QColor runColour(int i)
{
    static const QColor colours[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
                                     {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
    return colours[i % 10];
}

// The keys that differ, less logging.folder (each run's own folder, not a setting).
std::vector<ConfigDifference> settingDifferences(const Config& a, const Config& b)
{
    auto d = configDifferences(a, b);
    std::erase_if(d, [](const ConfigDifference& x) { return x.key == "logging.folder"; });
    return d;
}


QTableWidget* makeTable(QWidget* parent, const QStringList& headers)
{
    auto* t = new QTableWidget(0, static_cast<int>(headers.size()), parent);
    t->setHorizontalHeaderLabels(headers);
    t->setSortingEnabled(true);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->verticalHeader()->setVisible(false);
    t->horizontalHeader()->setStretchLastSection(true);
    t->setTextElideMode(Qt::ElideMiddle); // "20261206-1015…lr=0.002": both ends of a name tell runs apart
    t->horizontalHeader()->setTextElideMode(Qt::ElideMiddle); // run names head the diff's columns
    t->setWordWrap(false);
    return t;
}

// A run's k-NN: the end-of-run figure (ijepa eval knn on the whole split) when it ran, else the
// last online probe, marked "~" (an estimate on the probe's few hundred images); the tool tip says which.
Cell* knnCell(const RunRecord& r)
{
    const bool final = std::isfinite(r.finalKnn);
    auto* cell = new Cell(final ? number(r.finalKnn * 100, 2) : (std::isfinite(r.lastProbe) ? QStringLiteral("~") : QString()) +
                                                                number(r.lastProbe * 100, 1),
                          headlineKnn(r));
    cell->setToolTip(final ? QObject::tr("the end-of-run k-NN: ijepa eval knn on the whole evaluation split (a sweep's trial: on the "
                                        "sweep's evaluation images)")
                           : QObject::tr("the last online probe (a few hundred images); the end-of-run k-NN has not run"));
    return cell;
}

// A setting's value in a run; one steered while it trained shows its latest value, marked.
Cell* settingCell(const RunRecord& r, const std::string& key, const std::string& value)
{
    const bool steered = std::find(r.steered.begin(), r.steered.end(), key) != r.steered.end();
    auto* cell = new Cell(QString::fromStdString(value) + (steered ? QObject::tr(" (steered)") : QString()),
                          QString::fromStdString(value).toDouble());
    if (steered)
        cell->setToolTip(QObject::tr("changed while the run trained (config_history.jsonl): the value in force now"));
    return cell;
}

} // namespace ijepa::widgets
