/* Serialises sm_mirror_result as one JSON line (layout in json.h). */
#include "json.h"
#include "json_writer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void num(sm_json *b, double v) { sm_json_num(b, v, -1); }

static void key(sm_json *b, const char *k, bool first)
{
    sm_json_add(b, first ? "\"%s\":" : ",\"%s\":", k);
}

char *sm_result_to_json(const sm_mirror_result *r, bool landmarks)
{
    sm_json b = {0};
    sm_json_add(&b, "{\"frame\":%lld,\"t\":", (long long)r->frame);
    num(&b, r->t);
    /* Unix seconds need more digits than %.6g gives: milliseconds */
    if (r->wall > 0 && isfinite(r->wall))
        sm_json_add(&b, ",\"wall\":%.3f", r->wall);
    else
        sm_json_add(&b, ",\"wall\":null");

    const sm_face_result *f = &r->face;
    key(&b, "face", false);
    if (!f->valid) {
        sm_json_add(&b, "null");
    } else {
        sm_json_add(&b, "{\"score\":");
        num(&b, f->score);
        sm_json_add(&b, ",\"box\":[");
        for (int i = 0; i < 4; i++) {
            if (i)
                sm_json_add(&b, ",");
            num(&b, f->box[i]);
        }
        sm_json_add(&b, "]");
        if (landmarks) {
            sm_json_add(&b, ",\"landmarks\":[");
            int n = f->n_landmarks < 0 ? 0 : f->n_landmarks > SM_MAX_LANDMARKS ? SM_MAX_LANDMARKS : f->n_landmarks;
            for (int i = 0; i < n; i++) {
                sm_json_add(&b, i ? ",[" : "[");
                for (int k = 0; k < 3; k++) {
                    if (k)
                        sm_json_add(&b, ",");
                    num(&b, f->landmarks[i][k]);
                }
                sm_json_add(&b, "]");
            }
            sm_json_add(&b, "]");
        }
        sm_json_add(&b, "}");
    }

    const sm_fatigue_result *fa = &r->fatigue;
    key(&b, "fatigue", false);
    if (!fa->available || !fa->valid) {
        sm_json_add(&b, "null");
    } else {
        sm_json_add(&b, "{\"ear\":"); num(&b, fa->ear);
        sm_json_add(&b, ",\"mar\":"); num(&b, fa->mar);
        sm_json_add(&b, ",\"yawn\":%s", fa->yawn ? "true" : "false");
        sm_json_add(&b, ",\"tilt_deg\":"); num(&b, fa->tilt_deg);
        sm_json_add(&b, ",\"pitch_ratio\":"); num(&b, fa->pitch_ratio);
        sm_json_add(&b, ",\"p_drowsy\":"); num(&b, fa->p_drowsy);
        sm_json_add(&b, ",\"estimator\":"); sm_json_str(&b, fa->estimator);
        sm_json_add(&b, ",\"perclos\":"); num(&b, fa->perclos);
        sm_json_add(&b, ",\"blinks_per_min\":"); num(&b, fa->blinks_per_min);
        sm_json_add(&b, ",\"yawns\":%d", fa->yawns);
        sm_json_add(&b, ",\"alert\":%s", fa->alert ? "true" : "false");
        /* issue 14: the calibrated detector's view (seed rules: level = p_drowsy) */
        sm_json_add(&b, ",\"rules\":"); sm_json_str(&b, fa->rules);
        sm_json_add(&b, ",\"level\":"); num(&b, fa->level);
        sm_json_add(&b, ",\"state\":"); sm_json_str(&b, fa->state);
        sm_json_add(&b, ",\"eyes\":\"%s\"", fa->eyes_closed ? "closed" : "open");
        sm_json_add(&b, ",\"closed_s\":"); num(&b, fa->closed_s);
        sm_json_add(&b, ",\"microsleeps\":%d,\"long_closures\":%d,\"nods\":%d", fa->microsleeps, fa->long_closures,
               fa->nods);
        sm_json_add(&b, ",\"blink_ms\":"); num(&b, fa->blink_ms);
        sm_json_add(&b, ",\"calibrated\":%s", fa->calibrated ? "true" : "false");
        sm_json_add(&b, ",\"calib_remaining_s\":"); num(&b, fa->calib_remaining_s);
        sm_json_add(&b, ",\"ear_open\":"); num(&b, fa->ear_open);
        sm_json_add(&b, ",\"ear_closed_thresh\":"); num(&b, fa->ear_closed_thresh);
        sm_json_add(&b, ",\"mar_rest\":"); num(&b, fa->mar_rest);
        sm_json_add(&b, ",\"mar_yawn_thresh\":"); num(&b, fa->mar_yawn_thresh);
        sm_json_add(&b, "}");
    }

    const sm_emotion_result *e = &r->emotion;
    key(&b, "emotion", false);
    if (!e->available || !e->valid) {
        sm_json_add(&b, "null");
    } else {
        int n = e->n_labels < 0 ? 0 : e->n_labels > SM_MAX_EMOTIONS ? SM_MAX_EMOTIONS : e->n_labels;
        sm_json_add(&b, "{\"label\":");
        sm_json_str(&b, e->label >= 0 && e->label < n ? e->labels[e->label] : NULL);
        sm_json_add(&b, ",\"conf\":"); num(&b, e->conf);
        sm_json_add(&b, ",\"probs\":{");
        for (int i = 0; i < n; i++) {
            if (i)
                sm_json_add(&b, ",");
            sm_json_str(&b, e->labels[i] ? e->labels[i] : "?");
            sm_json_add(&b, ":");
            num(&b, e->probs[i]);
        }
        sm_json_add(&b, "},\"valence\":"); num(&b, e->valence);
        sm_json_add(&b, ",\"arousal\":"); num(&b, e->arousal);
        sm_json_add(&b, ",\"gate\":["); num(&b, e->gate[0]);
        sm_json_add(&b, ","); num(&b, e->gate[1]);
        sm_json_add(&b, "],\"model_name\":"); sm_json_str(&b, e->model_name);
        sm_json_add(&b, "}");
    }

    const sm_heart_result *h = &r->heart;
    key(&b, "heart", false);
    if (!h->valid_pos && !h->valid_net && !h->valid_stress && !h->valid_bpm && !h->reason) {
        sm_json_add(&b, "null");
    } else {
        sm_json_add(&b, "{\"bpm_pos\":"); num(&b, h->valid_pos ? h->bpm_pos : NAN);
        sm_json_add(&b, ",\"quality_db\":"); num(&b, h->valid_pos ? h->quality_db : NAN);
        sm_json_add(&b, ",\"bpm_net\":"); num(&b, h->valid_net ? h->bpm_net : NAN);
        sm_json_add(&b, ",\"stress\":"); num(&b, h->valid_stress ? h->stress : NAN);
        sm_json_add(&b, ",\"stress_level\":"); sm_json_str(&b, h->valid_stress ? h->stress_level : NULL);
        /* issue 15: the shown reading; a held or stale value is last_bpm, never bpm */
        sm_json_add(&b, ",\"bpm\":"); num(&b, h->valid_bpm ? h->bpm : NAN);
        sm_json_add(&b, ",\"source\":"); sm_json_str(&b, h->source);
        sm_json_add(&b, ",\"quality\":"); num(&b, h->quality);
        sm_json_add(&b, ",\"reason\":"); sm_json_str(&b, h->valid_bpm ? NULL : h->reason);
        sm_json_add(&b, ",\"last_bpm\":"); num(&b, h->valid_bpm ? NAN : h->bpm);
        sm_json_add(&b, ",\"stale\":%s", h->stale ? "true" : "false");
        sm_json_add(&b, ",\"age_s\":"); num(&b, isfinite(h->bpm) ? h->age_s : NAN);
        sm_json_add(&b, ",\"bpm_chrom\":"); num(&b, h->valid_chrom ? h->bpm_chrom : NAN);
        sm_json_add(&b, ",\"quality_chrom_db\":"); num(&b, h->valid_chrom ? h->quality_chrom_db : NAN);
        sm_json_add(&b, ",\"baseline_bpm\":"); num(&b, h->valid_baseline ? h->baseline_bpm : NAN);
        sm_json_add(&b, ",\"stress_rel\":"); num(&b, h->valid_baseline && h->valid_bpm ? h->stress_rel : NAN);
        sm_json_add(&b, "}");
    }

    const sm_advisor_result *a = &r->advisor;
    key(&b, "advisor", false);
    if (!a->valid) {
        sm_json_add(&b, "null");
    } else {
        sm_json_add(&b, "{\"action\":%d,\"action_text\":", a->action);
        sm_json_str(&b, a->action_text);
        sm_json_add(&b, ",\"reward\":");
        num(&b, a->has_reward ? a->reward : NAN);
        sm_json_add(&b, "}");
    }

    const sm_stage_ms *m = &r->ms;
    sm_json_add(&b, ",\"ms\":{\"face\":"); num(&b, m->face);
    sm_json_add(&b, ",\"fatigue\":"); num(&b, m->fatigue);
    sm_json_add(&b, ",\"emotion\":"); num(&b, m->emotion);
    sm_json_add(&b, ",\"heart\":"); num(&b, m->heart);
    sm_json_add(&b, ",\"advisor\":"); num(&b, m->advisor);
    sm_json_add(&b, ",\"total\":"); num(&b, m->total);
    sm_json_add(&b, "}}");
    return sm_json_finish(&b);
}
