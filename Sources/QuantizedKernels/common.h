// Internal helpers shared by the kernels: half floats, block layouts, per-ISA entry points.
#ifndef QK_COMMON_H
#define QK_COMMON_H

#include <stdint.h>
#include <string.h>
#include "QuantizedKernels.h"

/// IEEE half to float, portable (the vector paths use F16C).
static inline float qk_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F;
    uint32_t mantissa = h & 0x3FF;
    uint32_t bits;
    if (exponent == 0) {
        float magnitude = (float)mantissa * (1.0f / 16777216.0f);
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 31) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/// Q5_0's element j (0..31) of a block { f16 d; u32 qh; u8 qs[16] }, 0..31 before the −16
/// offset: the low four bits from the nibbles (elements 16..31 in the high nibbles), bit j of qh on
/// top.
static inline int qk_q5_0_value(const uint8_t *block, int j) {
    uint32_t qh;
    memcpy(&qh, block + 2, 4);
    int low = j < 16 ? block[6 + j] & 0x0F : block[6 + j - 16] >> 4;
    return low | (int)(((qh >> j) & 1) << 4);
}

/// Q4_K's 6-bit scale and min of sub-block j (ggml's get_scale_min_k4).
static inline void qk_scale_min_k4(int j, const uint8_t *q, int *scale, int *min) {
    if (j < 4) {
        *scale = q[j] & 63;
        *min = q[j + 4] & 63;
    } else {
        *scale = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/// The row kernels of one instruction set: every token of a row range.
typedef void (*qk_matmul_fn)(
    int type, const uint8_t *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const void *xq, int tokens, float *y, int ldy, int accumulate);

void qk_matmul_scalar(
    int type, const uint8_t *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const void *xq, int tokens, float *y, int ldy, int accumulate);
/// A per-thread scratch buffer (slot 0, 1 or 2) of at least `floats`, kept for the next call.
float *qk_thread_buffer(int slot, size_t floats);
void qk_dequantize_row_scalar(int type, const uint8_t *row, int columns, float *out);

/// Under this many tokens a batch's Float32 product reads the activations transposed (k-major,
/// qk_transpose_tokens' layout); from it on it transposes weight panels instead.
#define QK_TRANSPOSED_TOKENS_BELOW 128

/// Whether a product of this many tokens reads transposed activations.
int qk_uses_transposed_activations(int tokens);
/// Floats qk_transpose_tokens writes for `tokens` × `columns`.
size_t qk_transposed_floats(int tokens, int columns);
/// Transposes with the current instruction set's layout.
void qk_transpose_tokens(const float *x, int ldx, int tokens, int columns, float *xt);
/// qk_matmul with the activations already transposed (`transposed` may be NULL).
void qk_matmul_prepared(
    int isa, int type, const void *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const float *x, int ldx, const float *transposed, const void *xq, int tokens, float *y,
    int ldy, int accumulate);

#if defined(__x86_64__)
void qk_transpose_tokens_avx2(const float *x, int ldx, int tokens, int columns, float *xt);
void qk_transpose_tokens_avx512vnni(const float *x, int ldx, int tokens, int columns, float *xt);
void qk_gemm_float_avx2(
    int type, const uint8_t *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const float *x, int ldx, const float *transposed, int tokens, float *y, int ldy,
    int accumulate);
void qk_gemm_float_avx512vnni(
    int type, const uint8_t *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const float *x, int ldx, const float *transposed, int tokens, float *y, int ldy,
    int accumulate);
void qk_matmul_avx2(
    int type, const uint8_t *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const void *xq, int tokens, float *y, int ldy, int accumulate);
void qk_matmul_avx512vnni(
    int type, const uint8_t *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const void *xq, int tokens, float *y, int ldy, int accumulate);
#endif

#endif
