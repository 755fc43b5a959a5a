// Test support: a preloadable openblas_get_corename that reports Prescott while OPENBLAS_CORETYPE is unset.
#ifndef GMPTL_OPENBLAS_FALLBACK_SHIM_H
#define GMPTL_OPENBLAS_FALLBACK_SHIM_H
char *openblas_get_corename(void);
#endif
