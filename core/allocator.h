#pragma once

// Which malloc this process runs: the programs link tcmalloc where it was found at build time
// (CMakeLists.txt, IJEPA_TCMALLOC), and run headers say which one a timing was taken with.

#include <string>

namespace ijepa {

// "tcmalloc" where gperftools' tcmalloc serves malloc (linked, or LD_PRELOADed), else "glibc malloc".
std::string allocatorName();

} // namespace ijepa
