/* A fixed pool of workers running one parallel-for at a time. Tasks are handed
 * out by an atomic counter so uneven tasks balance themselves.
 *
 * A model run is a chain of short parallel-fors (a few to a few hundred
 * microseconds each), so a condition-variable wake-up per layer would cost as
 * much as the layer. Workers and the caller therefore spin on atomics for a
 * short while (SPIN_ROUNDS) before they sleep on the condition variables; the
 * spin is bounded so an idle pool costs no CPU between model runs. */
#include "sm_engine.h"

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

struct sm_threadpool {
    size_t n_threads;            /* including the caller */
    pthread_t *workers;          /* n_threads - 1 */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    atomic_uint_fast64_t generation; /* bumped (under lock) for each run */
    atomic_size_t running;       /* workers still inside the current run */
    atomic_bool stop;
    sm_parallel_fn fn;           /* written before generation is bumped */
    void *ctx;
    size_t n_tasks;
    atomic_size_t next_task;
};

typedef struct {
    sm_threadpool *pool;
    size_t index;
} worker_arg;

static void drain(sm_threadpool *p, size_t thread)
{
    for (;;) {
        size_t t = atomic_fetch_add_explicit(&p->next_task, 1, memory_order_relaxed);
        if (t >= p->n_tasks)
            break;
        p->fn(p->ctx, t, thread);
    }
}

/* Returns the generation after `seen`, or `seen` when the pool is stopping. */
static uint64_t wait_for_run(sm_threadpool *p, uint64_t seen)
{
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        uint64_t g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g != seen || atomic_load_explicit(&p->stop, memory_order_relaxed))
            return g;
        cpu_relax();
    }
    pthread_mutex_lock(&p->lock);
    uint64_t g;
    while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen &&
           !atomic_load_explicit(&p->stop, memory_order_relaxed))
        pthread_cond_wait(&p->wake, &p->lock);
    pthread_mutex_unlock(&p->lock);
    return g;
}

static void *worker_main(void *arg)
{
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    sm_threadpool *p = wa.pool;
    uint64_t seen = 0;
    for (;;) {
        seen = wait_for_run(p, seen);
        if (atomic_load_explicit(&p->stop, memory_order_acquire))
            break;
        drain(p, wa.index);
        if (atomic_fetch_sub_explicit(&p->running, 1, memory_order_acq_rel) == 1) {
            /* the caller may be asleep on `done`: signal under the lock so the
             * wake-up cannot fall between its check and its wait */
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
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
    atomic_init(&p->generation, 0);
    atomic_init(&p->running, 0);
    atomic_init(&p->stop, false);
    atomic_init(&p->next_task, 0);
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

void sm_threadpool_run(sm_threadpool *p, size_t n_tasks, sm_parallel_fn fn, void *ctx)
{
    SM_ASSERT(fn != NULL);
    if (!p || p->n_threads == 1 || n_tasks <= 1) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(ctx, t, 0);
        return;
    }
    /* every worker has finished the previous run (running reached 0 before the
     * previous call returned), so none reads these while they change */
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store_explicit(&p->next_task, 0, memory_order_relaxed);
    atomic_store_explicit(&p->running, p->n_threads - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    drain(p, 0);
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (atomic_load_explicit(&p->running, memory_order_acquire) == 0)
            return;
        cpu_relax();
    }
    pthread_mutex_lock(&p->lock);
    while (atomic_load_explicit(&p->running, memory_order_acquire) != 0)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
