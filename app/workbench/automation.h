#pragma once

// Scripted runs of the real window: screenshots for the README and the UI responsiveness bench.

#include <QString>

namespace ijepa::workbench {

class MainWindow;

// Trains until `steps` steps and a mask sample have arrived, embeds with the current weights,
// saves the window on each tab and the individual widgets as PNGs in `dir`, then quits.
void runScreenshots(MainWindow& window, const QString& dir, qint64 steps);
// Measures how late a 5 ms timer fires while training runs for `seconds` (the UI thread's worst
// stall), every tab shown in turn for 2 s, prints it and quits.
void runUiBench(MainWindow& window, double seconds);
// Times redraws of a loss curve with `points` points; returns the exit code.
int runPlotBench(int points, int series = 1);

} // namespace ijepa::workbench
