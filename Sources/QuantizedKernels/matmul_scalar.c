// The portable reference: one row · one token at a time, integer sums per block as the vector
// paths compute them, so every instruction set agrees to float rounding.
#include "common.h"

static float dot_q4_0(const uint8_t *w, const qk_block_q16 *x, int blocks) {
    float sum = 0;
    for (int b = 0; b < blocks; b++, w += 18) {
        float d = qk_half(w);
        const uint8_t *qs = w + 2;
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            isum += (qs[j] & 0x0F) * x[b].qs[j] + (qs[j] >> 4) * x[b].qs[j + 16];
        }
        // Σ (q − 8) · x = Σ q · x − 8 Σ x.
        sum += d * x[b].d * (float)isum - 8.0f * d * x[b].s;
    }
    return sum;
}

static float dot_q4_1(const uint8_t *w, const qk_block_q16 *x, int blocks) {
    float sum = 0;
    for (int b = 0; b < blocks; b++, w += 20) {
        float d = qk_half(w), m = qk_half(w + 2);
        const uint8_t *qs = w + 4;
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            isum += (qs[j] & 0x0F) * x[b].qs[j] + (qs[j] >> 4) * x[b].qs[j + 16];
        }
        sum += d * x[b].d * (float)isum + m * x[b].s;
    }
    return sum;
}

static float dot_q5_0(const uint8_t *w, const qk_block_q16 *x, int blocks) {
    float sum = 0;
    for (int b = 0; b < blocks; b++, w += 22) {
        float d = qk_half(w);
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += qk_q5_0_value(w, j) * x[b].qs[j];
        // Σ (q − 16) · x = Σ q · x − 16 Σ x.
        sum += d * x[b].d * (float)isum - 16.0f * d * x[b].s;
    }
    return sum;
}

static float dot_q8_0(const uint8_t *w, const qk_block_q16 *x, int blocks) {
    float sum = 0;
    for (int b = 0; b < blocks; b++, w += 34) {
        const int8_t *qs = (const int8_t *)(w + 2);
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += qs[j] * x[b].qs[j];
        sum += qk_half(w) * x[b].d * (float)isum;
    }
    return sum;
}

static float dot_q4_K(const uint8_t *w, const qk_block_q8k *x, int blocks) {
    float sum = 0;
    for (int b = 0; b < blocks; b++, w += 144) {
        float d = qk_half(w), dmin = qk_half(w + 2);
        const uint8_t *scales = w + 4, *qs = w + 16;
        const int8_t *xq = x[b].qs;
        int isum = 0, msum = 0;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            qk_scale_min_k4(j, scales, &sc, &m);
            const uint8_t *q = qs + 32 * (j / 2);
            int shift = 4 * (j % 2), part = 0;
            for (int l = 0; l < 32; l++) part += ((q[l] >> shift) & 0x0F) * xq[32 * j + l];
            isum += sc * part;
            msum += m * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        }
        sum += x[b].d * (d * (float)isum - dmin * (float)msum);
    }
    return sum;
}

/// Q6_K's value e (0..255) of a block, 0..63 before the −32 offset.
static inline int q6_value(const uint8_t *w, int e) {
    const uint8_t *ql = w + 64 * (e / 128), *qh = w + 128 + 32 * (e / 128);
    int g = (e % 128) / 32, l = e % 32;
    int low = (ql[l + 32 * (g & 1)] >> (4 * (g >> 1))) & 0x0F;
    int high = (qh[l] >> (2 * g)) & 3;
    return low | (high << 4);
}

static float dot_q6_K(const uint8_t *w, const qk_block_q8k *x, int blocks) {
    float sum = 0;
    for (int b = 0; b < blocks; b++, w += 210) {
        const int8_t *scales = (const int8_t *)(w + 192);
        int isum = 0;
        for (int s = 0; s < 16; s++) {
            int part = 0;
            for (int l = 0; l < 16; l++) part += q6_value(w, 16 * s + l) * x[b].qs[16 * s + l];
            // Σ (q − 32) · x = Σ q · x − 32 Σ x.
            isum += scales[s] * (part - 32 * x[b].bsums[s]);
        }
        sum += qk_half(w + 208) * x[b].d * (float)isum;
    }
    return sum;
}

void qk_matmul_scalar(
    int type, const uint8_t *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const void *xq, int tokens, float *y, int ldy, int accumulate) {
    size_t x_stride = qk_activation_bytes(type, columns);
    int blocks = columns / qk_block_elements(type);
    for (int t = 0; t < tokens; t++) {
        const void *x = (const uint8_t *)xq + (size_t)t * x_stride;
        for (int r = row_begin; r < row_end; r++) {
            const uint8_t *row = w + (size_t)r * row_bytes;
            float v;
            switch (type) {
            case QK_TYPE_Q4_0: v = dot_q4_0(row, x, blocks); break;
            case QK_TYPE_Q4_1: v = dot_q4_1(row, x, blocks); break;
            case QK_TYPE_Q5_0: v = dot_q5_0(row, x, blocks); break;
            case QK_TYPE_Q8_0: v = dot_q8_0(row, x, blocks); break;
            case QK_TYPE_Q4_K: v = dot_q4_K(row, x, blocks); break;
            case QK_TYPE_Q6_K: v = dot_q6_K(row, x, blocks); break;
            default: v = 0;
            }
            float *out = y + (size_t)t * ldy + r;
            *out = accumulate ? *out + v : v;
        }
    }
}
