/* A fixed pool of workers running one parallel-for at a time, and the one rule
 * that decides how far a parallel-for fans out (sm_parallel_tasks).
 *
 * A model run is a chain of short parallel-fors (a few to a few hundred
 * microseconds each), so a condition-variable wake-up per layer would cost as
 * much as the layer. Workers and the caller therefore spin on atomics for a
 * short while (SPIN_ROUNDS) before they sleep on the condition variables; the
 * spin is bounded so an idle pool costs no CPU between model runs.
 *
 * The join waits for tasks, not for workers. One 64-bit word holds the run's
 * generation, its task count and the next unclaimed task; a worker claims a
 * task with a compare-and-swap that also checks the generation, and the caller
 * returns as soon as every task has finished. A worker that is descheduled
 * (2 cores shared with other processes, or more threads than cores) therefore
 * never holds up a run it has not joined: the caller runs the tasks itself and
 * the late worker finds the run over (its generation gone) when it gets the
 * CPU back. Before this, every run waited for every worker to check in, and on
 * a busy machine one time slice (milliseconds) per layer made the face models
 * ten times slower at 2 threads than at 1. */
#include "sm_engine.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* About 50-100 us on current x86 (pause is 40-140 cycles): longer than the gap
 * between two layers, far shorter than the gap between two frames. */
#define SPIN_ROUNDS 2048

/* state = generation << 32 | n_tasks << 16 | next task */
#define TASK_BITS 16
#define TASK_MAX ((1u << TASK_BITS) - 1)
#define ST_GEN(s) ((uint32_t)((s) >> 32))
#define ST_N(s) ((size_t)(((s) >> TASK_BITS) & TASK_MAX))
#define ST_NEXT(s) ((size_t)((s)&TASK_MAX))

struct sm_threadpool {
    size_t n_threads;            /* including the caller */
    pthread_t *workers;          /* n_threads - 1 */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    _Atomic uint64_t state;      /* see ST_*; published with release */
    atomic_size_t finished;      /* tasks of the current run that have returned */
    atomic_size_t sleepers;      /* workers asleep (or about to be) on `wake` */
    atomic_bool caller_asleep;
    atomic_bool stop;
    atomic_size_t fanouts;       /* runs handed to the workers (sm_threadpool_fanouts) */
    sm_parallel_fn fn;           /* written before the state is published */
    void *ctx;
};

typedef struct {
    sm_threadpool *pool;
    size_t index;
} worker_arg;

/* Claims and runs tasks of generation gen until none is left (or the run is
 * no longer gen). A successful claim proves the run is still open (the task is
 * not finished), so fn and ctx are the ones published with gen. */
static void drain(sm_threadpool *p, uint32_t gen, size_t thread)
{
    uint64_t s = atomic_load_explicit(&p->state, memory_order_acquire);
    for (;;) {
        if (ST_GEN(s) != gen || ST_NEXT(s) >= ST_N(s))
            return;
        if (!atomic_compare_exchange_weak_explicit(&p->state, &s, s + 1, memory_order_acquire,
                                                   memory_order_acquire))
            continue;
        size_t n = ST_N(s);
        p->fn(p->ctx, ST_NEXT(s), thread);
        if (atomic_fetch_add_explicit(&p->finished, 1, memory_order_seq_cst) + 1 == n &&
            atomic_load_explicit(&p->caller_asleep, memory_order_seq_cst)) {
            /* under the lock so the wake-up cannot fall between the caller's
             * check and its wait */
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
        s = atomic_load_explicit(&p->state, memory_order_acquire);
    }
}

/* Returns a generation other than `seen`, or `seen` when the pool is stopping. */
static uint32_t wait_for_run(sm_threadpool *p, uint32_t seen)
{
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        uint32_t g = ST_GEN(atomic_load_explicit(&p->state, memory_order_acquire));
        if (g != seen || atomic_load_explicit(&p->stop, memory_order_relaxed))
            return g;
        cpu_relax();
    }
    pthread_mutex_lock(&p->lock);
    /* seq_cst with the caller's publish-then-read-sleepers: either it sees this
     * sleeper and broadcasts, or this check sees its generation */
    atomic_fetch_add_explicit(&p->sleepers, 1, memory_order_seq_cst);
    uint32_t g;
    while ((g = ST_GEN(atomic_load_explicit(&p->state, memory_order_seq_cst))) == seen &&
           !atomic_load_explicit(&p->stop, memory_order_relaxed))
        pthread_cond_wait(&p->wake, &p->lock);
    atomic_fetch_sub_explicit(&p->sleepers, 1, memory_order_relaxed);
    pthread_mutex_unlock(&p->lock);
    return g;
}

static void *worker_main(void *arg)
{
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    sm_threadpool *p = wa.pool;
    uint32_t seen = 0;
    for (;;) {
        seen = wait_for_run(p, seen);
        if (atomic_load_explicit(&p->stop, memory_order_acquire))
            break;
        drain(p, seen, wa.index);
    }
    return NULL;
}

size_t sm_threads_default(void)
{
    const char *s = getenv("SM_THREADS");
    if (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end == '\0' && v >= 1 && v <= 256)
            return (size_t)v;
        sm_log(SM_LOG_WARN, "SM_THREADS=%s is not a count from 1 to 256; ignoring it", s);
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (size_t)n : 1;
}

sm_status sm_threadpool_init(sm_threadpool **out, size_t n_threads, sm_error *err)
{
    *out = NULL;
    if (n_threads == 0)
        n_threads = sm_threads_default();
    if (n_threads > 256)
        return sm_error_set(err, SM_ERR_ARG, "thread count %zu is above 256", n_threads);
    sm_threadpool *p = calloc(1, sizeof *p);
    if (!p)
        return sm_error_set(err, SM_ERR_NOMEM, "thread pool: out of memory");
    p->n_threads = n_threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->state, 0);
    atomic_init(&p->finished, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_asleep, false);
    atomic_init(&p->stop, false);
    atomic_init(&p->fanouts, 0);
    if (n_threads > 1) {
        p->workers = calloc(n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            sm_threadpool_free(p);
            return sm_error_set(err, SM_ERR_NOMEM, "thread pool: out of memory");
        }
    }
    for (size_t i = 0; i + 1 < n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (wa) {
            wa->pool = p;
            wa->index = i + 1;
        }
        if (!wa || pthread_create(&p->workers[i], NULL, worker_main, wa) != 0) {
            free(wa);
            p->n_threads = i + 1; /* only the started ones get joined */
            sm_threadpool_free(p);
            return sm_error_set(err, SM_ERR_NOMEM, "thread pool: cannot start thread %zu", i + 1);
        }
    }
    *out = p;
    return SM_OK;
}

void sm_threadpool_free(sm_threadpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; p->workers && i + 1 < p->n_threads; i++)
        pthread_join(p->workers[i], NULL);
    free(p->workers);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p);
}

size_t sm_threadpool_size(const sm_threadpool *p) { return p ? p->n_threads : 1; }

size_t sm_threadpool_fanouts(const sm_threadpool *p)
{
    return p ? atomic_load_explicit(&p->fanouts, memory_order_relaxed) : 0;
}

/* One run of at most TASK_MAX tasks. */
static void run_batch(sm_threadpool *p, size_t n_tasks, sm_parallel_fn fn, void *ctx)
{
    /* the previous run's tasks have all finished, so no worker reads these while
     * they change (a late worker only reads them after claiming a task) */
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->finished, 0, memory_order_relaxed);
    uint32_t gen = ST_GEN(atomic_load_explicit(&p->state, memory_order_relaxed)) + 1;
    atomic_store_explicit(&p->state, (uint64_t)gen << 32 | (uint64_t)n_tasks << TASK_BITS,
                          memory_order_seq_cst);
    atomic_fetch_add_explicit(&p->fanouts, 1, memory_order_relaxed);
    if (atomic_load_explicit(&p->sleepers, memory_order_seq_cst) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
    drain(p, gen, 0);
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (atomic_load_explicit(&p->finished, memory_order_acquire) == n_tasks)
            return;
        cpu_relax();
    }
    pthread_mutex_lock(&p->lock);
    atomic_store_explicit(&p->caller_asleep, true, memory_order_seq_cst);
    while (atomic_load_explicit(&p->finished, memory_order_seq_cst) != n_tasks)
        pthread_cond_wait(&p->done, &p->lock);
    atomic_store_explicit(&p->caller_asleep, false, memory_order_relaxed);
    pthread_mutex_unlock(&p->lock);
}

typedef struct {
    sm_parallel_fn fn;
    void *ctx;
    size_t base;
} offset_ctx;

static void offset_task(void *vctx, size_t task, size_t thread)
{
    const offset_ctx *o = vctx;
    o->fn(o->ctx, o->base + task, thread);
}

void sm_threadpool_run(sm_threadpool *p, size_t n_tasks, sm_parallel_fn fn, void *ctx)
{
    SM_ASSERT(fn != NULL);
    if (!p || p->n_threads == 1 || n_tasks <= 1) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(ctx, t, 0);
        return;
    }
    if (n_tasks <= TASK_MAX) {
        run_batch(p, n_tasks, fn, ctx);
        return;
    }
    for (size_t base = 0; base < n_tasks; base += TASK_MAX) {
        offset_ctx o = {fn, ctx, base};
        run_batch(p, n_tasks - base < TASK_MAX ? n_tasks - base : TASK_MAX, offset_task, &o);
    }
}

static _Atomic double grain_scale = 1.0;

void sm_parallel_set_grain_scale(double scale)
{
    atomic_store_explicit(&grain_scale, isfinite(scale) && scale > 0.0 ? scale : 0.0, memory_order_relaxed);
}

size_t sm_parallel_tasks(const sm_threadpool *pool, size_t items, size_t max_tasks, double work,
                         double min_work_per_task)
{
    double grain = min_work_per_task * atomic_load_explicit(&grain_scale, memory_order_relaxed);
    if (sm_threadpool_size(pool) < 2 || items < 2 || max_tasks < 2 || !(work >= 2.0 * grain))
        return 1;
    double by_work = grain > 0.0 ? work / grain : (double)max_tasks;
    size_t n = by_work < (double)max_tasks ? (size_t)by_work : max_tasks;
    return n < items ? n : items;
}
