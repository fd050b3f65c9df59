// Pulls OpenBLAS's CBLAS interface and LAPACKE into one Clang module for Swift.
#include <cblas.h>
#include <lapacke.h>
// OpenBLAS extensions (declared in cblas.h of OpenBLAS; repeated here in case another CBLAS is found).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);
// Flush-to-zero and denormals-are-zero for this thread's SSE/AVX arithmetic (MXCSR bits 15 and 6).
#if defined(__x86_64__)
#include <xmmintrin.h>
static inline void laser_flush_denormals(void) { _mm_setcsr(_mm_getcsr() | 0x8040); }
static inline void laser_keep_denormals(void) { _mm_setcsr(_mm_getcsr() & ~0x8040u); }
static inline unsigned laser_float_mode(void) { return _mm_getcsr(); }
static inline void laser_set_float_mode(unsigned mode) { _mm_setcsr(mode); }
static inline int laser_flushes_denormals(void) { return (_mm_getcsr() & 0x8040) == 0x8040; }
#else
static inline void laser_flush_denormals(void) {}
static inline void laser_keep_denormals(void) {}
static inline unsigned laser_float_mode(void) { return 0; }
static inline void laser_set_float_mode(unsigned mode) { (void)mode; }
static inline int laser_flushes_denormals(void) { return 0; }
#endif
