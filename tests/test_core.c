/* Engine core: errors, arena, thread pool, CPU features, atomic files. */
#include "sm_engine.h"
#include "sm_test.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(error_messages_compose)
{
    sm_error err;
    ck_assert_int_eq(sm_error_set(&err, SM_ERR_SHAPE, "tensor '%s' is %d", "w", 3), SM_ERR_SHAPE);
    sm_error_prefix(&err, "%s", "model.smw");
    ck_assert_str_eq(err.msg, "model.smw: tensor 'w' is 3");
    ck_assert_int_eq(err.status, SM_ERR_SHAPE);
    ck_assert_int_eq(sm_error_set(NULL, SM_ERR_IO, "ignored"), SM_ERR_IO);
    sm_error_clear(&err);
    ck_assert_str_eq(err.msg, "");
    /* a prefix never overflows the buffer */
    char longp[900];
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    sm_error_set(&err, SM_ERR_IO, "tail");
    sm_error_prefix(&err, "%s", longp);
    ck_assert_uint_eq(strlen(err.msg), SM_ERROR_MAX - 1);
    ck_assert_str_eq(sm_status_name(SM_ERR_FORMAT), "format error");
}
END_TEST

START_TEST(arena_aligns_and_bounds)
{
    sm_arena a;
    ck_assert_int_eq(sm_arena_init(&a, 1000, NULL), SM_OK);
    void *p = sm_arena_alloc(&a, 10, 0);
    void *q = sm_arena_alloc(&a, 10, 0);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq((uintptr_t)p % 64, 0);
    ck_assert_uint_eq((uintptr_t)q % 64, 0);
    ck_assert_uint_eq((uintptr_t)q - (uintptr_t)p, 64);
    ck_assert_ptr_null(sm_arena_alloc(&a, 2000, 0));
    ck_assert_ptr_null(sm_arena_alloc(&a, SIZE_MAX - 10, 0));
    ck_assert_ptr_null(sm_arena_alloc(&a, 8, 3)); /* not a power of two */
    size_t hw = a.high_water;
    sm_arena_reset(&a);
    ck_assert_uint_eq(a.used, 0);
    ck_assert_uint_eq(a.high_water, hw);
    ck_assert_ptr_eq(sm_arena_alloc(&a, 1, 16), p);
    sm_arena_free(&a);
    sm_arena_free(NULL);
}
END_TEST

typedef struct {
    atomic_int hits[1000];
    atomic_int max_thread;
} pool_probe;

static void mark_task(void *ctx, size_t task, size_t thread)
{
    (void)thread;
    atomic_fetch_add((atomic_uchar *)ctx + task, 1);
}

static void count_task(void *ctx, size_t task, size_t thread)
{
    pool_probe *p = ctx;
    atomic_fetch_add(&p->hits[task], 1);
    int t = (int)thread;
    int m = atomic_load(&p->max_thread);
    while (t > m && !atomic_compare_exchange_weak(&p->max_thread, &m, t))
        ;
}

START_TEST(threadpool_runs_each_task_once)
{
    for (size_t threads = 1; threads <= 4; threads++) {
        sm_threadpool *pool;
        ck_assert_int_eq(sm_threadpool_init(&pool, threads, NULL), SM_OK);
        ck_assert_uint_eq(sm_threadpool_size(pool), threads);
        for (int round = 0; round < 50; round++) {
            static pool_probe probe;
            memset(&probe, 0, sizeof probe);
            size_t n = (size_t)(round * 37 % 1000);
            sm_threadpool_run(pool, n, count_task, &probe);
            for (size_t i = 0; i < 1000; i++)
                ck_assert_int_eq(atomic_load(&probe.hits[i]), i < n ? 1 : 0);
            ck_assert_int_lt(atomic_load(&probe.max_thread), (int)threads);
        }
        sm_threadpool_free(pool);
    }
    static pool_probe probe;
    memset(&probe, 0, sizeof probe);
    sm_threadpool_run(NULL, 10, count_task, &probe);
    ck_assert_int_eq(atomic_load(&probe.hits[9]), 1);
    ck_assert_uint_eq(sm_threadpool_size(NULL), 1);
    sm_threadpool_free(NULL);
}
END_TEST

/* Many short runs back to back, as a model's layers are: the join counts
 * finished tasks, so a worker that wakes late must neither run a task of the
 * next run twice nor miss one; also more tasks than one run's counter holds. */
START_TEST(threadpool_short_runs_and_huge_counts)
{
    static pool_probe probe;
    for (size_t threads = 2; threads <= 3; threads++) {
        sm_threadpool *pool;
        ck_assert_int_eq(sm_threadpool_init(&pool, threads, NULL), SM_OK);
        size_t f0 = sm_threadpool_fanouts(pool);
        for (int round = 0; round < 3000; round++) {
            size_t n = 2 + (size_t)round % 7;
            memset(&probe, 0, sizeof probe);
            sm_threadpool_run(pool, n, count_task, &probe);
            for (size_t i = 0; i < 10; i++)
                ck_assert_int_eq(atomic_load(&probe.hits[i]), i < n ? 1 : 0);
        }
        /* one task runs inline: not a fan-out */
        sm_threadpool_run(pool, 1, count_task, &probe);
        ck_assert_uint_eq(sm_threadpool_fanouts(pool) - f0, 3000);
        size_t big = 70000; /* above the 16-bit task counter of one run */
        atomic_uchar *seen = calloc(big, 1);
        ck_assert_ptr_nonnull(seen);
        sm_threadpool_run(pool, big, mark_task, seen);
        for (size_t i = 0; i < big; i++)
            ck_assert_int_eq(seen[i], 1);
        free(seen);
        sm_threadpool_free(pool);
    }
    ck_assert_uint_eq(sm_threadpool_fanouts(NULL), 0);
}
END_TEST

/* The fan-out rule: small work stays on the caller, large work splits into as
 * many tasks as it has grains, capped by the pieces and the op's maximum. */
START_TEST(parallel_tasks_rule)
{
    sm_threadpool *p2;
    ck_assert_int_eq(sm_threadpool_init(&p2, 2, NULL), SM_OK);
    const double g = SM_PAR_GRAIN_FLOPS;
    /* no pool or one thread: always 1, however large */
    ck_assert_uint_eq(sm_parallel_tasks(NULL, 1000, 16, 1e12, g), 1);
    sm_threadpool *p1;
    ck_assert_int_eq(sm_threadpool_init(&p1, 1, NULL), SM_OK);
    ck_assert_uint_eq(sm_parallel_tasks(p1, 1000, 16, 1e12, g), 1);
    sm_threadpool_free(p1);
    /* below two grains: 1; then one task per grain */
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1000, 16, 0, g), 1);
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1000, 16, 1.99 * g, g), 1);
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1000, 16, 2.0 * g, g), 2);
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1000, 16, 5.5 * g, g), 5);
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1000, 16, 1000 * g, g), 16);
    ck_assert_uint_eq(sm_parallel_tasks(p2, 3, 16, 1000 * g, g), 3);
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1, 16, 1000 * g, g), 1);
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1000, 1, 1000 * g, g), 1);
    /* a relu over a 4x4x96 map (read + write 12 kB) stays on the caller */
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1000, 16, 2.0 * 4 * 4 * 96 * sizeof(float), SM_PAR_GRAIN_BYTES), 1);
    /* NaN work never fans out */
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1000, 16, NAN, g), 1);
    /* grain scale 0: as far as items and the maximum allow; 2: half the tasks */
    sm_parallel_set_grain_scale(0.0);
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1000, 16, 1.0, g), 16);
    ck_assert_uint_eq(sm_parallel_tasks(p2, 5, 16, 0.0, g), 5);
    sm_parallel_set_grain_scale(2.0);
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1000, 16, 8.0 * g, g), 4);
    ck_assert_uint_eq(sm_parallel_tasks(p2, 1000, 16, 3.0 * g, g), 1);
    sm_parallel_set_grain_scale(1.0);
    sm_threadpool_free(p2);
}
END_TEST

START_TEST(threads_default_honours_env)
{
    setenv("SM_THREADS", "3", 1);
    ck_assert_uint_eq(sm_threads_default(), 3);
    setenv("SM_THREADS", "zero", 1);
    ck_assert_uint_ge(sm_threads_default(), 1);
    unsetenv("SM_THREADS");
    ck_assert_uint_eq(sm_threads_default(), (size_t)sysconf(_SC_NPROCESSORS_ONLN));
}
END_TEST

START_TEST(isa_dispatch_levels)
{
    sm_isa best = sm_isa_active();
    ck_assert(sm_isa_supported(SM_ISA_SCALAR));
    ck_assert(sm_isa_supported(best));
    ck_assert(sm_isa_force(SM_ISA_SCALAR));
    ck_assert_int_eq(sm_isa_active(), SM_ISA_SCALAR);
    const sm_cpu_features *f = sm_cpu_get();
#if defined(__aarch64__)
    ck_assert(f->neon);
    ck_assert_int_eq(best, SM_ISA_NEON);
#elif defined(__x86_64__)
    ck_assert(!sm_isa_supported(SM_ISA_NEON));
    ck_assert_int_eq(sm_isa_supported(SM_ISA_AVX2), f->avx2 && f->fma);
    /* the Makefile builds AVX2 and AVX-512 kernels; report what this CPU has */
    printf("cpu: avx2=%d fma=%d avx512f=%d bf16=%d vnni=%d, default level %s\n", f->avx2, f->fma,
           f->avx512f, f->avx512_bf16, f->avx512_vnni, sm_isa_name(best));
#else
    /* a CPU without vector kernels in the build (riscv64 today): scalar is all there is */
    ck_assert(!f->neon && !f->avx2);
    ck_assert_int_eq(best, SM_ISA_SCALAR);
    ck_assert(!sm_isa_supported(SM_ISA_NEON) && !sm_isa_supported(SM_ISA_AVX2));
#endif
    ck_assert(sm_isa_force(best));
    ck_assert_str_eq(sm_isa_name(SM_ISA_AVX512), "avx512");
}
END_TEST

/* SM_ASSERT is on in every build: a broken invariant aborts with its place and
 * condition on stderr (run in a child so that the suite survives). */
static int assert_in_child(int value, char *msg, size_t cap)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        SM_ASSERT(value == 42);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fds[0], msg + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    msg[n] = '\0';
    close(fds[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return st;
}

START_TEST(assert_is_always_on)
{
    char msg[512];
    int st = assert_in_child(42, msg, sizeof msg);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_str_eq(msg, "");
    st = assert_in_child(7, msg, sizeof msg);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "status %d", st);
    ck_assert_msg(strstr(msg, "test_core.c:") && strstr(msg, "assertion 'value == 42' failed"), "%s", msg);
}
END_TEST

START_TEST(atomic_write_replaces_whole_file)
{
    const char *dir = sm_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/out.bin", dir);
    sm_error err;
    ck_assert_int_eq(sm_file_write_atomic(path, "first", 5, &err), SM_OK);
    ck_assert_int_eq(sm_file_write_atomic(path, "second!", 7, &err), SM_OK);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(sm_file_read_all(path, 0, &buf, &len, &err), SM_OK);
    ck_assert_uint_eq(len, 7);
    ck_assert_mem_eq(buf, "second!", 7);
    free(buf);
    ck_assert_int_eq(sm_file_read_all(path, 3, &buf, &len, &err), SM_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "larger than"));
    char missing[4300];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    ck_assert_int_eq(sm_file_read_all(missing, 0, &buf, &len, &err), SM_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "nope: cannot open"));
    ck_assert_int_eq(sm_file_read_all(dir, 0, &buf, &len, &err), SM_ERR_IO);
    unlink(path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, error_messages_compose);
    tcase_add_test(tc, arena_aligns_and_bounds);
    tcase_add_test(tc, threadpool_runs_each_task_once);
    tcase_add_test(tc, threadpool_short_runs_and_huge_counts);
    tcase_add_test(tc, parallel_tasks_rule);
    tcase_add_test(tc, threads_default_honours_env);
    tcase_add_test(tc, isa_dispatch_levels);
    tcase_add_test(tc, assert_is_always_on);
    tcase_add_test(tc, atomic_write_replaces_whole_file);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}
