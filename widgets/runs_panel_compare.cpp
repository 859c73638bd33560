// The Runs tab's comparison of the ticked runs: the config diff of two, the hparams table of all
// (a row per group of seeds when they are taken as one) and its CSV.
#include "widgets/runs_panel.h"

#include "core/runs/sweep_stats.h"
#include "widgets/run_groups.h"
#include "widgets/runs_table.h"

#include <QFile>
#include <QHeaderView>
#include <QTableWidget>
#include <QTextStream>

#include <algorithm>
#include <set>

namespace ijepa::widgets {

QStringList RunsPanel::diffLines() const
{
    QStringList out;
    for (int i = 0; i < m_diff->rowCount(); ++i)
        out << QStringLiteral("%1: %2 | %3").arg(m_diff->item(i, 0)->text(), m_diff->item(i, 1)->text(), m_diff->item(i, 2)->text());
    return out;
}

void RunsPanel::fillComparison()
{
    std::vector<const RunRecord*> ticked;
    for (const auto& folder : checkedRuns())
        if (const auto* r = run(folder); r && r->config)
            ticked.push_back(r);
    m_diff->setRowCount(0); // in schema order
    if (ticked.size() >= 2) {
        m_diff->setHorizontalHeaderLabels({tr("Key"), QString::fromStdString(ticked[0]->name), QString::fromStdString(ticked[1]->name)});
        for (int c = 1; c < 3; ++c) // the whole name where the header elides it
            m_diff->horizontalHeaderItem(c)->setToolTip(QString::fromStdString(ticked[c - 1]->name));
        for (const auto& d : settingDifferences(*ticked[0]->config, *ticked[1]->config)) {
            const int row = m_diff->rowCount();
            m_diff->insertRow(row);
            m_diff->setItem(row, 0, new Cell(QString::fromStdString(d.key)));
            m_diff->setItem(row, 1, settingCell(*ticked[0], d.key, d.a));
            m_diff->setItem(row, 2, settingCell(*ticked[1], d.key, d.b));
        }
        m_diff->resizeColumnsToContents(); // whole keys ("optimization.lr"), not "optimization...."
    }
    fillHparams(ticked);
}

void RunsPanel::fillHparams(const std::vector<const RunRecord*>& ticked)
{
    // A row per ticked run, or per group of seeds (mean ± sd); the keys that differ between any
    // two rows (the seed left out of a group's), then the final metrics.
    const std::vector<RunGroup> groups = groupRuns(ticked, m_groupSeeds);
    std::vector<std::string> keys;
    for (size_t i = 1; i < groups.size(); ++i)
        for (const auto& d : settingDifferences(*groups[0].members[0]->config, *groups[i].members[0]->config))
            if (std::find(keys.begin(), keys.end(), d.key) == keys.end() && !(m_groupSeeds && d.key == "meta.seed"))
                keys.push_back(d.key);
    QStringList headers{tr("run")};
    for (const auto& k : keys)
        headers << QString::fromStdString(k);
    headers << tr("steps") << tr("last loss") << tr("k-NN (%)") << tr("wall (s)") << tr("state");
    m_hparams->setSortingEnabled(false);
    m_hparams->clear();
    m_hparams->setColumnCount(static_cast<int>(headers.size()));
    m_hparams->setHorizontalHeaderLabels(headers);
    m_hparams->setRowCount(static_cast<int>(groups.size()));
    for (int row = 0; row < static_cast<int>(groups.size()); ++row) {
        const RunGroup& g = groups[static_cast<size_t>(row)];
        const RunRecord& r = *g.members.front();
        const auto entries = configEntries(*r.config);
        int col = 0;
        m_hparams->setItem(row, col++, new Cell(g.name));
        for (const auto& k : keys)
            for (const auto& e : entries)
                if (e.section + "." + e.key == k)
                    m_hparams->setItem(row, col++, settingCell(r, k, e.value));
        if (g.members.size() == 1) {
            m_hparams->setItem(row, col++, new Cell(QString::number(r.stepsDone), static_cast<double>(r.stepsDone)));
            m_hparams->setItem(row, col++, new Cell(number(r.lastLoss, 5), r.lastLoss));
            m_hparams->setItem(row, col++, knnCell(r));
            m_hparams->setItem(row, col++, new Cell(QString::number(r.wallSeconds, 'f', 0), r.wallSeconds));
            m_hparams->setItem(row, col++, new Cell(QString::fromLatin1(runStateName(r.state))));
            continue;
        }
        std::vector<double> steps, loss, knn, wall;
        std::set<QString> states;
        for (const RunRecord* m : g.members) {
            steps.push_back(static_cast<double>(m->stepsDone));
            loss.push_back(m->lastLoss);
            knn.push_back(headlineKnn(*m) * 100);
            wall.push_back(m->wallSeconds);
            states.insert(QString::fromLatin1(runStateName(m->state)));
        }
        const auto cell = [](const std::vector<double>& v, int decimals) {
            return new Cell(meanPlusMinus(v, decimals), meanSd(v).mean);
        };
        m_hparams->setItem(row, col++, cell(steps, 0));
        m_hparams->setItem(row, col++, cell(loss, 5));
        m_hparams->setItem(row, col++, cell(knn, 2));
        m_hparams->setItem(row, col++, cell(wall, 0));
        m_hparams->setItem(row, col++, new Cell(QStringList(states.begin(), states.end()).join(QStringLiteral(", "))));
    }
    m_hparams->resizeColumnsToContents(); // whole keys and names in the headers
    m_hparams->setSortingEnabled(true);
}

bool RunsPanel::exportHparams(const QString& path) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    QTextStream out(&file);
    const auto quote = [](QString s) {
        return s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"')) ? QStringLiteral("\"%1\"").arg(s.replace(QStringLiteral("\""), QStringLiteral("\"\""))) : s;
    };
    QStringList cells;
    for (int c = 0; c < m_hparams->columnCount(); ++c)
        cells << quote(m_hparams->horizontalHeaderItem(c)->text());
    out << cells.join(QLatin1Char(',')) << "\n";
    for (int r = 0; r < m_hparams->rowCount(); ++r) {
        cells.clear();
        for (int c = 0; c < m_hparams->columnCount(); ++c)
            cells << quote(m_hparams->item(r, c) ? m_hparams->item(r, c)->text() : QString());
        out << cells.join(QLatin1Char(',')) << "\n";
    }
    return out.status() == QTextStream::Ok;
}

} // namespace ijepa::widgets
