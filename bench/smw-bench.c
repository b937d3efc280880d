/* smw-bench: kernel and model benchmarks (rates, % of measured peak). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_kernels.h"
#include "bench_models.h"
#include "gemm/bf16-gemm.h"
#include "sm_engine.h"
#include "sm_kernels.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smw-bench kernels [--threads N] [--json] [--filter WORD] [--seconds S]\n"
            "       smw-bench model FILE.smw [--threads N] [--iters N] [--warmup-ms MS] [--precision P] [--grain-scale S] [--json]\n"
            "       smw-bench --help\n"
            "\n"
            "kernels  measures this machine's FP32 FMA peak with its own probe, then every\n"
            "         kernel variant the engine's .inc lists name, on real layer shapes of\n"
            "         EfficientNet-B3, BlazeFace, FaceMesh and the fatigue MLP, for each listed\n"
            "         ISA level the CPU runs (SM_ISA caps the levels): one row per layer and\n"
            "         variant, median time, GFLOP/s (or GB/s for memory-bound ops) and %% of\n"
            "         peak (peak x threads).\n"
            "model    runs the model in FILE.smw through the model registry entry of its\n"
            "         general.architecture (models/model_registry.c) on the entry's example\n"
            "         input: a warm-up (at least 2 runs and --warmup-ms), then --iters\n"
            "         timed runs; prints their median and minimum (JSON: median_ms,\n"
            "         min_ms, runs, calls_per_run). Times are per inference: where one\n"
            "         call is too short to time alone (the fatigue MLP, < 1 us) each timed\n"
            "         run is the mean of calls_per_run back-to-back single-row calls.\n"
            "--threads N   thread-pool size (default 1)\n"
            "--json        one JSON document instead of the table\n"
            "--filter WORD only cases whose model or layer name contains WORD\n"
            "--seconds S   minimum timed seconds per case and ISA (default 0.15)\n"
            "--iters N     timed model runs, 1..100000 (default 20)\n"
            "--warmup-ms MS  model: warm up for at least MS ms, 0..60000 (default 0: 2 runs)\n"
            "--precision fp32|bf16  model: GEMM convs in FP32 (default) or BF16 (without\n"
            "              avx512_bf16 an emulation: accuracy, not speed; docs/PERFORMANCE.md)\n"
            "--grain-scale S multiplies the fan-out rule's work per task (sm_parallel_set_grain_scale;\n"
            "                default 1, 0 = every op fans out): for tuning SM_PAR_GRAIN_*\n");
}

static int parse_size(const char *s, size_t *out, long max)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmd_model(const char *path, size_t threads, size_t iters, double warmup_ms, bool json)
{
    sm_error err;
    sm_smw *f = NULL;
    if (sm_smw_open(path, NULL, &f, &err) != SM_OK) {
        fprintf(stderr, "smw-bench: %s\n", err.msg);
        return 1;
    }
    sm_str arch = {"", 0};
    if (sm_smw_meta_string(f, "general.architecture", &arch, &err) != SM_OK) {
        fprintf(stderr, "smw-bench: %s: no general.architecture: %s\n", path, err.msg);
        sm_smw_free(f);
        return 1;
    }
    const sm_model_kind *r;
    if (sm_model_kind_of(f, &r, &err) != SM_OK) {
        fprintf(stderr, "smw-bench: %s (models/model_registry.c lists the kinds)\n", err.msg);
        sm_smw_free(f);
        return 2;
    }
    sm_threadpool *pool = NULL;
    if (threads > 1 && sm_threadpool_init(&pool, threads, &err) != SM_OK) {
        fprintf(stderr, "smw-bench: %s\n", err.msg);
        sm_smw_free(f);
        return 1;
    }
    double *ms = calloc(iters, sizeof *ms);
    sm_bench_model_opts o = {threads, iters, warmup_ms, pool};
    sm_bench_model_result res = {0, ms, 1, "", 0};
    int rc = 0;
    if (!ms || sm_bench_model_run(r, f, &o, &res, &err) != SM_OK) {
        fprintf(stderr, "smw-bench: %s: %s\n", path, ms ? err.msg : "out of memory");
        rc = 1;
    } else {
        qsort(ms, iters, sizeof *ms, cmp_double);
        double med = ms[iters / 2], min = ms[0];
        size_t calls = res.calls_per_run > 1 ? res.calls_per_run : 1;
        const char *isa = "";
        double peak = sm_bench_fma_peak(&isa) * (double)threads;
        double gfs = res.gflop > 0 ? res.gflop / (med * 1e-3) : 0;
        /* which BF16 GEMM kernel the convs ran (native vdpbf16ps, or the AVX2/scalar
         * widen emulation on a CPU without avx512_bf16), so a timing row says so */
        bool bf16 = sm_precision_active() == SM_PRECISION_BF16;
        const char *kern = bf16 ? sm_bf16_gemm_for(sm_isa_active())->name : NULL;
        if (json)
            printf("{\"model\": \"%s\", \"arch\": \"%.*s\", \"input\": \"%s\", \"threads\": %zu, "
                   "\"median_ms\": %.6g, \"min_ms\": %.6g, \"runs\": %zu, \"calls_per_run\": %zu, "
                   "\"gflops\": %.2f, \"pct_peak\": %.1f, \"precision\": \"%s\", \"bf16_native\": %s, "
                   "\"fanouts_per_run\": %.1f, \"isa\": \"%s\", \"bf16_kernel\": %s%s%s}\n",
                   path, (int)arch.len, arch.ptr, res.input, threads, med, min, iters, calls, gfs,
                   peak > 0 ? 100 * gfs / peak : 0, sm_precision_name(sm_precision_active()),
                   sm_precision_native() ? "true" : "false", res.fanouts, sm_isa_name(sm_isa_active()),
                   kern ? "\"" : "", kern ? kern : "null", kern ? "\"" : "");
        else
            printf("%s (%.*s, %s, %s%s%s): median %.4g ms, min %.4g ms over %zu runs%s, %.2f GFLOP/s "
                   "(%.1f%% of %.1f)\n",
                   path, (int)arch.len, arch.ptr, res.input, sm_precision_name(sm_precision_active()),
                   kern ? " " : "", kern ? kern : "", med, min, iters,
                   calls > 1 ? " (each the mean of a batch of calls)" : "", gfs,
                   peak > 0 ? 100 * gfs / peak : 0, peak);
    }
    free(ms);
    sm_threadpool_free(pool);
    sm_smw_free(f);
    return rc;
}

int main(int argc, char **argv)
{
    sm_error perr = {0};
    if (sm_precision_take_arg(&argc, argv, &perr) != SM_OK) {
        fprintf(stderr, "smw-bench: %s\n", perr.msg);
        return 2;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    sm_bench_kernel_opts ko = {1, false, NULL, 0.15};
    size_t iters = 20;
    double warmup_ms = 0;
    const char *file = NULL;
    bool is_model = !strcmp(argv[1], "model");
    if (!is_model && strcmp(argv[1], "kernels")) {
        fprintf(stderr, "smw-bench: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            ko.json = true;
        } else if (!strcmp(a, "--threads") && i + 1 < argc) {
            if (parse_size(argv[++i], &ko.threads, 1024)) {
                fprintf(stderr, "smw-bench: --threads needs 1..1024, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--iters") && i + 1 < argc) {
            if (parse_size(argv[++i], &iters, 100000)) {
                fprintf(stderr, "smw-bench: --iters needs 1..100000, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--grain-scale") && i + 1 < argc) {
            char *end;
            double g = strtod(argv[++i], &end);
            if (*end || !(g >= 0 && g <= 1000)) {
                fprintf(stderr, "smw-bench: --grain-scale needs 0..1000, got '%s'\n", argv[i]);
                return 2;
            }
            sm_parallel_set_grain_scale(g);
        } else if (!strcmp(a, "--warmup-ms") && i + 1 < argc) {
            char *end;
            warmup_ms = strtod(argv[++i], &end);
            if (*end || !(warmup_ms >= 0 && warmup_ms <= 60000)) {
                fprintf(stderr, "smw-bench: --warmup-ms needs 0..60000, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--filter") && i + 1 < argc) {
            ko.filter = argv[++i];
        } else if (!strcmp(a, "--seconds") && i + 1 < argc) {
            char *end;
            ko.min_seconds = strtod(argv[++i], &end);
            if (*end || !(ko.min_seconds >= 0 && ko.min_seconds <= 60)) {
                fprintf(stderr, "smw-bench: --seconds needs 0..60, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (is_model && !file && a[0] != '-') {
            file = a;
        } else {
            fprintf(stderr, "smw-bench: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (is_model) {
        if (!file) {
            fprintf(stderr, "smw-bench: model needs a FILE.smw\n");
            return 2;
        }
        return cmd_model(file, ko.threads, iters, warmup_ms, ko.json);
    }
    return sm_bench_kernels(&ko);
}
