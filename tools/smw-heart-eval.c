/* smw-heart-eval: accuracy of the heart-rate estimators on replayed traces
 * against contact ground truth (make eval-heart; heart_eval.h says what is
 * measured). For every DIR/<clip>.trace.csv with a DIR/<clip>.gt.csv: MAE,
 * RMSE, Pearson r and the share of time with a reading, per clip and over all
 * clips, for POS, CHROM, the seed's network and the gated readings; the
 * shipped default (SM_HEART_DEFAULT_METHOD) is marked. */
#include "heart_eval.h"
#include "heart_trace.h"
#include "mirror.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: smw-heart-eval DIR [--pooled] [--clips]\n"
    "  DIR       folder of <clip>.trace.csv (smartmirror --heart-trace) and <clip>.gt.csv (t,bpm)\n"
    "  --pooled  one pooled trace of all regions instead of per-region weighted spectra\n"
    "  --clips   also print one table row per clip\n";

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_row(const char *name, const sm_heart_acc acc[SM_EVAL_N], int def)
{
    printf("| %s |", name);
    for (int k = 0; k < SM_EVAL_N; k++) {
        sm_heart_stats s = sm_heart_acc_stats(&acc[k]);
        (void)def;
        if (s.n == 0)
            printf(" - | - | - | %.0f%% |", 100.0 * s.coverage);
        else
            printf(" %.2f | %.2f | %s%.2f | %.0f%% |", s.mae, s.rmse, isfinite(s.r) ? "" : "",
                   isfinite(s.r) ? s.r : NAN, 100.0 * s.coverage);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    bool pooled = false, clips = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--pooled"))
            pooled = true;
        else if (!strcmp(argv[i], "--clips"))
            clips = true;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (argv[i][0] == '-' || dir) {
            fprintf(stderr, "smw-heart-eval: unexpected argument '%s'\n%s", argv[i], usage);
            return 2;
        } else {
            dir = argv[i];
        }
    }
    if (!dir) {
        fputs(usage, stderr);
        return 2;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "smw-heart-eval: %s: cannot open the folder\n", dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t l = strlen(e->d_name);
        if (l <= 10 || strcmp(e->d_name + l - 10, ".trace.csv") != 0 || e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                return 1;
            names = nn;
        }
        names[n] = strndup(e->d_name, l - 10);
        if (!names[n])
            return 1;
        n++;
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "smw-heart-eval: %s: no <clip>.trace.csv files\n", dir);
        return 1;
    }
    qsort(names, n, sizeof *names, cmp_str);
    sm_heart_acc total[SM_EVAL_N];
    memset(total, 0, sizeof total);
    sm_heart_config cfg = {.method = SM_HEART_POS, .pooled = pooled};
    int def = SM_HEART_DEFAULT_METHOD == SM_HEART_CHROM ? SM_EVAL_CHROM_GATE : SM_EVAL_POS_GATE;
    printf("heart-rate estimators vs contact ground truth, %zu clips in %s%s\n", n, dir,
           pooled ? " (pooled regions)" : "");
    printf("columns per estimator: MAE (BPM) | RMSE (BPM) | Pearson r | share of time with a reading\n");
    printf("shipped default: %s\n\n", sm_heart_eval_names[def]);
    printf("| clip |");
    for (int k = 0; k < SM_EVAL_N; k++)
        printf(" %s MAE | RMSE | r | given |", sm_heart_eval_names[k]);
    printf("\n|---|");
    for (int k = 0; k < SM_EVAL_N; k++)
        printf("---:|---:|---:|---:|");
    printf("\n");
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char tp[4096], gp[4096];
        snprintf(tp, sizeof tp, "%s/%s.trace.csv", dir, names[i]);
        snprintf(gp, sizeof gp, "%s/%s.gt.csv", dir, names[i]);
        sm_heart_sample *s = NULL;
        double *gt = NULL;
        size_t ns = 0, ng = 0;
        sm_error err = {0};
        sm_heart_acc acc[SM_EVAL_N];
        memset(acc, 0, sizeof acc);
        if (sm_heart_trace_read(tp, &s, &ns, &err) != SM_OK || sm_heart_gt_read(gp, &gt, &ng, &err) != SM_OK ||
            sm_heart_eval_clip(s, ns, gt, gt + ng, ng, &cfg, acc, &err) != SM_OK) {
            fprintf(stderr, "smw-heart-eval: %s\n", err.msg);
            rc = 1;
        } else {
            if (clips)
                print_row(names[i], acc, def);
            for (int k = 0; k < SM_EVAL_N; k++)
                sm_heart_acc_merge(&total[k], &acc[k]);
        }
        free(s);
        free(gt);
        free(names[i]);
    }
    free(names);
    print_row("**all**", total, def);
    printf("\n| estimator | MAE | RMSE | r | given | points |\n|---|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < SM_EVAL_N; k++) {
        sm_heart_stats s = sm_heart_acc_stats(&total[k]);
        printf("| %s%s | %.2f | %.2f | %.2f | %.0f%% | %zu |\n", sm_heart_eval_names[k],
               k == def ? " (default)" : "", s.mae, s.rmse, s.r, 100.0 * s.coverage, s.n);
    }
    return rc;
}
