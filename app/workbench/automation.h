#pragma once

// Scripted runs of the real window: screenshots for the docs and the UI responsiveness bench.

#include <QString>

namespace ijepa::workbench {

class MainWindow;

// Trains until `steps` steps and a mask sample have arrived, embeds with the current weights,
// saves the window on each tab and the individual widgets as PNGs in `dir`, then quits.
void runScreenshots(MainWindow& window, const QString& dir, qint64 steps);
// Measures how late a 5 ms timer fires while training runs for `seconds` (the UI thread's worst
// stall), every tab shown in turn for 2 s, prints it and quits.
// restartEvery > 0: every that many seconds the run is stopped, its checkpoint opened (config,
// embeddings) and training started again from it, as a day's use does (the soak's second half).
void runUiBench(MainWindow& window, double seconds, double restartEvery = 0);
// Times redraws of a loss curve with `points` points; returns the exit code.
int runPlotBench(int points, int series = 1);

} // namespace ijepa::workbench
