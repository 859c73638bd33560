#pragma once

#include <string>

namespace ijepa {

// A run that resumes from a checkpoint in its own folder continues that folder's run (its CSV rows,
// its settings history); one that starts fresh or from another folder's checkpoint begins anew.
// Compares the folders as the file system sees them (relative and absolute spellings alike).
bool continuesInFolder(const std::string& resumedFrom, const std::string& outDir);

} // namespace ijepa
