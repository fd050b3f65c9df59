// Block layouts, activation quantization, scale checks and the instruction-set dispatch.
#include <math.h>
#include "common.h"

int qk_supports(int type) { return qk_block_elements(type) != 0; }

int qk_block_elements(int type) {
    switch (type) {
    case QK_TYPE_Q4_0:
    case QK_TYPE_Q4_1:
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

static void quantize_q16(const float *x, int columns, qk_block_q16 *out) {
    for (int b = 0; b < columns / 32; b++) {
        const float *v = x + 32 * b;
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(v[j]));
        float d = amax / 32767.0f;
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
        float amax = 0;
        for (int j = 0; j < 256; j++) amax = fmaxf(amax, fabsf(v[j]));
        float d = amax / 127.0f;
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

static int current_isa = -1;

int qk_best_isa(void) {
    static int best = -1;
    if (best < 0) best = detect_best_isa();
    return best;
}

int qk_current_isa(void) {
    if (current_isa < 0) current_isa = qk_best_isa();
    return current_isa;
}

int qk_use_isa(int isa) {
    int best = qk_best_isa();
    current_isa = isa < 0 ? best : (isa > best ? best : isa);
    return current_isa;
}

void qk_matmul(
    int type, const void *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const void *xq, int tokens, float *y, int ldy, int accumulate) {
    if (row_begin >= row_end || tokens <= 0) return;
    switch (qk_current_isa()) {
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
