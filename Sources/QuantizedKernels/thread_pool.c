// A small pool for the products of one forward step. Generation issues a few hundred products
// per token, each a few microseconds long, so waking threads through the kernel each time would
// cost more than the work: workers spin on a job counter for a while, then sleep on a condition.
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "common.h"

/// Products one job can hold (a forward step submits at most three at a time).
#define QK_MAX_TASKS 16

#if defined(__x86_64__)
#include <immintrin.h>
#define QK_PAUSE() _mm_pause()
#else
#define QK_PAUSE() ((void)0)
#endif

/// Rows per unit of work are a multiple of this (every register tile's rows divide it).
#define QK_ROW_ALIGN 16
/// Units per thread and task: enough to balance, few enough that each thread streams long
/// contiguous runs of weights (a single token's product is bound by memory bandwidth).
#define QK_UNITS_PER_THREAD 4
/// Pause loops a worker spins for a new job before sleeping (about 0.1 ms).
#define QK_SPIN_LIMIT 20000

struct qk_pool {
    int threads;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int sleepers;
    atomic_uint generation;
    atomic_int stop;
    // The current job.
    const qk_matmul_task *tasks;
    int count;
    int units;
    int chunk_rows[QK_MAX_TASKS];
    // Each task's activations transposed once for all threads (NULL when not needed).
    const float *transposed[QK_MAX_TASKS];
    float *transposed_buffer;
    size_t transposed_capacity;
    // Or a loop body (when set, units are its indices).
    void (*body)(void *context, int index, int thread);
    void *context;
    atomic_int next_unit;
    atomic_int finished;
};

static int chunk_rows(const qk_matmul_task *task, int threads) {
    int parts = threads * QK_UNITS_PER_THREAD;
    int rows = (task->rows + parts - 1) / parts;
    rows = (rows + QK_ROW_ALIGN - 1) / QK_ROW_ALIGN * QK_ROW_ALIGN;
    return rows < QK_ROW_ALIGN ? QK_ROW_ALIGN : rows;
}

static int task_units(const qk_matmul_task *task, int chunk) {
    return (task->rows + chunk - 1) / chunk;
}

/// Takes units until none are left.
static void run_units(qk_pool *pool, int thread) {
    for (;;) {
        int unit = atomic_fetch_add_explicit(&pool->next_unit, 1, memory_order_relaxed);
        if (unit >= pool->units) return;
        if (pool->body) {
            pool->body(pool->context, unit, thread);
            continue;
        }
        int i = 0;
        while (unit >= task_units(&pool->tasks[i], pool->chunk_rows[i])) {
            unit -= task_units(&pool->tasks[i], pool->chunk_rows[i]);
            i++;
        }
        const qk_matmul_task *t = &pool->tasks[i];
        int chunk = pool->chunk_rows[i];
        int begin = unit * chunk;
        int end = begin + chunk < t->rows ? begin + chunk : t->rows;
        qk_matmul_prepared(
            qk_current_isa(), t->type, t->w, t->row_bytes, t->columns, begin, end, t->x, t->ldx,
            pool->transposed[i], t->xq, t->tokens, t->y, t->ldy, t->accumulate);
    }
}

typedef struct {
    qk_pool *pool;
    int thread;
} worker_start;

static void *worker_main(void *argument) {
    worker_start start = *(worker_start *)argument;
    free(argument);
    qk_pool *pool = start.pool;
    // Jobs are counted from the pool's creation (a thread that starts late must still see job 1).
    unsigned seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stop)) {
            if (++spins < QK_SPIN_LIMIT) {
                QK_PAUSE();
                continue;
            }
            // Sleep; the submitter broadcasts when it sees a sleeper after publishing a job.
            pthread_mutex_lock(&pool->lock);
            atomic_fetch_add(&pool->sleepers, 1);
            while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stop)) {
                pthread_cond_wait(&pool->wake, &pool->lock);
            }
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->lock);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = atomic_load(&pool->generation);
        run_units(pool, start.thread);
        atomic_fetch_add_explicit(&pool->finished, 1, memory_order_release);
    }
}

static void run_job(qk_pool *pool, int units);

qk_pool *qk_pool_create(int threads) {
    qk_pool *pool = calloc(1, sizeof(qk_pool));
    if (!pool) return NULL;
    pool->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    if (pool->threads > 1) {
        pool->workers = calloc((size_t)pool->threads - 1, sizeof(pthread_t));
        for (int i = 0; i < pool->threads - 1; i++) {
            worker_start *start = malloc(sizeof(worker_start));
            if (start) *start = (worker_start){pool, i + 1};
            if (!pool->workers || !start
                || pthread_create(&pool->workers[i], NULL, worker_main, start) != 0) {
                free(start);
                pool->threads = i + 1;
                break;
            }
        }
    }
    return pool;
}

void qk_pool_destroy(qk_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->threads - 1; i++) pthread_join(pool->workers[i], NULL);
    free(pool->workers);
    free(pool->transposed_buffer);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    free(pool);
}

int qk_pool_threads(const qk_pool *pool) { return pool ? pool->threads : 1; }

void qk_pool_matmul(qk_pool *pool, const qk_matmul_task *tasks, int count) {
    if (!pool || pool->threads == 1 || count > QK_MAX_TASKS) {
        for (int i = 0; i < count; i++) {
            const qk_matmul_task *t = &tasks[i];
            qk_matmul(
                t->type, t->w, t->row_bytes, t->columns, 0, t->rows, t->x, t->ldx, t->xq,
                t->tokens, t->y, t->ldy, t->accumulate);
        }
        return;
    }
    int units = 0;
    for (int i = 0; i < count; i++) {
        pool->chunk_rows[i] = chunk_rows(&tasks[i], pool->threads);
        units += task_units(&tasks[i], pool->chunk_rows[i]);
    }
    if (units == 0) return;
    // Transpose each distinct input once (tasks that share an input are adjacent).
    size_t needed = 0;
    for (int i = 0; i < count; i++) {
        if (qk_uses_transposed_activations(tasks[i].tokens)) {
            needed += qk_transposed_floats(tasks[i].tokens, tasks[i].columns);
        }
    }
    if (needed > pool->transposed_capacity) {
        free(pool->transposed_buffer);
        pool->transposed_buffer = malloc(needed * sizeof(float));
        pool->transposed_capacity = pool->transposed_buffer ? needed : 0;
    }
    float *next = pool->transposed_buffer;
    for (int i = 0; i < count; i++) {
        const qk_matmul_task *t = &tasks[i];
        pool->transposed[i] = NULL;
        if (!next || !qk_uses_transposed_activations(t->tokens)) continue;
        const qk_matmul_task *p = i > 0 ? &tasks[i - 1] : NULL;
        if (p && pool->transposed[i - 1] && p->x == t->x && p->ldx == t->ldx
            && p->tokens == t->tokens && p->columns == t->columns) {
            pool->transposed[i] = pool->transposed[i - 1];
            continue;
        }
        qk_transpose_tokens(t->x, t->ldx, t->tokens, t->columns, next);
        pool->transposed[i] = next;
        next += qk_transposed_floats(t->tokens, t->columns);
    }
    pool->tasks = tasks;
    pool->count = count;
    pool->body = NULL;
    run_job(pool, units);
}

void qk_pool_parallel_for(
    qk_pool *pool, int count, void (*body)(void *context, int index, int thread), void *context) {
    if (count <= 0) return;
    if (!pool || pool->threads == 1 || count == 1) {
        for (int i = 0; i < count; i++) body(context, i, 0);
        return;
    }
    pool->body = body;
    pool->context = context;
    run_job(pool, count);
}

/// Publishes a job of `units` units, takes part in it, and waits for every worker to finish.
static void run_job(qk_pool *pool, int units) {
    pool->units = units;
    atomic_store(&pool->next_unit, 0);
    atomic_store(&pool->finished, 0);
    atomic_fetch_add(&pool->generation, 1);
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
    run_units(pool, 0);
    // Workers that woke late find no units left and finish at once.
    int spins = 0;
    while (atomic_load_explicit(&pool->finished, memory_order_acquire) < pool->threads - 1) {
        if (++spins > QK_SPIN_LIMIT) sched_yield(); else QK_PAUSE();
    }
}
