// Pulls OpenBLAS's CBLAS interface and LAPACKE into one Clang module for Swift.
#include <cblas.h>
#include <lapacke.h>
// OpenBLAS extensions (declared in cblas.h of OpenBLAS; repeated here in case another CBLAS is found).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);
