#include "core/allocator.h"

#include <dlfcn.h>

namespace ijepa {

std::string allocatorName()
{
    // tcmalloc defines malloc as an alias of its tc_malloc: the same address when it is the one bound.
    const void* tc = dlsym(RTLD_DEFAULT, "tc_malloc");
    return tc && tc == dlsym(RTLD_DEFAULT, "malloc") ? "tcmalloc" : "glibc malloc";
}

} // namespace ijepa
