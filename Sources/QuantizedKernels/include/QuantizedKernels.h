// Matrix products through ggml-quantized weights (Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K) without
// dequantizing them: activations are quantized per block (as llama.cpp does) and multiplied with
// integer dot products, vectorised for AVX2 and AVX-512 VNNI, with a portable scalar reference.
// Weight blocks are ggml's on-disk layout, so a memory-mapped GGUF is multiplied in place.
#ifndef QUANTIZED_KERNELS_H
#define QUANTIZED_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// ggml type ids of the supported weight formats.
enum {
    QK_TYPE_Q4_0 = 2,
    QK_TYPE_Q4_1 = 3,
    QK_TYPE_Q5_0 = 6,
    QK_TYPE_Q8_0 = 8,
    QK_TYPE_Q4_K = 12,
    QK_TYPE_Q6_K = 14,
};

/// Instruction sets a product can run on.
enum {
    QK_ISA_SCALAR = 0,
    QK_ISA_AVX2 = 1,
    QK_ISA_AVX512VNNI = 2,
};

/// Activations for the 32-element formats: x ≈ d · qs, s = d · Σ qs (for the formats' offsets).
/// 16-bit, where llama.cpp uses 8: SmolLM2's activations have outlier channels, and 8-bit blocks
/// round the small values beside an outlier away (logits moved by up to 1.1; QA by 0.75 points).
typedef struct {
    float d;
    float s;
    int16_t qs[32];
} qk_block_q16;

/// Activations for the 256-element K formats (8-bit, as llama.cpp's Q8_K), with the sum of each
/// 16 values.
typedef struct {
    float d;
    int16_t bsums[16];
    int8_t qs[256];
} qk_block_q8k;

/// 1 when the type is supported.
int qk_supports(int type);
/// Elements per block (32 or 256); 0 when unsupported.
int qk_block_elements(int type);
/// Bytes per weight block; 0 when unsupported.
size_t qk_block_bytes(int type);
/// Bytes of one token's quantized activations for a weight of this type with `columns` inputs.
size_t qk_activation_bytes(int type, int columns);

/// Quantizes `tokens` rows of `columns` floats (row stride `ldx`) for weights of `type`.
/// `columns` must be a multiple of the type's block; `out` holds tokens · qk_activation_bytes.
void qk_quantize_activations(
    int type, const float *x, int ldx, int columns, int tokens, void *out);

/// The index of the first block whose scale is NaN or infinite, or -1 (every value is then finite).
int64_t qk_first_nonfinite_block(int type, const void *blocks, int64_t count);

/// The best instruction set this CPU runs; every product uses it.
int qk_best_isa(void);
int qk_current_isa(void);

/// Whether a product of this many tokens reads quantized activations (`xq`). Otherwise (several
/// tokens, a vector instruction set) weight panels are dequantized and multiplied with the Float32
/// activations `x`: with tokens to share it the dequantization is cheap, and the result is exact.
int qk_uses_quantized_activations(int tokens);

/// y[t · ldy + r] (+)= W[r] · x[t] for rows [row_begin, row_end) and every token t < tokens.
/// `w` is the whole matrix (rows of `row_bytes`); `x` the tokens' Float32 activations (row stride
/// `ldx`), `xq` their quantized activations (may be NULL when not `qk_uses_quantized_activations`).
void qk_matmul(
    int type, const void *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const float *x, int ldx, const void *xq, int tokens, float *y, int ldy, int accumulate);

/// qk_matmul on a given instruction set (at most qk_best_isa), for tests that compare paths; it
/// quantizes the activations itself when that path needs them and `xq` is NULL.
void qk_matmul_isa(
    int isa, int type, const void *w, size_t row_bytes, int columns, int row_begin, int row_end,
    const float *x, int ldx, const void *xq, int tokens, float *y, int ldy, int accumulate);
/// Whether a product of this many tokens on `isa` reads quantized activations.
int qk_isa_uses_quantized_activations(int isa, int tokens);

/// One weight row in Float32 (the scalar reference).
void qk_dequantize_row(int type, const void *row, int columns, float *out);

/// One product of a batch run on the pool.
typedef struct {
    int type;
    const void *w;
    size_t row_bytes;
    int rows;
    int columns;
    const float *x;
    int ldx;
    const void *xq;
    int tokens;
    float *y;
    int ldy;
    int accumulate;
} qk_matmul_task;

/// A fixed set of worker threads that spin briefly, then sleep, between jobs.
typedef struct qk_pool qk_pool;

/// A pool using `threads` threads in all (the caller counts as one); NULL if threads cannot start.
qk_pool *qk_pool_create(int threads);
void qk_pool_destroy(qk_pool *pool);
int qk_pool_threads(const qk_pool *pool);
/// Runs every task's rows split over the pool's threads; returns when all are done.
void qk_pool_matmul(qk_pool *pool, const qk_matmul_task *tasks, int count);
/// Calls body(context, i, thread) for every i < count, spread over the pool's threads
/// (`thread` < qk_pool_threads names the calling thread, for per-thread scratch).
void qk_pool_parallel_for(
    qk_pool *pool, int count, void (*body)(void *context, int index, int thread), void *context);

#ifdef __cplusplus
}
#endif

#endif
