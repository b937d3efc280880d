/* A fixed pool of workers running one parallel-for at a time. Tasks are handed
 * out by an atomic counter so uneven tasks balance themselves. */
#include "sm_engine.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sm_threadpool {
    size_t n_threads;            /* including the caller */
    pthread_t *workers;          /* n_threads - 1 */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    uint64_t generation;         /* bumped for each run */
    size_t running;              /* workers still inside the current run */
    bool stop;
    sm_parallel_fn fn;
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

static void *worker_main(void *arg)
{
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    sm_threadpool *p = wa.pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->stop)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        drain(p, wa.index);
        pthread_mutex_lock(&p->lock);
        if (--p->running == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
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
    p->stop = true;
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
    if (!p || p->n_threads == 1 || n_tasks <= 1) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->next_task, 0);
    p->running = p->n_threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    drain(p, 0);
    pthread_mutex_lock(&p->lock);
    while (p->running > 0)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
