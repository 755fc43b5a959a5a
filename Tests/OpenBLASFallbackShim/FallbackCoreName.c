// Test support, preloaded into gmptl (LD_PRELOAD): makes OpenBLAS look as if it had fallen back to its Prescott
// kernels, as Debian's 0.3.21 does on processors it does not know, so that the start-up selection's restart can be
// tested on any machine. Only the name is faked, and only while OPENBLAS_CORETYPE is unset: once the variable is
// set (by the selection's restart, or by a user) the real OpenBLAS answers.
#define _GNU_SOURCE
#include "OpenBLASFallbackShim.h"

#include <dlfcn.h>
#include <stdlib.h>

char *openblas_get_corename(void) {
    if (getenv("OPENBLAS_CORETYPE") == NULL) return "Prescott";
    char *(*real)(void) = (char *(*)(void))dlsym(RTLD_NEXT, "openblas_get_corename");
    return real != NULL ? real() : "Unknown";
}
