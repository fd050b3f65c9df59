// Block layouts, activation quantization, scale checks and the instruction-set dispatch.
#include <math.h>
#include <stdlib.h>
#include "common.h"

int qk_supports(int type) { return qk_block_elements(type) != 0; }

int qk_block_elements(int type) {
    switch (type) {
    case QK_TYPE_Q4_0:
    case QK_TYPE_Q4_1:
    case QK_TYPE_Q5_0:
    case QK_TYPE_Q8_0: return 32;
    case QK_TYPE_Q4_K:
    case QK_TYPE_Q6_K: return 256;
    default: return 0;
    }
}

size_t qk_block_bytes(int type) {
    switch (type) {
    case QK_TYPE_Q4_0: return 18;
    case QK_TYPE_Q4_1: return 20;
    case QK_TYPE_Q5_0: return 22;
    case QK_TYPE_Q8_0: return 34;
    case QK_TYPE_Q4_K: return 144;
    case QK_TYPE_Q6_K: return 210;
    default: return 0;
    }
}

size_t qk_activation_bytes(int type, int columns) {
    int n = qk_block_elements(type);
    if (n == 0) return 0;
    return (size_t)(columns / n) * (n == 32 ? sizeof(qk_block_q16) : sizeof(qk_block_q8k));
}

/// The largest |v[j]| of n values.
static inline float absolute_max(const float *v, int n) {
    float amax = 0;
    for (int j = 0; j < n; j++) amax = fmaxf(amax, fabsf(v[j]));
    return amax;
}

static void quantize_q16(const float *x, int columns, qk_block_q16 *out) {
    for (int b = 0; b < columns / 32; b++) {
        const float *v = x + 32 * b;
        float d = absolute_max(v, 32) / 32767.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            int16_t q = (int16_t)lrintf(v[j] * id);
            out[b].qs[j] = q;
            sum += q;
        }
        out[b].d = d;
        out[b].s = d * (float)sum;
    }
}

static void quantize_q8k(const float *x, int columns, qk_block_q8k *out) {
    for (int b = 0; b < columns / 256; b++) {
        const float *v = x + 256 * b;
        float d = absolute_max(v, 256) / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        for (int j = 0; j < 256; j++) out[b].qs[j] = (int8_t)lrintf(v[j] * id);
        for (int g = 0; g < 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += out[b].qs[16 * g + j];
            out[b].bsums[g] = (int16_t)sum;
        }
        out[b].d = d;
    }
}

void qk_quantize_activations(
    int type, const float *x, int ldx, int columns, int tokens, void *out) {
    size_t stride = qk_activation_bytes(type, columns);
    for (int t = 0; t < tokens; t++) {
        void *row = (uint8_t *)out + (size_t)t * stride;
        if (qk_block_elements(type) == 32) {
            quantize_q16(x + (size_t)t * ldx, columns, (qk_block_q16 *)row);
        } else {
            quantize_q8k(x + (size_t)t * ldx, columns, (qk_block_q8k *)row);
        }
    }
}

/// A half float's exponent field is all ones for NaN and infinity.
static inline int half_is_nonfinite(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return ((h >> 10) & 0x1F) == 0x1F;
}

int64_t qk_first_nonfinite_block(int type, const void *blocks, int64_t count) {
    const uint8_t *p = blocks;
    size_t bytes = qk_block_bytes(type);
    for (int64_t b = 0; b < count; b++, p += bytes) {
        switch (type) {
        case QK_TYPE_Q4_0:
        case QK_TYPE_Q5_0:
        case QK_TYPE_Q8_0:
            if (half_is_nonfinite(p)) return b;
            break;
        case QK_TYPE_Q4_1:
        case QK_TYPE_Q4_K:
            if (half_is_nonfinite(p) || half_is_nonfinite(p + 2)) return b;
            break;
        case QK_TYPE_Q6_K:
            if (half_is_nonfinite(p + 208)) return b;
            break;
        default: return b;
        }
    }
    return -1;
}

void qk_dequantize_row(int type, const void *row, int columns, float *out) {
    qk_dequantize_row_scalar(type, row, columns, out);
}

void qk_dequantize_row_scalar(int type, const uint8_t *row, int columns, float *out) {
    const uint8_t *w = row;
    switch (type) {
    case QK_TYPE_Q4_0:
    case QK_TYPE_Q4_1:
        for (int b = 0; b < columns / 32; b++, w += type == QK_TYPE_Q4_1 ? 20 : 18) {
            float d = qk_half(w), m = type == QK_TYPE_Q4_1 ? qk_half(w + 2) : -8.0f * d;
            const uint8_t *qs = w + (type == QK_TYPE_Q4_1 ? 4 : 2);
            for (int j = 0; j < 16; j++) {
                out[32 * b + j] = d * (float)(qs[j] & 0x0F) + m;
                out[32 * b + j + 16] = d * (float)(qs[j] >> 4) + m;
            }
        }
        break;
    case QK_TYPE_Q5_0:
        for (int b = 0; b < columns / 32; b++, w += 22) {
            float d = qk_half(w);
            for (int j = 0; j < 32; j++) out[32 * b + j] = d * (float)(qk_q5_0_value(w, j) - 16);
        }
        break;
    case QK_TYPE_Q8_0:
        for (int b = 0; b < columns / 32; b++, w += 34) {
            float d = qk_half(w);
            for (int j = 0; j < 32; j++) out[32 * b + j] = d * (float)(int8_t)w[2 + j];
        }
        break;
    case QK_TYPE_Q4_K:
        for (int b = 0; b < columns / 256; b++, w += 144) {
            float d = qk_half(w), dmin = qk_half(w + 2);
            for (int j = 0; j < 8; j++) {
                int sc, m;
                qk_scale_min_k4(j, w + 4, &sc, &m);
                const uint8_t *q = w + 16 + 32 * (j / 2);
                for (int l = 0; l < 32; l++) {
                    out[256 * b + 32 * j + l] =
                        d * (float)sc * (float)((q[l] >> (4 * (j % 2))) & 0x0F) - dmin * (float)m;
                }
            }
        }
        break;
    case QK_TYPE_Q6_K:
        for (int b = 0; b < columns / 256; b++, w += 210) {
            float d = qk_half(w + 208);
            const int8_t *scales = (const int8_t *)(w + 192);
            for (int e = 0; e < 256; e++) {
                const uint8_t *ql = w + 64 * (e / 128), *qh = w + 128 + 32 * (e / 128);
                int g = (e % 128) / 32, l = e % 32;
                int q = ((ql[l + 32 * (g & 1)] >> (4 * (g >> 1))) & 0x0F) | (((qh[l] >> (2 * g)) & 3) << 4);
                out[256 * b + e] = d * (float)scales[e / 16] * (float)(q - 32);
            }
        }
        break;
    default:
        for (int k = 0; k < columns; k++) out[k] = 0;
    }
}

float *qk_thread_buffer(int slot, size_t floats) {
    static _Thread_local float *buffers[3];
    static _Thread_local size_t capacity[3];
    if (capacity[slot] < floats) {
        free(buffers[slot]);
        buffers[slot] = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
        capacity[slot] = buffers[slot] ? floats : 0;
    }
    return buffers[slot];
}

// MARK: dispatch

static int detect_best_isa(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")
        && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma")) {
        return QK_ISA_AVX512VNNI;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
        && __builtin_cpu_supports("f16c")) {
        return QK_ISA_AVX2;
    }
#endif
    return QK_ISA_SCALAR;
}

int qk_best_isa(void) {
    static int best = -1;
    if (best < 0) best = detect_best_isa();
    return best;
}

int qk_current_isa(void) { return qk_best_isa(); }

/// From this many tokens on, dequantized panels and Float32 FMAs beat integer dot products
/// (`laser bench quantized` measures both).
#ifndef QK_FLOAT_GEMM_TOKENS
#define QK_FLOAT_GEMM_TOKENS 8
#endif

int qk_isa_uses_quantized_activations(int isa, int tokens) {
    return tokens < QK_FLOAT_GEMM_TOKENS || isa == QK_ISA_SCALAR;
}

int qk_uses_quantized_activations(int tokens) {
    return qk_isa_uses_quantized_activations(qk_current_isa(), tokens);
}

int qk_uses_transposed_activations(int tokens) {
    return !qk_uses_quantized_activations(tokens) && tokens < QK_TRANSPOSED_TOKENS_BELOW;
}

/// Token blocks of 64, each padded to whole vectors (at most 64).
size_t qk_transposed_floats(int tokens, int columns) {
    return (size_t)columns * (size_t)((tokens + 63) / 64) * 64;
}

void qk_transpose_tokens(const float *x, int ldx, int tokens, int columns, float *xt) {
#if defined(__x86_64__)
    if (qk_current_isa() == QK_ISA_AVX512VNNI) {
        qk_transpose_tokens_avx512vnni(x, ldx, tokens, columns, xt);
    } else {
        qk_transpose_tokens_avx2(x, ldx, tokens, columns, xt);
    }
#endif
}

void qk_matmul(
    int type, const void *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const float *x, int ldx, const void *xq, int tokens, float *y, int ldy, int accumulate) {
    qk_matmul_isa(
        qk_current_isa(), type, w, row_bytes, columns, row_begin, row_end, x, ldx, xq, tokens, y,
        ldy, accumulate);
}

void qk_matmul_isa(
    int isa, int type, const void *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const float *x, int ldx, const void *xq, int tokens, float *y, int ldy, int accumulate) {
    if (isa > qk_best_isa()) isa = qk_best_isa();
    qk_matmul_prepared(
        isa, type, w, row_bytes, columns, row_begin, row_end, x, ldx, NULL, xq, tokens, y, ldy,
        accumulate);
}

void qk_matmul_prepared(
    int isa, int type, const void *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const float *x, int ldx, const float *transposed, const void *xq, int tokens, float *y,
    int ldy, int accumulate) {
    if (row_begin >= row_end || tokens <= 0) return;
    if (qk_isa_uses_quantized_activations(isa, tokens) && !xq) {
        // The caller prepared none: quantize here (a per-thread buffer).
        size_t bytes = (size_t)tokens * qk_activation_bytes(type, columns);
        void *own = qk_thread_buffer(2, (bytes + sizeof(float) - 1) / sizeof(float));
        if (!own) return;
        qk_quantize_activations(type, x, ldx, columns, tokens, own);
        xq = own;
    }
    if (!qk_isa_uses_quantized_activations(isa, tokens)) {
#if defined(__x86_64__)
        if (isa == QK_ISA_AVX512VNNI) {
            qk_gemm_float_avx512vnni(
                type, w, row_bytes, columns, row_begin, row_end, x, ldx, transposed, tokens, y,
                ldy, accumulate);
        } else {
            qk_gemm_float_avx2(
                type, w, row_bytes, columns, row_begin, row_end, x, ldx, transposed, tokens, y,
                ldy, accumulate);
        }
        return;
#endif
    }
    switch (isa) {
#if defined(__x86_64__)
    case QK_ISA_AVX512VNNI:
        qk_matmul_avx512vnni(
            type, w, row_bytes, columns, row_begin, row_end, xq, tokens, y, ldy, accumulate);
        return;
    case QK_ISA_AVX2:
        qk_matmul_avx2(
            type, w, row_bytes, columns, row_begin, row_end, xq, tokens, y, ldy, accumulate);
        return;
#endif
    default:
        qk_matmul_scalar(
            type, w, row_bytes, columns, row_begin, row_end, xq, tokens, y, ldy, accumulate);
    }
}
