/* smw-fatigue-eval: replays recorded fatigue feature tracks through the
 * mirror's fatigue path (no video) and prints, per clip and rule set, the
 * events found against the hand annotations (issue 14, docs/FATIGUE.md).
 *
 *   smw-fatigue-eval [--rules seed|wellness|both] [--mlp FILE.smw|none] [--trace] PATH...
 *
 * PATH is a <clip>.track.csv (its <clip>.events.csv beside it) or a folder,
 * whose *.track.csv files are taken in name order. --mlp defaults to
 * models/fatigue_mlp.smw when it is readable (the seed's fusion runs on the
 * MLP as app.py did), else none (the seed's rule estimator). --trace prints
 * one CSV line per frame and rule set instead of the table. */
#include "fatigue_replay.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: smw-fatigue-eval [--rules seed|wellness|both] [--mlp FILE.smw|none] [--trace] PATH...\n"
    "  PATH: a <clip>.track.csv (with <clip>.events.csv beside it) or a folder of them\n";

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && !strcmp(s + n - k, suf);
}

typedef struct {
    char **v;
    size_t n, cap;
} list;

static int add(list *l, const char *s)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 16;
        char **nv = realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n] = strdup(s);
    return l->v[l->n++] ? 0 : -1;
}

static int collect(list *l, const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        if (!ends_with(path, ".track.csv")) {
            fprintf(stderr, "smw-fatigue-eval: %s: not a folder or a .track.csv file\n", path);
            return -1;
        }
        return add(l, path);
    }
    size_t first = l->n;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!ends_with(e->d_name, ".track.csv"))
            continue;
        char buf[4096];
        snprintf(buf, sizeof buf, "%s/%s", path, e->d_name);
        if (add(l, buf)) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
    if (l->n == first) {
        fprintf(stderr, "smw-fatigue-eval: %s: no .track.csv files\n", path);
        return -1;
    }
    return 0;
}

static void clip_name(const char *path, char *out, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, cap, "%s", b);
    size_t n = strlen(out), k = strlen(".track.csv");
    if (n >= k)
        out[n - k] = '\0';
}

typedef struct {
    int clips, closures, closures_found, closures_extra, sustained, in_time, held, false_alerts, episodes;
    int blinks, blinks_found, blinks_extra, yawns, yawns_found, yawns_extra, yawns_talk;
    int talk, clips_alert_talk;
} totals;

int main(int argc, char **argv)
{
    int rules_mask = 3; /* 1 seed, 2 wellness */
    const char *mlp_path = NULL;
    bool trace = false;
    list paths = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rules") && i + 1 < argc) {
            const char *v = argv[++i];
            rules_mask = !strcmp(v, "seed") ? 1 : !strcmp(v, "wellness") ? 2 : !strcmp(v, "both") ? 3 : 0;
            if (!rules_mask) {
                fprintf(stderr, "smw-fatigue-eval: --rules: '%s' is not seed, wellness or both\n", v);
                return 2;
            }
        } else if (!strcmp(argv[i], "--mlp") && i + 1 < argc) {
            mlp_path = argv[++i];
        } else if (!strcmp(argv[i], "--trace")) {
            trace = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "smw-fatigue-eval: unknown option '%s'\n%s", argv[i], usage);
            return 2;
        } else if (collect(&paths, argv[i])) {
            return 1;
        }
    }
    if (!paths.n) {
        fputs(usage, stderr);
        return 2;
    }
    if (!mlp_path)
        mlp_path = access("models/fatigue_mlp.smw", R_OK) == 0 ? "models/fatigue_mlp.smw" : "none";
    sm_fatigue_mlp *mlp = NULL;
    int col = -1;
    sm_error err;
    if (strcmp(mlp_path, "none")) {
        if (sm_fatigue_mlp_load_file(mlp_path, &mlp, &err) != SM_OK) {
            fprintf(stderr, "smw-fatigue-eval: %s\n", err.msg);
            return 1;
        }
        const int64_t *cls = sm_fatigue_mlp_classes(mlp);
        for (uint32_t k = 0; cls && k < sm_fatigue_mlp_n_outputs(mlp) && k < 16; k++)
            if (cls[k] == 1)
                col = (int)k;
        if (col < 0 || sm_fatigue_mlp_n_features(mlp) != 5) {
            fprintf(stderr, "smw-fatigue-eval: %s: expected 5 features and a class 1 (non-drowsy)\n", mlp_path);
            return 1;
        }
    }
    if (!trace) {
        printf("fatigue MLP: %s\n\n", mlp ? mlp_path : "none (seed: rule estimator)");
        printf("| clip | rules | closures found/annot (+extra) | sustained: alert <= 2 s / held | worst on, off delay (s) "
               "| false alerts | blinks found/annot (+extra) | yawns found/annot (+extra, in talk) | alert episodes |\n");
        printf("|---|---|---|---|---|---|---|---|---|\n");
    } else {
        printf("clip,rules,t,valid,ear,mar,eyes_closed,closed_s,blinks,yawns,microsleeps,alert,level,p_drowsy,state\n");
    }
    totals tot[2] = {{0}};
    int rc = 0;
    for (size_t c = 0; c < paths.n; c++) {
        char ev_path[4096], name[256];
        snprintf(ev_path, sizeof ev_path, "%.*s.events.csv", (int)(strlen(paths.v[c]) - strlen(".track.csv")),
                 paths.v[c]);
        clip_name(paths.v[c], name, sizeof name);
        sm_track tr;
        if (sm_track_load(paths.v[c], ev_path, &tr, &err) != SM_OK) {
            fprintf(stderr, "smw-fatigue-eval: %s\n", err.msg);
            rc = 1;
            continue;
        }
        for (int r = 0; r < 2; r++) {
            if (!(rules_mask & (1 << r)))
                continue;
            sm_replay_frame *fr;
            const char *rn = r ? "wellness" : "seed";
            if (sm_track_replay(&tr, r ? SM_FATIGUE_RULES_WELLNESS : SM_FATIGUE_RULES_SEED, mlp, col, &fr, &err) !=
                SM_OK) {
                fprintf(stderr, "smw-fatigue-eval: %s: %s\n", name, err.msg);
                rc = 1;
                continue;
            }
            if (trace) {
                for (size_t i = 0; i < tr.n; i++)
                    printf("%s,%s,%.3f,%d,%.5g,%.5g,%d,%.3f,%d,%d,%d,%d,%.3f,%.3f,%s\n", name, rn, fr[i].t, fr[i].valid,
                           fr[i].ear, fr[i].mar, fr[i].eyes_closed, fr[i].closed_s, fr[i].blinks, fr[i].yawns,
                           fr[i].microsleeps, fr[i].alert, fr[i].level, fr[i].p_drowsy,
                           fr[i].state ? fr[i].state : "");
                free(fr);
                continue;
            }
            sm_fatigue_score s;
            sm_track_score(&tr, fr, &s);
            free(fr);
            printf("| %s | %s | %d/%d (+%d) | %d/%d / %d/%d | %.2f, %.2f | %d | %d/%d (+%d) | %d/%d (+%d, %d) | %s |\n",
                   name, rn, s.closures_found, s.closures, s.closures_extra, s.alerts_in_time, s.sustained,
                   s.alerts_held, s.sustained, s.worst_latency_s, s.worst_off_delay_s, s.false_alerts,
                   s.blinks_found, s.blinks, s.blinks_extra, s.yawns_found, s.yawns, s.yawns_extra, s.yawns_in_talk,
                   s.alert_times[0] ? s.alert_times : "none");
            totals *t = &tot[r];
            t->clips++;
            t->closures += s.closures;
            t->closures_found += s.closures_found;
            t->closures_extra += s.closures_extra;
            t->sustained += s.sustained;
            t->in_time += s.alerts_in_time;
            t->held += s.alerts_held;
            t->false_alerts += s.false_alerts;
            t->episodes += s.alert_episodes;
            t->blinks += s.blinks;
            t->blinks_found += s.blinks_found;
            t->blinks_extra += s.blinks_extra;
            t->yawns += s.yawns;
            t->yawns_found += s.yawns_found;
            t->yawns_extra += s.yawns_extra;
            t->yawns_talk += s.yawns_in_talk;
            t->talk += s.talk;
            t->clips_alert_talk += s.talk > 0 && s.false_alerts > 0;
        }
        sm_track_free(&tr);
    }
    if (!trace) {
        printf("\n| rules | clips | closures found/annot (+extra) | sustained: alert <= 2 s / held | false alerts "
               "(clips with talk and a false alert) | blinks found/annot (+extra) | yawns found/annot (+extra, in talk) |\n");
        printf("|---|---|---|---|---|---|---|\n");
        for (int r = 0; r < 2; r++) {
            const totals *t = &tot[r];
            if (!t->clips)
                continue;
            printf("| %s | %d | %d/%d (+%d) | %d/%d / %d/%d | %d (%d) | %d/%d (+%d) | %d/%d (+%d, %d) |\n",
                   r ? "wellness" : "seed", t->clips, t->closures_found, t->closures, t->closures_extra, t->in_time,
                   t->sustained, t->held, t->sustained, t->false_alerts, t->clips_alert_talk, t->blinks_found,
                   t->blinks, t->blinks_extra, t->yawns_found, t->yawns, t->yawns_extra, t->yawns_talk);
        }
    }
    for (size_t i = 0; i < paths.n; i++)
        free(paths.v[i]);
    free(paths.v);
    sm_fatigue_mlp_free(mlp);
    return rc;
}
