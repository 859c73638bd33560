// The GPU bench build (bench/gpu/CMakeLists.txt) has no OpenCV: the commands that read or draw
// images register nothing there, so its `ijepa` offers `bench` (and `--version`) alone.
#include "app/ijepa/commands.h"

namespace ijepa::cli {
void addInfoCommand(CLI::App&) {}
void addMasksCommand(CLI::App&) {}
void addVizCommand(CLI::App&) {}
void addTrainCommand(CLI::App&) {}
void addEvalCommands(CLI::App&) {}
void addIndexBench(CLI::App&) {}
void addDataBench(CLI::App&) {}   // decodes images (OpenCV, libjpeg-turbo)
void addExportCommand(CLI::App&) {} // loads checkpoints through the eval code, built with imageio
} // namespace ijepa::cli
