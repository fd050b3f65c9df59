// The AVX2 and AVX-512 VNNI builds of matmul_simd.h, chosen at run time (quantize.c).
#if defined(__x86_64__)
#include <immintrin.h>
#include "common.h"

// AVX2: int16 pairs to int32 (32-element formats); u8 · s8 pairs to int16 (no overflow:
// |q| ≤ 63, |x| ≤ 127), then pairs to int32 (K formats).
#define ISA avx2
#define TARGET "avx2,fma,f16c"
#define MAX_NR 4
#define MAX_NT 2
#define QK_WIDE 0
#define DOT(acc, u, s) \
    _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)))
#include "matmul_simd.h"
#include "gemm_simd.h"
#undef ISA
#undef TARGET
#undef MAX_NR
#undef MAX_NT
#undef QK_WIDE
#undef DOT

// AVX-512 VNNI: one vpdpwssd per 32-element block and token, 32 registers for the tile.
#define ISA avx512vnni
#define TARGET "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni"
#define MAX_NR 4
#define MAX_NT 4
#define QK_WIDE 1
#define DOT(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)
#include "matmul_simd.h"
#include "gemm_simd.h"
#endif
