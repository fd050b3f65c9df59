// Batched products (several tokens) in Float32: a few weight rows at a time are dequantized into
// a small row-major panel, the tokens' activations are transposed once (k-major, tokens padded to
// whole vectors), and a register tile of rows × token vectors accumulates outer products
// (broadcast one weight, FMA a vector of tokens). With tokens to share it, dequantizing costs
// little, the activations stay exact (as in the Float32 reference) and FMA throughput sets the pace.
// Included by matmul_x86.c per instruction set with ISA, TARGET and QK_WIDE defined.
#define QK_CAT2(a, b) a##_##b
#define QK_CAT(a, b) QK_CAT2(a, b)
#define FN(name) QK_CAT(name, ISA)

#pragma clang attribute push(__attribute__((target(TARGET))), apply_to = function)

#if QK_WIDE
#define GV __m512
#define GV_LANES 16
#define GV_ROWS 16
#define GV_LOAD _mm512_loadu_ps
#define GV_STORE _mm512_storeu_ps
#define GV_ZERO _mm512_setzero_ps
#define GV_SET1 _mm512_set1_ps
#define GV_FMA _mm512_fmadd_ps
#else
#define GV __m256
#define GV_LANES 8
#define GV_ROWS 4
#define GV_LOAD _mm256_loadu_ps
#define GV_STORE _mm256_storeu_ps
#define GV_ZERO _mm256_setzero_ps
#define GV_SET1 _mm256_set1_ps
#define GV_FMA _mm256_fmadd_ps
#endif
/// Tokens transposed at a time (a multiple of two vectors).
#define GV_TOKEN_BLOCK 64

static inline float FN(g_half)(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/// 32 values as two vectors of 16 (or four of 8) floats: v[i] = d · q[i] + m.
static inline void FN(store_block32)(__m256i q8, int is_signed, float d, float m, float *out) {
    const __m128i lo = _mm256_castsi256_si128(q8), hi = _mm256_extracti128_si256(q8, 1);
#if QK_WIDE
    const __m512 vd = _mm512_set1_ps(d), vm = _mm512_set1_ps(m);
    __m512i a = is_signed ? _mm512_cvtepi8_epi32(lo) : _mm512_cvtepu8_epi32(lo);
    __m512i b = is_signed ? _mm512_cvtepi8_epi32(hi) : _mm512_cvtepu8_epi32(hi);
    _mm512_storeu_ps(out, _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), vd, vm));
    _mm512_storeu_ps(out + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(b), vd, vm));
#else
    const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
    __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int i = 0; i < 4; i++) {
        __m256i v = is_signed ? _mm256_cvtepi8_epi32(parts[i]) : _mm256_cvtepu8_epi32(parts[i]);
        _mm256_storeu_ps(out + 8 * i, _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), vd, vm));
    }
#endif
}

/// 32 signed values as floats, the first 16 scaled by d0, the last 16 by d1 (Q6_K's sub-blocks).
static inline void FN(store_block16x2)(__m256i q8, float d0, float d1, float *out) {
    const __m128i lo = _mm256_castsi256_si128(q8), hi = _mm256_extracti128_si256(q8, 1);
#if QK_WIDE
    _mm512_storeu_ps(
        out, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo)), _mm512_set1_ps(d0)));
    _mm512_storeu_ps(
        out + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi)), _mm512_set1_ps(d1)));
#else
    __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int i = 0; i < 4; i++) {
        __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[i]));
        _mm256_storeu_ps(out + 8 * i, _mm256_mul_ps(v, _mm256_set1_ps(i < 2 ? d0 : d1)));
    }
#endif
}

/// One weight row in Float32.
static void FN(dequantize_row)(int type, const uint8_t *row, int columns, float *out) {
    const __m128i mask = _mm_set1_epi8(0x0F);
    switch (type) {
    case QK_TYPE_Q4_0:
    case QK_TYPE_Q4_1:
        for (int b = 0; b < columns / 32; b++) {
            const uint8_t *block = row + (size_t)b * (type == QK_TYPE_Q4_1 ? 20 : 18);
            float d = FN(g_half)(block);
            float m = type == QK_TYPE_Q4_1 ? FN(g_half)(block + 2) : -8.0f * d;
            __m128i q = _mm_loadu_si128((const __m128i *)(block + (type == QK_TYPE_Q4_1 ? 4 : 2)));
            __m256i u = _mm256_set_m128i(
                _mm_and_si128(_mm_srli_epi16(q, 4), mask), _mm_and_si128(q, mask));
            FN(store_block32)(u, 0, d, m, out + 32 * b);
        }
        break;
    case QK_TYPE_Q5_0:
        for (int b = 0; b < columns / 32; b++) {
            const uint8_t *block = row + (size_t)b * 22;
            float d = FN(g_half)(block);
            FN(store_block32)(FN(q5_0_bytes)(block), 0, d, -16.0f * d, out + 32 * b);
        }
        break;
    case QK_TYPE_Q8_0:
        for (int b = 0; b < columns / 32; b++) {
            const uint8_t *block = row + (size_t)b * 34;
            __m256i q = _mm256_loadu_si256((const __m256i *)(block + 2));
            FN(store_block32)(q, 1, FN(g_half)(block), 0, out + 32 * b);
        }
        break;
    case QK_TYPE_Q4_K:
        // 8 sub-blocks of 32: d · scale_j · q − dmin · min_j, q the low (even j) or high nibbles
        // of 32 bytes.
        for (int b = 0; b < columns / 256; b++) {
            const uint8_t *block = row + (size_t)b * 144;
            const float d = FN(g_half)(block), dmin = FN(g_half)(block + 2);
            for (int j = 0; j < 8; j++) {
                int sc, m;
                qk_scale_min_k4(j, block + 4, &sc, &m);
                __m256i q = _mm256_loadu_si256((const __m256i *)(block + 16 + 32 * (j / 2)));
                q = (j & 1) ? _mm256_srli_epi16(q, 4) : q;
                q = _mm256_and_si256(q, _mm256_set1_epi8(0x0F));
                FN(store_block32)(q, 0, d * (float)sc, -dmin * (float)m, out + 256 * b + 32 * j);
            }
        }
        break;
    case QK_TYPE_Q6_K:
        // Groups of 32 (half n, quarter g): low 4 bits from ql, high 2 from qh, minus 32; each 16
        // with its own int8 scale.
        for (int b = 0; b < columns / 256; b++) {
            const uint8_t *block = row + (size_t)b * 210;
            const int8_t *scales = (const int8_t *)(block + 192);
            const float d = FN(g_half)(block + 208);
            for (int n = 0; n < 2; n++) {
                const __m256i qh = _mm256_loadu_si256((const __m256i *)(block + 128 + 32 * n));
                for (int g = 0; g < 4; g++) {
                    __m256i low = _mm256_loadu_si256(
                        (const __m256i *)(block + 64 * n + 32 * (g & 1)));
                    low = (g >> 1) ? _mm256_srli_epi16(low, 4) : low;
                    low = _mm256_and_si256(low, _mm256_set1_epi8(0x0F));
                    __m256i high = _mm256_and_si256(
                        _mm256_srli_epi16(qh, 2 * g), _mm256_set1_epi8(0x03));
                    __m256i q = _mm256_sub_epi8(
                        _mm256_or_si256(low, _mm256_slli_epi16(high, 4)), _mm256_set1_epi8(32));
                    const int s = 8 * n + 2 * g;
                    FN(store_block16x2)(
                        q, d * (float)scales[s], d * (float)scales[s + 1],
                        out + 256 * b + 128 * n + 32 * g);
                }
            }
        }
        break;
    default:
        qk_dequantize_row_scalar(type, row, columns, out);
    }
}

/// NR rows × NV token vectors over every column (NR · NV ≤ 16 accumulators):
/// out[r][t] = Σ_k panel[r][k] · xt[k][t] for the `rows` rows and `count` tokens that are real.
static inline __attribute__((always_inline)) void FN(gemm_tile)(
    const int NR, const int NV, const float *panel, int columns, const float *xt, int stride,
    int rows, int count, float *y, int ldy, int accumulate) {
    GV acc[GV_ROWS][2];
    for (int r = 0; r < NR; r++) acc[r][0] = acc[r][1] = GV_ZERO();
    for (int k = 0; k < columns; k++) {
        const GV x0 = GV_LOAD(xt + (size_t)k * stride);
        const GV x1 = NV == 2 ? GV_LOAD(xt + (size_t)k * stride + GV_LANES) : x0;
        for (int r = 0; r < NR; r++) {
            const GV b = GV_SET1(panel[(size_t)r * columns + k]);
            acc[r][0] = GV_FMA(b, x0, acc[r][0]);
            if (NV == 2) acc[r][1] = GV_FMA(b, x1, acc[r][1]);
        }
    }
    for (int r = 0; r < rows; r++) {
        float values[2 * GV_LANES];
        GV_STORE(values, acc[r][0]);
        if (NV == 2) GV_STORE(values + GV_LANES, acc[r][1]);
        for (int t = 0; t < count; t++) {
            float *out = y + (size_t)t * ldy + r;
            *out = accumulate ? *out + values[t] : values[t];
        }
    }
}

/// Few tokens: the activations are transposed once per call.
/// out[j][i] = in[i][j] for an 8 × 8 block.
static inline void FN(transpose8)(const float *in, size_t ldi, float *out, size_t ldo) {
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(in + i * ldi);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int h = 0; h < 8; h += 4) {
        u[h] = _mm256_shuffle_ps(t[h], t[h + 2], 0x44);
        u[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], 0xEE);
        u[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0x44);
        u[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], 0xEE);
    }
    for (int j = 0; j < 4; j++) {
        _mm256_storeu_ps(out + j * ldo, _mm256_permute2f128_ps(u[j], u[j + 4], 0x20));
        _mm256_storeu_ps(out + (j + 4) * ldo, _mm256_permute2f128_ps(u[j], u[j + 4], 0x31));
    }
}

/// The tokens' activations k-major, in blocks of GV_TOKEN_BLOCK tokens: block b starts at
/// xt + b · columns · GV_TOKEN_BLOCK and holds (k, t) at [k · stride + t], stride = its token count
/// rounded up to whole vectors, the padding zero.
void FN(qk_transpose_tokens)(const float *x, int ldx, int tokens, int columns, float *xt) {
    for (int t0 = 0; t0 < tokens; t0 += GV_TOKEN_BLOCK) {
        int count = tokens - t0 < GV_TOKEN_BLOCK ? tokens - t0 : GV_TOKEN_BLOCK;
        int stride = (count + GV_LANES - 1) / GV_LANES * GV_LANES;
        float *block = xt + (size_t)t0 * columns;
        int t = 0;
        for (; t + 8 <= count; t += 8) {
            for (int k = 0; k < columns; k += 8) {
                FN(transpose8)(x + (size_t)(t0 + t) * ldx + k, (size_t)ldx, block + (size_t)k * stride + t, (size_t)stride);
            }
        }
        for (int k = 0; k < columns; k++) {
            float *column = block + (size_t)k * stride;
            for (int u = t; u < count; u++) column[u] = x[(size_t)(t0 + u) * ldx + k];
            for (int u = count; u < stride; u++) column[u] = 0;
        }
    }
}

static void FN(gemm_tokens_major)(
    int type, const uint8_t *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const float *x, int ldx, const float *transposed, int tokens, float *y, int ldy,
    int accumulate) {
    if (!transposed) {
        float *own = qk_thread_buffer(0, (size_t)columns * ((tokens + GV_TOKEN_BLOCK - 1) / GV_TOKEN_BLOCK) * GV_TOKEN_BLOCK);
        FN(qk_transpose_tokens)(x, ldx, tokens, columns, own);
        transposed = own;
    }
    float *panel = qk_thread_buffer(1, (size_t)columns * GV_ROWS);
    for (int t0 = 0; t0 < tokens; t0 += GV_TOKEN_BLOCK) {
        int count = tokens - t0 < GV_TOKEN_BLOCK ? tokens - t0 : GV_TOKEN_BLOCK;
        int stride = (count + GV_LANES - 1) / GV_LANES * GV_LANES;
        const float *xt = transposed + (size_t)t0 * columns;
        for (int r0 = row_begin; r0 < row_end; r0 += GV_ROWS) {
            int rows = row_end - r0 < GV_ROWS ? row_end - r0 : GV_ROWS;
            for (int r = 0; r < GV_ROWS; r++) {
                if (r < rows) {
                    FN(dequantize_row)(
                        type, w + (size_t)(r0 + r) * row_bytes, columns, panel + (size_t)r * columns);
                } else {
                    memset(panel + (size_t)r * columns, 0, sizeof(float) * (size_t)columns);
                }
            }
            for (int t = 0; t < stride; t += 2 * GV_LANES) {
                int n = count - t < 2 * GV_LANES ? count - t : 2 * GV_LANES;
                float *out = y + (size_t)(t0 + t) * ldy + r0;
                if (stride - t >= 2 * GV_LANES) {
                    // Two token vectors: the panel in two halves of rows.
                    const int half = GV_ROWS / 2;
                    FN(gemm_tile)(
                        half, 2, panel, columns, xt + t, stride, rows < half ? rows : half, n, out,
                        ldy, accumulate);
                    if (rows > half) {
                        FN(gemm_tile)(
                            half, 2, panel + (size_t)half * columns, columns, xt + t, stride,
                            rows - half, n, out + half, ldy, accumulate);
                    }
                } else {
                    FN(gemm_tile)(
                        GV_ROWS, 1, panel, columns, xt + t, stride, rows, n, out, ldy, accumulate);
                }
            }
        }
    }
}

#if QK_WIDE
#define GW_ROWS 32
#define GW_TOKENS 8
#define GW_ADD _mm512_add_ps
#else
#define GW_ROWS 16
#define GW_TOKENS 6
#define GW_ADD _mm256_add_ps
#endif

/// Many tokens: a panel of GW_ROWS rows is dequantized and transposed (k-major) once, and NT
/// tokens × GW_ROWS rows accumulate y[t][r] (+)= Σ_k x[t][k] · panel[k][r], broadcasting the
/// activations. The transposition is paid once per panel for every token.
static inline __attribute__((always_inline)) void FN(gemm_rows_tile)(
    const int NT, const float *panel, int columns, const float *x, int ldx, float *y, int ldy,
    int rows, int accumulate) {
    GV acc[GW_TOKENS][2];
    for (int t = 0; t < NT; t++) acc[t][0] = acc[t][1] = GV_ZERO();
    for (int k = 0; k < columns; k++) {
        const GV w0 = GV_LOAD(panel + (size_t)k * GW_ROWS);
        const GV w1 = GV_LOAD(panel + (size_t)k * GW_ROWS + GV_LANES);
        for (int t = 0; t < NT; t++) {
            const GV b = GV_SET1(x[(size_t)t * ldx + k]);
            acc[t][0] = GV_FMA(b, w0, acc[t][0]);
            acc[t][1] = GV_FMA(b, w1, acc[t][1]);
        }
    }
    for (int t = 0; t < NT; t++) {
        float *out = y + (size_t)t * ldy;
        if (rows == GW_ROWS) {
            if (accumulate) {
                acc[t][0] = GW_ADD(acc[t][0], GV_LOAD(out));
                acc[t][1] = GW_ADD(acc[t][1], GV_LOAD(out + GV_LANES));
            }
            GV_STORE(out, acc[t][0]);
            GV_STORE(out + GV_LANES, acc[t][1]);
        } else {
            float tmp[GW_ROWS];
            GV_STORE(tmp, acc[t][0]);
            GV_STORE(tmp + GV_LANES, acc[t][1]);
            for (int r = 0; r < rows; r++) out[r] = accumulate ? out[r] + tmp[r] : tmp[r];
        }
    }
}

static void FN(gemm_rows_tile_any)(
    int nt, const float *panel, int columns, const float *x, int ldx, float *y, int ldy, int rows,
    int accumulate) {
    switch (nt) {
#define QK_GEMM_CASE(N) \
    case N: FN(gemm_rows_tile)(N, panel, columns, x, ldx, y, ldy, rows, accumulate); break;
        QK_GEMM_CASE(1) QK_GEMM_CASE(2) QK_GEMM_CASE(3) QK_GEMM_CASE(4) QK_GEMM_CASE(5)
        QK_GEMM_CASE(6)
#if GW_TOKENS > 6
        QK_GEMM_CASE(7) QK_GEMM_CASE(8)
#endif
#undef QK_GEMM_CASE
    }
}

static void FN(gemm_rows_major)(
    int type, const uint8_t *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const float *x, int ldx, int tokens, float *y, int ldy, int accumulate) {
    float *panel = qk_thread_buffer(0, (size_t)columns * GW_ROWS);
    float *row = qk_thread_buffer(1, (size_t)columns);
    for (int r0 = row_begin; r0 < row_end; r0 += GW_ROWS) {
        int rows = row_end - r0 < GW_ROWS ? row_end - r0 : GW_ROWS;
        for (int r = 0; r < GW_ROWS; r++) {
            if (r < rows) {
                FN(dequantize_row)(type, w + (size_t)(r0 + r) * row_bytes, columns, row);
                for (int k = 0; k < columns; k++) panel[(size_t)k * GW_ROWS + r] = row[k];
            } else {
                for (int k = 0; k < columns; k++) panel[(size_t)k * GW_ROWS + r] = 0;
            }
        }
        for (int t = 0; t < tokens; t += GW_TOKENS) {
            int nt = tokens - t < GW_TOKENS ? tokens - t : GW_TOKENS;
            FN(gemm_rows_tile_any)(
                nt, panel, columns, x + (size_t)t * ldx, ldx, y + (size_t)t * ldy + r0, ldy, rows,
                accumulate);
        }
    }
}

void FN(qk_gemm_float)(
    int type, const uint8_t *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const float *x, int ldx, const float *transposed, int tokens, float *y, int ldy,
    int accumulate) {
    if (tokens >= QK_TRANSPOSED_TOKENS_BELOW) {
        FN(gemm_rows_major)(
            type, w, row_bytes, columns, row_begin, row_end, x, ldx, tokens, y, ldy, accumulate);
    } else {
        FN(gemm_tokens_major)(
            type, w, row_bytes, columns, row_begin, row_end, x, ldx, transposed, tokens, y, ldy,
            accumulate);
    }
}

#pragma clang attribute pop

#undef GV
#undef GV_LANES
#undef GV_TOKEN_BLOCK
#undef GW_ROWS
#undef GW_TOKENS
#undef GW_ADD
#undef GV_LOAD
#undef GV_STORE
#undef GV_ZERO
#undef GV_SET1
#undef GV_FMA
#undef GV_ROWS
#undef FN
#undef QK_CAT
#undef QK_CAT2
