/* Serialises sm_mirror_result as one JSON line (layout in json.h). */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *s;
    size_t n, cap;
    bool oom;
} sb;

static void sb_add(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sb *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = b->cap * 2 + (size_t)k;
        char *p = realloc(b->s, nc);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = nc;
    }
}

static void num(sb *b, double v)
{
    if (isfinite(v))
        sb_add(b, "%.6g", v);
    else
        sb_add(b, "null");
}

static void str(sb *b, const char *s)
{
    if (!s) {
        sb_add(b, "null");
        return;
    }
    sb_add(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            sb_add(b, "\\%c", c);
        else if (c < 0x20)
            sb_add(b, "\\u%04x", c);
        else
            sb_add(b, "%c", c);
    }
    sb_add(b, "\"");
}

static void key(sb *b, const char *k, bool first)
{
    sb_add(b, first ? "\"%s\":" : ",\"%s\":", k);
}

char *sm_result_to_json(const sm_mirror_result *r, bool landmarks)
{
    sb b = {malloc(4096), 0, 4096, false};
    if (!b.s)
        return NULL;
    b.s[0] = '\0';
    sb_add(&b, "{\"frame\":%lld,\"t\":", (long long)r->frame);
    num(&b, r->t);
    /* Unix seconds need more digits than %.6g gives: milliseconds */
    if (r->wall > 0 && isfinite(r->wall))
        sb_add(&b, ",\"wall\":%.3f", r->wall);
    else
        sb_add(&b, ",\"wall\":null");

    const sm_face_result *f = &r->face;
    key(&b, "face", false);
    if (!f->valid) {
        sb_add(&b, "null");
    } else {
        sb_add(&b, "{\"score\":");
        num(&b, f->score);
        sb_add(&b, ",\"box\":[");
        for (int i = 0; i < 4; i++) {
            if (i)
                sb_add(&b, ",");
            num(&b, f->box[i]);
        }
        sb_add(&b, "]");
        if (landmarks) {
            sb_add(&b, ",\"landmarks\":[");
            int n = f->n_landmarks < 0 ? 0 : f->n_landmarks > SM_MAX_LANDMARKS ? SM_MAX_LANDMARKS : f->n_landmarks;
            for (int i = 0; i < n; i++) {
                sb_add(&b, i ? ",[" : "[");
                for (int k = 0; k < 3; k++) {
                    if (k)
                        sb_add(&b, ",");
                    num(&b, f->landmarks[i][k]);
                }
                sb_add(&b, "]");
            }
            sb_add(&b, "]");
        }
        sb_add(&b, "}");
    }

    const sm_fatigue_result *fa = &r->fatigue;
    key(&b, "fatigue", false);
    if (!fa->available || !fa->valid) {
        sb_add(&b, "null");
    } else {
        sb_add(&b, "{\"ear\":"); num(&b, fa->ear);
        sb_add(&b, ",\"mar\":"); num(&b, fa->mar);
        sb_add(&b, ",\"yawn\":%s", fa->yawn ? "true" : "false");
        sb_add(&b, ",\"tilt_deg\":"); num(&b, fa->tilt_deg);
        sb_add(&b, ",\"pitch_ratio\":"); num(&b, fa->pitch_ratio);
        sb_add(&b, ",\"p_drowsy\":"); num(&b, fa->p_drowsy);
        sb_add(&b, ",\"estimator\":"); str(&b, fa->estimator);
        sb_add(&b, ",\"perclos\":"); num(&b, fa->perclos);
        sb_add(&b, ",\"blinks_per_min\":"); num(&b, fa->blinks_per_min);
        sb_add(&b, ",\"yawns\":%d", fa->yawns);
        sb_add(&b, ",\"alert\":%s", fa->alert ? "true" : "false");
        /* issue 14: the calibrated detector's view (seed rules: level = p_drowsy) */
        sb_add(&b, ",\"rules\":"); str(&b, fa->rules);
        sb_add(&b, ",\"level\":"); num(&b, fa->level);
        sb_add(&b, ",\"state\":"); str(&b, fa->state);
        sb_add(&b, ",\"eyes\":\"%s\"", fa->eyes_closed ? "closed" : "open");
        sb_add(&b, ",\"closed_s\":"); num(&b, fa->closed_s);
        sb_add(&b, ",\"microsleeps\":%d,\"long_closures\":%d,\"nods\":%d", fa->microsleeps, fa->long_closures,
               fa->nods);
        sb_add(&b, ",\"blink_ms\":"); num(&b, fa->blink_ms);
        sb_add(&b, ",\"calibrated\":%s", fa->calibrated ? "true" : "false");
        sb_add(&b, ",\"calib_remaining_s\":"); num(&b, fa->calib_remaining_s);
        sb_add(&b, ",\"ear_open\":"); num(&b, fa->ear_open);
        sb_add(&b, ",\"ear_closed_thresh\":"); num(&b, fa->ear_closed_thresh);
        sb_add(&b, ",\"mar_rest\":"); num(&b, fa->mar_rest);
        sb_add(&b, ",\"mar_yawn_thresh\":"); num(&b, fa->mar_yawn_thresh);
        sb_add(&b, "}");
    }

    const sm_emotion_result *e = &r->emotion;
    key(&b, "emotion", false);
    if (!e->available || !e->valid) {
        sb_add(&b, "null");
    } else {
        int n = e->n_labels < 0 ? 0 : e->n_labels > SM_MAX_EMOTIONS ? SM_MAX_EMOTIONS : e->n_labels;
        sb_add(&b, "{\"label\":");
        str(&b, e->label >= 0 && e->label < n ? e->labels[e->label] : NULL);
        sb_add(&b, ",\"conf\":"); num(&b, e->conf);
        sb_add(&b, ",\"probs\":{");
        for (int i = 0; i < n; i++) {
            if (i)
                sb_add(&b, ",");
            str(&b, e->labels[i] ? e->labels[i] : "?");
            sb_add(&b, ":");
            num(&b, e->probs[i]);
        }
        sb_add(&b, "},\"valence\":"); num(&b, e->valence);
        sb_add(&b, ",\"arousal\":"); num(&b, e->arousal);
        sb_add(&b, ",\"gate\":["); num(&b, e->gate[0]);
        sb_add(&b, ","); num(&b, e->gate[1]);
        sb_add(&b, "],\"model_name\":"); str(&b, e->model_name);
        sb_add(&b, "}");
    }

    const sm_heart_result *h = &r->heart;
    key(&b, "heart", false);
    if (!h->valid_pos && !h->valid_net && !h->valid_stress && !h->valid_bpm && !h->reason) {
        sb_add(&b, "null");
    } else {
        sb_add(&b, "{\"bpm_pos\":"); num(&b, h->valid_pos ? h->bpm_pos : NAN);
        sb_add(&b, ",\"quality_db\":"); num(&b, h->valid_pos ? h->quality_db : NAN);
        sb_add(&b, ",\"bpm_net\":"); num(&b, h->valid_net ? h->bpm_net : NAN);
        sb_add(&b, ",\"stress\":"); num(&b, h->valid_stress ? h->stress : NAN);
        sb_add(&b, ",\"stress_level\":"); str(&b, h->valid_stress ? h->stress_level : NULL);
        /* issue 15: the shown reading; a held or stale value is last_bpm, never bpm */
        sb_add(&b, ",\"bpm\":"); num(&b, h->valid_bpm ? h->bpm : NAN);
        sb_add(&b, ",\"source\":"); str(&b, h->source);
        sb_add(&b, ",\"quality\":"); num(&b, h->quality);
        sb_add(&b, ",\"reason\":"); str(&b, h->valid_bpm ? NULL : h->reason);
        sb_add(&b, ",\"last_bpm\":"); num(&b, h->valid_bpm ? NAN : h->bpm);
        sb_add(&b, ",\"stale\":%s", h->stale ? "true" : "false");
        sb_add(&b, ",\"age_s\":"); num(&b, isfinite(h->bpm) ? h->age_s : NAN);
        sb_add(&b, ",\"bpm_chrom\":"); num(&b, h->valid_chrom ? h->bpm_chrom : NAN);
        sb_add(&b, ",\"quality_chrom_db\":"); num(&b, h->valid_chrom ? h->quality_chrom_db : NAN);
        sb_add(&b, ",\"baseline_bpm\":"); num(&b, h->valid_baseline ? h->baseline_bpm : NAN);
        sb_add(&b, ",\"stress_rel\":"); num(&b, h->valid_baseline && h->valid_bpm ? h->stress_rel : NAN);
        sb_add(&b, "}");
    }

    const sm_advisor_result *a = &r->advisor;
    key(&b, "advisor", false);
    if (!a->valid) {
        sb_add(&b, "null");
    } else {
        sb_add(&b, "{\"action\":%d,\"action_text\":", a->action);
        str(&b, a->action_text);
        sb_add(&b, ",\"reward\":");
        num(&b, a->has_reward ? a->reward : NAN);
        sb_add(&b, "}");
    }

    const sm_stage_ms *m = &r->ms;
    sb_add(&b, ",\"ms\":{\"face\":"); num(&b, m->face);
    sb_add(&b, ",\"fatigue\":"); num(&b, m->fatigue);
    sb_add(&b, ",\"emotion\":"); num(&b, m->emotion);
    sb_add(&b, ",\"heart\":"); num(&b, m->heart);
    sb_add(&b, ",\"advisor\":"); num(&b, m->advisor);
    sb_add(&b, ",\"total\":"); num(&b, m->total);
    sb_add(&b, "}}");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
