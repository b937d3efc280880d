/* Per-frame fusion of the analysis results (app.py's main loop), see mirror.h. */
#include "mirror.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    double v[SM_MIRROR_HISTORY][SM_MAX_EMOTIONS];
    int n, next, width;
} history;

static void hist_push(history *h, const double *v)
{
    memcpy(h->v[h->next], v, (size_t)h->width * sizeof(double));
    h->next = (h->next + 1) % SM_MIRROR_HISTORY;
    if (h->n < SM_MIRROR_HISTORY)
        h->n++;
}

static void hist_mean(const history *h, double *out)
{
    for (int k = 0; k < h->width; k++) {
        double s = 0;
        for (int i = 0; i < h->n; i++)
            s += h->v[i][k];
        out[k] = h->n ? s / h->n : 0.0;
    }
}

struct sm_mirror {
    sm_mirror_config cfg;
    char *labels[SM_MAX_EMOTIONS];
    int idx_happy, idx_surprise;
    sm_fatigue_tracker *tracker;
    sm_fatigue_events *events;     /* WELLNESS only */
    atomic_bool recalibrate;
    sm_pos *pos;
    sm_rppg_frames *frames;
    history emo, prob, stress;
    uint64_t frame_count;
    int streak;
    bool have_bpm_net;
    double bpm_net;
    const char *stress_source;
    bool net_failed_logged;
    int n_actions, n_rewards;
};

double sm_stress_score(double bpm, double prediction_error)
{
    double hr;
    if (bpm < 60)
        hr = 0.2;
    else if (bpm <= 80)
        hr = (bpm - 60) / 60.0;
    else if (bpm <= 100)
        hr = 0.33 + (bpm - 80) / 40.0;
    else
        hr = 0.83 + fmin((bpm - 100) / 100.0, 0.17);
    double penalty = fmin(prediction_error / 20.0, 0.15);
    double s = (hr + penalty) * 100.0;
    return s < 0.0 ? 0.0 : (s > 100.0 ? 100.0 : s);
}

const char *sm_stress_level(double score)
{
    if (score < 30)
        return "LOW (Relaxed)";
    if (score < 60)
        return "MODERATE";
    return "HIGH (Stressed)";
}

static double clamp01(double x)
{
    return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

double sm_fatigue_rules_p(double perclos, double ear, int yawn)
{
    double p_perclos = fmin(clamp01(perclos) / 0.30, 1.0);
    double p_ear = clamp01((0.25 - ear) / 0.10);
    return clamp01(0.6 * p_perclos + 0.4 * p_ear + 0.1 * (yawn ? 1.0 : 0.0));
}

const char *sm_advisor_action_text(int action)
{
    switch (action) {
    case 0: return "0 = No special action";
    case 1: return "1 = Take a short break suggestion";
    case 2: return "2 = Take a power nap suggestion";
    default: return "Unknown";
    }
}

void sm_mirror_free(sm_mirror *m)
{
    if (!m)
        return;
    for (int i = 0; i < SM_MAX_EMOTIONS; i++)
        free(m->labels[i]);
    sm_fatigue_tracker_free(m->tracker);
    sm_fatigue_events_free(m->events);
    sm_pos_free(m->pos);
    sm_rppg_frames_free(m->frames);
    free(m);
}

sm_status sm_mirror_init(sm_mirror **out, const sm_mirror_config *cfg, sm_error *err)
{
    if (!out || !cfg)
        return sm_error_set(err, SM_ERR_ARG, "mirror: NULL config");
    if (cfg->n_labels < 0 || cfg->n_labels > SM_MAX_EMOTIONS || (cfg->n_labels && !cfg->labels))
        return sm_error_set(err, SM_ERR_ARG, "mirror: emotion labels: expected 0..%d, found %d",
                            SM_MAX_EMOTIONS, cfg->n_labels);
    sm_mirror *m = calloc(1, sizeof *m);
    if (!m)
        return sm_error_set(err, SM_ERR_NOMEM, "mirror: out of memory");
    m->cfg = *cfg;
    m->idx_happy = m->idx_surprise = -1;
    for (int i = 0; i < cfg->n_labels; i++) {
        const char *l = cfg->labels[i] ? cfg->labels[i] : "";
        m->labels[i] = strdup(l);
        if (!m->labels[i]) {
            sm_mirror_free(m);
            return sm_error_set(err, SM_ERR_NOMEM, "mirror: out of memory");
        }
        if (strcasecmp(l, "happy") == 0)
            m->idx_happy = i;
        if (strcasecmp(l, "surprise") == 0)
            m->idx_surprise = i;
    }
    m->cfg.labels = NULL;
    atomic_init(&m->recalibrate, false);
    sm_status st = sm_fatigue_tracker_init(&m->tracker, err);
    if (st == SM_OK)
        st = sm_pos_init(&m->pos, err);
    if (st == SM_OK && cfg->net)
        st = sm_rppg_frames_init(&m->frames, err);
    if (st != SM_OK) {
        sm_mirror_free(m);
        return st;
    }
    m->emo.width = cfg->n_labels;
    m->prob.width = 1;
    m->stress.width = 1;
    *out = m;
    return SM_OK;
}

static void stress_reading(sm_mirror *m, double bpm, const char *source)
{
    double s = sm_stress_score(bpm, 0.0);
    hist_push(&m->stress, &s);
    m->stress_source = source;
}

static void step_heart(sm_mirror *m, const sm_mirror_input *in, bool face, sm_heart_result *h)
{
    bool pixels = in->rgb && in->width > 0 && in->height > 0 &&
                  in->stride >= 3 * (size_t)in->width;
    if (m->frames && pixels && sm_rppg_frames_push(m->frames, in->rgb, in->width, in->height,
                                                   in->stride)) {
        float bpm = 0.0f;
        sm_error e = {SM_OK, "no message"};
        const float *fr = sm_rppg_frames_ordered(m->frames);
        if (m->cfg.net(m->cfg.net_ctx, fr, sm_rppg_frames_count(m->frames), &bpm, &e) == SM_OK &&
            isfinite(bpm)) {
            m->bpm_net = bpm;
            m->have_bpm_net = true;
            stress_reading(m, bpm, "net");
        } else if (!m->net_failed_logged) {
            sm_log(SM_LOG_WARN, "heart rate network failed: %s", e.msg);
            m->net_failed_logged = true;
        }
    }
    if (face && pixels)
        sm_pos_push_frame(m->pos, in->t, in->rgb, in->width, in->height, in->stride,
                          &in->face->landmarks[0][0], in->face->n_landmarks, 3);
    else
        sm_pos_lost(m->pos);
    sm_pos_reading r;
    sm_pos_estimate(m->pos, &r);
    if (!m->cfg.net && r.valid && m->frame_count % 10 == 0)
        stress_reading(m, r.bpm, "pos");

    h->valid_pos = r.valid;
    h->bpm_pos = (float)r.bpm;
    h->quality_db = (float)r.quality_db;
    h->pos_signal_s = (float)r.signal_s;
    h->available_net = m->cfg.net != NULL;
    h->valid_net = m->have_bpm_net;
    h->bpm_net = (float)m->bpm_net;
    h->valid_stress = m->stress.n > 0;
    if (h->valid_stress) {
        double s;
        hist_mean(&m->stress, &s);
        h->stress = (float)s;
        h->stress_level = sm_stress_level(s);
        h->stress_source = m->stress_source;
    }
}

/* app.py's fusion exactly (fatigue rules SEED); returns the shown P(drowsy). */
static double step_seed(sm_mirror *m, const sm_fatigue_feats *feats_in, const sm_fatigue_stats *fst_in,
                        const char *fusion_label, double positivity, sm_fatigue_result *fa)
{
    const sm_fatigue_stats fst = *fst_in;
    bool have_feats = feats_in != NULL;
    sm_fatigue_feats feats = {0};
    if (have_feats)
        feats = *feats_in;
    if (have_feats) {
        sm_fatigue_feats f = feats;
        if (fusion_label && strcasecmp(fusion_label, "happy") == 0) {
            f.yawn = 0;
            f.mar = fmin(f.mar, 0.30);
        }
        double p_raw = 0.0;
        bool ok = true;
        if (m->cfg.mlp) {
            const double x[5] = {f.ear, f.mar, (double)f.yawn, f.tilt_deg, f.pitch_ratio};
            double p1 = 0.0;
            sm_error e = {SM_OK, "no message"};
            ok = m->cfg.mlp(m->cfg.mlp_ctx, x, &p1, &e) == SM_OK && isfinite(p1);
            if (!ok)
                sm_log(SM_LOG_WARN, "fatigue MLP failed: %s", e.msg);
            p_raw = 1.0 - p1;
        } else {
            p_raw = sm_fatigue_rules_p(fst.perclos, f.ear, f.yawn);
        }
        if (ok) {
            double p = p_raw * (1.0 - 0.4 * positivity);
            if (f.ear > 0.23 && f.mar < 0.35 && f.yawn == 0 && p > 0.5)
                p = 0.3;
            hist_push(&m->prob, &p);
        }
        fa->valid = true;
        fa->ear = (float)feats.ear;
        fa->mar = (float)feats.mar;
        fa->yawn = feats.yawn;
        fa->tilt_deg = (float)feats.tilt_deg;
        fa->pitch_ratio = (float)feats.pitch_ratio;
    } else if (m->prob.n == 0) {
        double zero = 0.0;
        hist_push(&m->prob, &zero);
    }
    double p_drowsy = 0.0;
    if (m->prob.n)
        hist_mean(&m->prob, &p_drowsy);
    m->streak = p_drowsy > SM_MIRROR_ALERT_P ? m->streak + 1 : 0;
    fa->p_drowsy = (float)p_drowsy;
    fa->streak = m->streak;
    fa->alert = m->streak >= SM_MIRROR_ALERT_FRAMES;
    fa->perclos = (float)fst.perclos;
    fa->blinks_per_min = (float)fst.blinks_per_min;
    fa->yawns = fst.yawns;
    fa->blinks = fst.blinks;
    fa->eyes_closed = fst.closed;
    fa->rules = "seed";
    fa->level = fa->p_drowsy;
    fa->state = sm_fatigue_state_label(p_drowsy);
    fa->blink_ms = NAN;
    return p_drowsy;
}

/* The calibrated event detector (fatigue rules WELLNESS); returns the level. */
static double step_wellness(sm_mirror *m, const sm_mirror_input *in, const sm_fatigue_feats *feats,
                            sm_fatigue_result *fa)
{
    if (atomic_exchange(&m->recalibrate, false))
        sm_fatigue_events_recalibrate(m->events);
    sm_fatigue_ev_input ei = {in->t, feats != NULL, NAN, NAN, NAN, NAN, NAN};
    if (feats) {
        ei.ear = feats->ear;
        ei.mar = feats->mar;
        ei.pitch_ratio = feats->pitch_ratio;
        ei.box_w = in->face ? in->face->box[2] : NAN;
        if (m->cfg.mlp) {
            const double x[5] = {feats->ear, feats->mar, (double)feats->yawn, feats->tilt_deg,
                                 feats->pitch_ratio};
            double p1 = NAN;
            sm_error e = {SM_OK, "no message"};
            if (m->cfg.mlp(m->cfg.mlp_ctx, x, &p1, &e) == SM_OK && isfinite(p1))
                ei.p_model = 1.0 - p1;
            else
                sm_log(SM_LOG_WARN, "fatigue MLP failed: %s", e.msg);
        }
    }
    sm_fatigue_ev_output o;
    sm_fatigue_events_push(m->events, &ei, &o);
    fa->rules = "wellness";
    if (feats && o.face) {
        fa->valid = true;
        fa->ear = (float)feats->ear;
        fa->mar = (float)feats->mar;
        fa->yawn = o.yawning;
        fa->tilt_deg = (float)feats->tilt_deg;
        fa->pitch_ratio = (float)feats->pitch_ratio;
    }
    fa->p_drowsy = (float)o.level;
    fa->level = (float)o.level;
    fa->state = o.state;
    fa->alert = o.alert;
    fa->streak = 0;
    fa->perclos = (float)o.perclos;
    fa->blinks_per_min = (float)o.blinks_per_min;
    fa->yawns = o.yawns;
    fa->blinks = o.blinks;
    fa->eyes_closed = o.eyes_closed;
    fa->closed_s = (float)o.closed_s;
    fa->microsleeps = o.microsleeps;
    fa->long_closures = o.long_closures;
    fa->nods = o.nods;
    fa->blink_ms = isfinite(o.blink_ms) ? (float)o.blink_ms : NAN;
    fa->calibrated = o.calibrated;
    fa->calib_remaining_s = (float)o.calib_remaining_s;
    fa->ear_open = (float)o.ear_open;
    fa->ear_closed_thresh = (float)o.ear_closed_thresh;
    fa->mar_rest = (float)o.mar_rest;
    fa->mar_yawn_thresh = (float)o.mar_yawn_thresh;
    return o.level;
}

sm_status sm_mirror_set_fatigue_rules(sm_mirror *m, sm_fatigue_rules rules, sm_error *err)
{
    if (!m)
        return sm_error_set(err, SM_ERR_ARG, "mirror: NULL argument");
    if (rules != SM_FATIGUE_RULES_SEED && rules != SM_FATIGUE_RULES_WELLNESS)
        return sm_error_set(err, SM_ERR_ARG, "mirror: fatigue rules: expected seed (0) or wellness (1), found %d",
                            (int)rules);
    sm_fatigue_events_free(m->events);
    m->events = NULL;
    if (rules == SM_FATIGUE_RULES_WELLNESS)
        return sm_fatigue_events_init(&m->events, err);
    return SM_OK;
}

void sm_mirror_recalibrate(sm_mirror *m)
{
    if (m)
        atomic_store(&m->recalibrate, true);
}

sm_status sm_mirror_step(sm_mirror *m, const sm_mirror_input *in, sm_mirror_result *out,
                         sm_error *err)
{
    if (!m || !in || !out)
        return sm_error_set(err, SM_ERR_ARG, "mirror: NULL argument");
    memset(out, 0, sizeof *out);
    out->frame = in->frame;
    out->t = in->t;
    out->width = in->width;
    out->height = in->height;
    m->frame_count++;

    bool face = in->face && in->face->valid;
    if (face) {
        out->face = *in->face;
        if (out->face.n_landmarks < 0 || out->face.n_landmarks > SM_MAX_LANDMARKS)
            return sm_error_set(err, SM_ERR_ARG, "mirror: %d landmarks (max %d)",
                                out->face.n_landmarks, SM_MAX_LANDMARKS);
    }

    /* ---- heart rate and stress ---- */
    step_heart(m, in, face, &out->heart);
    double avg_stress = 50.0;
    if (m->stress.n)
        hist_mean(&m->stress, &avg_stress);

    /* ---- fatigue features ---- */
    sm_fatigue_feats feats;
    bool have_feats = false;
    if (face && in->feats) {
        feats = *in->feats;
        have_feats = true;
    } else if (face) {
        sm_error e;
        have_feats = sm_fatigue_features_compute(&in->face->landmarks[0][0], in->face->n_landmarks,
                                                 3, &feats, &e) == SM_OK;
    }
    sm_fatigue_stats fst;
    sm_fatigue_tracker_push(m->tracker, in->t, have_feats ? &feats : NULL, &fst);

    /* ---- emotion ---- */
    sm_emotion_result *em = &out->emotion;
    em->available = m->cfg.n_labels > 0;
    em->n_labels = m->cfg.n_labels;
    em->label = em->label_argmax = -1;
    for (int i = 0; i < m->cfg.n_labels; i++)
        em->labels[i] = m->labels[i];
    if (em->available && face && in->emotion_probs) {
        double v[SM_MAX_EMOTIONS];
        bool ok = true;
        for (int i = 0; i < m->cfg.n_labels; i++) {
            v[i] = in->emotion_probs[i];
            ok = ok && isfinite(v[i]);
        }
        if (ok)
            hist_push(&m->emo, v);
        em->valence = in->valence;
        em->arousal = in->arousal;
        em->gate[0] = in->gate[0];
        em->gate[1] = in->gate[1];
    }
    double positivity = 0.0;
    const char *fusion_label = NULL;
    if (m->emo.n > 0) {
        double avg[SM_MAX_EMOTIONS];
        hist_mean(&m->emo, avg);
        int best = 0;
        for (int i = 0; i < m->cfg.n_labels; i++) {
            em->probs[i] = (float)avg[i];
            if (avg[i] > avg[best])
                best = i;
        }
        em->valid = true;
        em->conf = (float)avg[best];
        em->label_argmax = best;
        em->label = avg[best] >= SM_MIRROR_CONF_THRESH ? best : -1;
        fusion_label = m->labels[best];
        positivity = (m->idx_happy >= 0 ? avg[m->idx_happy] : 0.0) +
                     (m->idx_surprise >= 0 ? avg[m->idx_surprise] : 0.0);
    }

    /* ---- fatigue fusion ---- */
    sm_fatigue_result *fa = &out->fatigue;
    fa->available = m->cfg.face_available;
    fa->estimator = m->cfg.mlp ? "mlp" : "rules";
    double p_drowsy = m->events ? step_wellness(m, in, have_feats ? &feats : NULL, fa)
                                : step_seed(m, have_feats ? &feats : NULL, &fst, fusion_label, positivity, fa);

    /* ---- advisor ---- */
    if (m->cfg.advisor) {
        sm_advisor_state s = {fusion_label ? fusion_label : "neutral", p_drowsy, avg_stress};
        sm_advisor_event ev;
        sm_advisor_step(m->cfg.advisor, in->t, &s, &ev);
        out->advisor.valid = ev.has_action;
        out->advisor.action = ev.last_action;
        out->advisor.action_text = ev.has_action ? sm_advisor_action_text(ev.last_action) : NULL;
        out->advisor.has_reward = ev.has_reward;
        out->advisor.reward = (float)ev.last_reward;
        m->n_actions += ev.acted;
        m->n_rewards += ev.rewarded;
        out->advisor.n_actions = m->n_actions;
        out->advisor.n_rewards = m->n_rewards;
    }
    return SM_OK;
}
