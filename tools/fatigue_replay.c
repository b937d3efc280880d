/* The mirror's fatigue path over a track, and its events scored (fatigue_replay.h);
 * the track files are read in fatigue_track.c. */
#include "fatigue_replay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- replay ------------------------------------------------------------------------------ */

typedef struct {
    sm_fatigue_mlp *mlp;
    int col;
} mlp_ctx;

static sm_status mlp_fn(void *ctx, const double x[5], double *p1, sm_error *err)
{
    (void)err;
    mlp_ctx *c = ctx;
    double proba[16];
    sm_fatigue_mlp_predict_proba(c->mlp, x, 1, proba);
    *p1 = proba[c->col];
    return SM_OK;
}

sm_status sm_track_replay(const sm_track *tr, sm_fatigue_rules rules, sm_fatigue_mlp *mlp, int mlp_col,
                          sm_replay_frame **frames, sm_error *err)
{
    if (!tr || !frames || (mlp && (mlp_col < 0 || mlp_col >= 16)))
        return sm_error_set(err, SM_ERR_ARG, "replay: bad arguments");
    mlp_ctx mc = {mlp, mlp_col};
    sm_mirror_config cfg = {true, 0, NULL, mlp ? mlp_fn : NULL, &mc, NULL, NULL, NULL};
    sm_mirror *m = NULL;
    sm_status st = sm_mirror_init(&m, &cfg, err);
    if (st == SM_OK)
        st = sm_mirror_set_fatigue_rules(m, rules, err);
    sm_replay_frame *fr = calloc(tr->n ? tr->n : 1, sizeof *fr);
    sm_face_result *face = calloc(1, sizeof *face);
    sm_mirror_result *r = malloc(sizeof *r);
    if (st == SM_OK && (!fr || !face || !r))
        st = sm_error_set(err, SM_ERR_NOMEM, "replay: out of memory");
    for (size_t i = 0; st == SM_OK && i < tr->n; i++) {
        const sm_track_row *row = &tr->rows[i];
        sm_fatigue_feats ft = {0};
        ft.ear = ft.ear_left = ft.ear_right = row->ear;
        ft.mar = row->mar;
        ft.yawn = row->mar > SM_FATIGUE_YAWN_MAR;
        ft.tilt_deg = row->tilt_deg;
        ft.pitch_ratio = row->pitch_ratio;
        face->valid = row->face;
        face->n_landmarks = SM_MAX_LANDMARKS;
        face->box[2] = (float)row->box_w;
        sm_mirror_input in = {0};
        in.frame = (int64_t)i;
        in.t = row->t;
        in.face = row->face ? face : NULL;
        in.feats = row->face ? &ft : NULL;
        st = sm_mirror_step(m, &in, r, err);
        const sm_fatigue_result *fa = &r->fatigue;
        fr[i] = (sm_replay_frame){row->t, fa->valid, fa->alert, fa->eyes_closed, fa->blinks, fa->yawns,
                                  fa->microsleeps, fa->long_closures, fa->level, fa->p_drowsy, fa->closed_s,
                                  fa->ear, fa->mar, fa->state};
    }
    /* the source ends: as when the face goes, a closure in progress is finished
     * (a blink cut by the end of a clip still counts) */
    if (st == SM_OK && tr->n) {
        sm_mirror_input in = {0};
        in.frame = (int64_t)tr->n;
        in.t = tr->rows[tr->n - 1].t + 1.0;
        st = sm_mirror_step(m, &in, r, err);
        fr[tr->n - 1].blinks = r->fatigue.blinks;
    }
    free(face);
    free(r);
    sm_mirror_free(m);
    if (st != SM_OK) {
        free(fr);
        return st;
    }
    *frames = fr;
    return SM_OK;
}

/* ---- scoring ----------------------------------------------------------------------------- */

static bool overlaps(double a0, double a1, double b0, double b1)
{
    return a0 < b1 && b0 < a1;
}

static bool in_kind(const sm_track *tr, sm_track_event_kind k, double t0, double t1, double pad)
{
    for (size_t e = 0; e < tr->n_events; e++)
        if (tr->events[e].kind == k && overlaps(t0, t1, tr->events[e].start - pad, tr->events[e].end + pad))
            return true;
    return false;
}

/* One-to-one matching of counter increments to annotated events of a kind,
 * an increment at t matching [start - before, end + after]. */
static int blinks_of(const sm_replay_frame *f) { return f->blinks; }
static int yawns_of(const sm_replay_frame *f) { return f->yawns; }

static void match_counts(const sm_track *tr, const sm_replay_frame *fr, sm_track_event_kind kind,
                         int (*count)(const sm_replay_frame *), double before, double after, int *annotated, int *found, int *extra, int *extra_in_talk)
{
    bool used[256] = {false};
    *annotated = *found = *extra = 0;
    if (extra_in_talk)
        *extra_in_talk = 0;
    for (size_t e = 0; e < tr->n_events; e++)
        *annotated += tr->events[e].kind == kind && !tr->events[e].partial;
    for (size_t i = 0; i < tr->n; i++) {
        int prev = i ? count(&fr[i - 1]) : 0, cur = count(&fr[i]);
        for (int k = prev; k < cur; k++) {
            double t = fr[i].t;
            bool hit = false, partial = false;
            for (size_t e = 0; e < tr->n_events && e < 256; e++) {
                const sm_track_event *ev = &tr->events[e];
                if (ev->kind != kind || used[e] || t < ev->start - before || t > ev->end + after)
                    continue;
                used[e] = true;
                hit = !ev->partial;
                partial = ev->partial;
                break;
            }
            if (hit)
                (*found)++;
            else if (!partial) {
                (*extra)++;
                if (extra_in_talk && in_kind(tr, SM_TEV_TALK, t, t, 0.0))
                    (*extra_in_talk)++;
            }
        }
    }
}

void sm_track_score(const sm_track *tr, const sm_replay_frame *fr, sm_fatigue_score *s)
{
    memset(s, 0, sizeof *s);
    size_t n = tr->n;
    double t_end = n ? fr[n - 1].t : 0.0;
    /* detected closures: eyes-closed runs of >= 0.5 s */
    bool ann_found[256] = {false};
    for (size_t i = 0; i < n;) {
        if (!fr[i].eyes_closed) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && fr[j].eyes_closed)
            j++;
        double t0 = fr[i].t, t1 = j < n ? fr[j].t : t_end;
        if (t1 - t0 >= 0.5) {
            bool matched = false;
            for (size_t e = 0; e < tr->n_events && e < 256; e++)
                if (tr->events[e].kind == SM_TEV_CLOSURE && overlaps(t0, t1, tr->events[e].start, tr->events[e].end)) {
                    ann_found[e] = true;
                    matched = true;
                }
            s->closures_extra += !matched;
        }
        i = j;
    }
    for (size_t e = 0; e < tr->n_events && e < 256; e++) {
        const sm_track_event *ev = &tr->events[e];
        if (ev->kind == SM_TEV_TALK)
            s->talk++;
        if (ev->kind != SM_TEV_CLOSURE)
            continue;
        s->closures++;
        s->closures_found += ann_found[e];
        if (ev->end - ev->start < 1.0)
            continue;
        s->sustained++;
        /* alert on within 2 s of the start, then held until the eyes open */
        size_t on = n;
        for (size_t i = 0; i < n && fr[i].t <= ev->start + 2.0; i++)
            if (fr[i].t >= ev->start - 0.2 && fr[i].alert) {
                on = i;
                break;
            }
        if (on == n)
            continue;
        s->alerts_in_time++;
        double lat = fr[on].t - ev->start;
        if (lat > s->worst_latency_s)
            s->worst_latency_s = lat;
        bool held = true;
        size_t i = on;
        for (; i < n && fr[i].t < ev->end - 0.25; i++)
            held = held && fr[i].alert;
        s->alerts_held += held;
        while (i < n && fr[i].alert)
            i++;
        double off = (i < n ? fr[i].t : t_end) - ev->end;
        if (off > s->worst_off_delay_s)
            s->worst_off_delay_s = off;
    }
    /* alert episodes */
    size_t len = 0;
    s->alert_times[0] = '\0';
    for (size_t i = 0; i < n;) {
        if (!fr[i].alert) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && fr[j].alert)
            j++;
        double t0 = fr[i].t, t1 = j < n ? fr[j].t : t_end;
        s->alert_episodes++;
        if (!in_kind(tr, SM_TEV_CLOSURE, t0, t0, 0.2))
            s->false_alerts++;
        if (len + 40 < sizeof s->alert_times)
            len += (size_t)snprintf(s->alert_times + len, sizeof s->alert_times - len, "%son %.2f-%.2f",
                                    len ? ", " : "", t0, t1);
        i = j;
    }
    match_counts(tr, fr, SM_TEV_BLINK, blinks_of, 0.1, 0.6, &s->blinks, &s->blinks_found,
                 &s->blinks_extra, NULL);
    match_counts(tr, fr, SM_TEV_YAWN, yawns_of, 0.5, 1.0, &s->yawns, &s->yawns_found,
                 &s->yawns_extra, &s->yawns_in_talk);
}
