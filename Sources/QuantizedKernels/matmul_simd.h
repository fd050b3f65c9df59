// The vector kernels, compiled once per instruction set by matmul_x86.c, which defines
// ISA (the name suffix), TARGET (clang's target string), MAX_NR × MAX_NT (the register tile:
// weight rows × tokens), QK_WIDE (1: 512-bit registers for the 32-element formats) and
// DOT(acc, u, s): acc + the 8 int32 sums of 4 adjacent u8 · s8 products (the K formats).
#define QK_CAT2(a, b) a##_##b
#define QK_CAT(a, b) QK_CAT2(a, b)
#define FN(name) QK_CAT(name, ISA)

/// Bytes ahead of the current block to prefetch when one token streams the weights: a single
/// token's product is bound by memory bandwidth, which the hardware prefetcher alone leaves half
/// unused here (2 threads: 10 → 19 GB/s on Q4_1, 8 → 44 GB/s on Q8_0). A sixteenth of the row
/// range, 2–16 KB: further ahead than the range's end only fetches another thread's rows.
#ifndef QK_PREFETCH_DISTANCE
#define QK_PREFETCH_DISTANCE
static inline size_t qk_prefetch_distance(size_t range_bytes) {
    size_t d = range_bytes / 16;
    return d < 2048 ? 2048 : d > 16384 ? 16384 : d;
}
#endif

#pragma clang attribute push(__attribute__((target(TARGET))), apply_to = function)

#if QK_WIDE
#define VF __m512
#define VF_ZERO _mm512_setzero_ps
#define VF_SUM _mm512_reduce_add_ps
#else
#define VF __m256
#define VF_ZERO _mm256_setzero_ps
#define VF_SUM FN(hsum_ps)
#endif

static inline float FN(half)(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

static inline float FN(hsum_ps)(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int FN(hsum_epi32)(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/// 16 bytes of nibbles → 32 values 0..15: low nibbles are elements 0..15, high 16..31.
static inline __m256i FN(unpack_nibbles)(const uint8_t *qs) {
    __m128i q = _mm_loadu_si128((const __m128i *)qs);
    __m128i mask = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), mask), _mm_and_si128(q, mask));
}

/// Q5_0's 32 fifth bits (qh, bit j for element j) as bytes 0x10 or 0.
static inline __m256i FN(q5_high_bits)(const uint8_t *qh_bytes) {
    uint32_t qh;
    memcpy(&qh, qh_bytes, 4);
#if QK_WIDE
    return _mm256_maskz_mov_epi8((__mmask32)qh, _mm256_set1_epi8(0x10));
#else
    // Byte j gets qh's byte j / 8, keeps bit j % 8, and becomes 0x10 when it was set.
    const __m256i shuffle = _mm256_set_epi64x(
        0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), shuffle);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
#endif
}

/// Q5_0's block as 32 unsigned bytes 0..31 (before the −16 offset), elements in order.
static inline __m256i FN(q5_0_bytes)(const uint8_t *block) {
    return _mm256_or_si256(FN(unpack_nibbles)(block + 6), FN(q5_high_bits)(block + 2));
}

/// A 32-element block's weights as 32 int16 (one 512-bit or two 256-bit registers).
#if QK_WIDE
typedef __m512i FN(w16);
static inline __m512i FN(widen)(const int type, const uint8_t *block) {
    if (type == QK_TYPE_Q8_0) {
        return _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(block + 2)));
    }
    if (type == QK_TYPE_Q5_0) return _mm512_cvtepu8_epi16(FN(q5_0_bytes)(block));
    return _mm512_cvtepu8_epi16(FN(unpack_nibbles)(block + (type == QK_TYPE_Q4_1 ? 4 : 2)));
}
#else
typedef struct { __m256i low, high; } FN(w16);
static inline FN(w16) FN(widen)(const int type, const uint8_t *block) {
    FN(w16) w;
    if (type == QK_TYPE_Q8_0) {
        w.low = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(block + 2)));
        w.high = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(block + 18)));
    } else if (type == QK_TYPE_Q5_0) {
        __m256i q = FN(q5_0_bytes)(block);
        w.low = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(q));
        w.high = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(q, 1));
    } else {
        __m128i q = _mm_loadu_si128((const __m128i *)(block + (type == QK_TYPE_Q4_1 ? 4 : 2)));
        __m128i mask = _mm_set1_epi8(0x0F);
        w.low = _mm256_cvtepu8_epi16(_mm_and_si128(q, mask));
        w.high = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(q, 4), mask));
    }
    return w;
}
#endif

/// NR weight rows × NT tokens of a 32-element format, every block; constant NR, NT and type
/// after inlining, so the tile lives in registers.
static inline __attribute__((always_inline)) void FN(tile32)(
    const int type, const int NR, const int NT, const uint8_t *w, size_t row_bytes,
    const qk_block_q16 *x, int blocks, float *y, int ldy, int accumulate, size_t prefetch) {
    const size_t block_bytes = type == QK_TYPE_Q4_0   ? 18
                               : type == QK_TYPE_Q4_1 ? 20
                               : type == QK_TYPE_Q5_0 ? 22
                                                      : 34;
    VF acc[4][4];
    __m128 mins[4];
    for (int r = 0; r < NR; r++) {
        mins[r] = _mm_setzero_ps();
        for (int t = 0; t < NT; t++) acc[r][t] = VF_ZERO();
    }
    for (int b = 0; b < blocks; b++) {
#if QK_WIDE
        __m512i xv[4];
#else
        __m256i xlow[4], xhigh[4];
#endif
        float xd[4] = {0, 0, 0, 0}, xs[4] = {0, 0, 0, 0};
        for (int t = 0; t < NT; t++) {
            const qk_block_q16 *xb = x + (size_t)t * blocks + b;
#if QK_WIDE
            xv[t] = _mm512_loadu_si512((const void *)xb->qs);
#else
            xlow[t] = _mm256_loadu_si256((const __m256i *)xb->qs);
            xhigh[t] = _mm256_loadu_si256((const __m256i *)(xb->qs + 16));
#endif
            xd[t] = xb->d;
            xs[t] = xb->s;
        }
        const __m128 dx = _mm_loadu_ps(xd);
        const __m128 sx = _mm_loadu_ps(xs);
        for (int r = 0; r < NR; r++) {
            const uint8_t *block = w + (size_t)r * row_bytes + (size_t)b * block_bytes;
            if (NT == 1) _mm_prefetch((const char *)block + prefetch, _MM_HINT_T0);
            const __m128 dw = _mm_set1_ps(FN(half)(block));
            const __m128 scale = _mm_mul_ps(dw, dx);
            const FN(w16) wv = FN(widen)(type, block);
            if (type == QK_TYPE_Q4_1) {
                mins[r] = _mm_fmadd_ps(_mm_set1_ps(FN(half)(block + 2)), sx, mins[r]);
            } else if (type == QK_TYPE_Q4_0 || type == QK_TYPE_Q5_0) {
                // Σ (q − o) · x = Σ q · x − o Σ x (o = 8 for Q4_0, 16 for Q5_0).
                const float offset = type == QK_TYPE_Q4_0 ? -8.0f : -16.0f;
                mins[r] = _mm_fmadd_ps(_mm_mul_ps(dw, _mm_set1_ps(offset)), sx, mins[r]);
            }
            for (int t = 0; t < NT; t++) {
#if QK_WIDE
                __m512i p = _mm512_dpwssd_epi32(_mm512_setzero_si512(), wv, xv[t]);
                __m512 sc = _mm512_permutexvar_ps(
                    _mm512_set1_epi32(t), _mm512_castps128_ps512(scale));
                acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), sc, acc[r][t]);
#else
                __m256i p = _mm256_add_epi32(
                    _mm256_madd_epi16(wv.low, xlow[t]), _mm256_madd_epi16(wv.high, xhigh[t]));
                __m256 sc = _mm256_permutevar8x32_ps(
                    _mm256_castps128_ps256(scale), _mm256_set1_epi32(t));
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), sc, acc[r][t]);
#endif
            }
        }
    }
    for (int r = 0; r < NR; r++) {
        float m[4];
        _mm_storeu_ps(m, mins[r]);
        for (int t = 0; t < NT; t++) {
            float v = VF_SUM(acc[r][t]) + m[t];
            float *out = y + (size_t)t * ldy + r;
            *out = accumulate ? *out + v : v;
        }
    }
}

#define QK_TILE_CASE(TYPE, NR, NT)                                                              \
    case (NR) * 8 + (NT):                                                                       \
        FN(tile32)(TYPE, NR, NT, w, row_bytes, x, blocks, y, ldy, accumulate, prefetch);        \
        break;
#define QK_TILE_CASES(TYPE)                                                                     \
    QK_TILE_CASE(TYPE, 1, 1) QK_TILE_CASE(TYPE, 1, 2) QK_TILE_CASE(TYPE, 1, 3)                  \
    QK_TILE_CASE(TYPE, 1, 4) QK_TILE_CASE(TYPE, 2, 1) QK_TILE_CASE(TYPE, 2, 2)                  \
    QK_TILE_CASE(TYPE, 2, 3) QK_TILE_CASE(TYPE, 2, 4) QK_TILE_CASE(TYPE, 3, 1)                  \
    QK_TILE_CASE(TYPE, 3, 2) QK_TILE_CASE(TYPE, 3, 3) QK_TILE_CASE(TYPE, 3, 4)                  \
    QK_TILE_CASE(TYPE, 4, 1) QK_TILE_CASE(TYPE, 4, 2) QK_TILE_CASE(TYPE, 4, 3)                  \
    QK_TILE_CASE(TYPE, 4, 4)

static void FN(tile32_any)(
    int type, int nr, int nt, const uint8_t *w, size_t row_bytes, const qk_block_q16 *x,
    int blocks, float *y, int ldy, int accumulate, size_t prefetch) {
    switch (type) {
    case QK_TYPE_Q4_0:
        switch (nr * 8 + nt) { QK_TILE_CASES(QK_TYPE_Q4_0) }
        break;
    case QK_TYPE_Q4_1:
        switch (nr * 8 + nt) { QK_TILE_CASES(QK_TYPE_Q4_1) }
        break;
    case QK_TYPE_Q5_0:
        switch (nr * 8 + nt) { QK_TILE_CASES(QK_TYPE_Q5_0) }
        break;
    default:
        switch (nr * 8 + nt) { QK_TILE_CASES(QK_TYPE_Q8_0) }
        break;
    }
}

static float FN(dot_q4_K)(const uint8_t *w, const qk_block_q8k *x, int blocks) {
    const __m256i mask = _mm256_set1_epi8(0x0F);
    float sum = 0;
    for (int b = 0; b < blocks; b++, w += 144) {
        int sc[8], m[8], msum = 0;
        for (int j = 0; j < 8; j++) {
            qk_scale_min_k4(j, w + 4, &sc[j], &m[j]);
            msum += m[j] * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        }
        __m256i acc = _mm256_setzero_si256();
        for (int p = 0; p < 4; p++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(w + 16 + 32 * p));
            __m256i lo = _mm256_and_si256(q, mask);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), mask);
            __m256i x0 = _mm256_loadu_si256((const __m256i *)(x[b].qs + 64 * p));
            __m256i x1 = _mm256_loadu_si256((const __m256i *)(x[b].qs + 64 * p + 32));
            __m256i p0 = DOT(_mm256_setzero_si256(), lo, x0);
            __m256i p1 = DOT(_mm256_setzero_si256(), hi, x1);
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p0, _mm256_set1_epi32(sc[2 * p])));
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p1, _mm256_set1_epi32(sc[2 * p + 1])));
        }
        sum += x[b].d * (FN(half)(w) * (float)FN(hsum_epi32)(acc) - FN(half)(w + 2) * (float)msum);
    }
    return sum;
}

static float FN(dot_q6_K)(const uint8_t *w, const qk_block_q8k *x, int blocks) {
    const __m256i low_mask = _mm256_set1_epi8(0x0F), high_mask = _mm256_set1_epi8(0x03);
    float sum = 0;
    for (int b = 0; b < blocks; b++, w += 210) {
        const int8_t *scales = (const int8_t *)(w + 192);
        int offset = 0;
        for (int s = 0; s < 16; s++) offset += scales[s] * x[b].bsums[s];
        __m256i acc = _mm256_setzero_si256();
        for (int n = 0; n < 2; n++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(w + 64 * n));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(w + 64 * n + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(w + 128 + 32 * n));
            for (int g = 0; g < 4; g++) {
                __m256i low = (g & 1) ? ql1 : ql0;
                low = (g >> 1) ? _mm256_and_si256(_mm256_srli_epi16(low, 4), low_mask)
                               : _mm256_and_si256(low, low_mask);
                __m256i high = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), high_mask);
                __m256i q = _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
                __m256i xq = _mm256_loadu_si256((const __m256i *)(x[b].qs + 128 * n + 32 * g));
                __m256i p = DOT(_mm256_setzero_si256(), q, xq);
                // Lanes 0..3 hold sub-block s's 16 values, lanes 4..7 sub-block s + 1's.
                int s = 8 * n + 2 * g;
                __m256i scale = _mm256_set_m128i(
                    _mm_set1_epi32(scales[s + 1]), _mm_set1_epi32(scales[s]));
                acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(p, scale));
            }
        }
        // Σ (q − 32) · x = Σ q · x − 32 Σ x.
        int isum = FN(hsum_epi32)(acc) - 32 * offset;
        sum += FN(half)(w + 208) * x[b].d * (float)isum;
    }
    return sum;
}

void FN(qk_matmul)(
    int type, const uint8_t *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const void *xq, int tokens, float *y, int ldy, int accumulate) {
    size_t x_stride = qk_activation_bytes(type, columns);
    if (type == QK_TYPE_Q4_K || type == QK_TYPE_Q6_K) {
        int blocks = columns / 256;
        for (int t = 0; t < tokens; t++) {
            const qk_block_q8k *x = (const qk_block_q8k *)((const uint8_t *)xq + t * x_stride);
            for (int r = row_begin; r < row_end; r++) {
                const uint8_t *row = w + (size_t)r * row_bytes;
                float v = type == QK_TYPE_Q4_K ? FN(dot_q4_K)(row, x, blocks)
                                               : FN(dot_q6_K)(row, x, blocks);
                float *out = y + (size_t)t * ldy + r;
                *out = accumulate ? *out + v : v;
            }
        }
        return;
    }
    int blocks = columns / 32;
    const size_t prefetch = qk_prefetch_distance((size_t)(row_end - row_begin) * row_bytes);
    // Tokens outside, rows inside: a tile of tokens stays in L1 while the row range streams by.
    for (int t = 0; t < tokens; t += MAX_NT) {
        int nt = tokens - t < MAX_NT ? tokens - t : MAX_NT;
        const qk_block_q16 *x = (const qk_block_q16 *)((const uint8_t *)xq + t * x_stride);
        for (int r = row_begin; r < row_end; r += MAX_NR) {
            int nr = row_end - r < MAX_NR ? row_end - r : MAX_NR;
            FN(tile32_any)(
                type, nr, nt, w + (size_t)r * row_bytes, row_bytes, x, blocks,
                y + (size_t)t * ldy + r, ldy, accumulate, prefetch);
        }
    }
}

#pragma clang attribute pop

#undef VF
#undef VF_ZERO
#undef VF_SUM
#undef FN
#undef QK_CAT
#undef QK_CAT2
#undef QK_TILE_CASE
#undef QK_TILE_CASES
