/* Per-frame fusion of the analysis results (app.py's main loop), see mirror.h. */
#include "mirror.h"

#include "emotion_fer.h"

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

#define BASELINE_MAX 3600 /* an hour of one-per-second readings */
#define BASELINE_MIN 60

struct sm_mirror {
    sm_mirror_config cfg;
    char *labels[SM_MAX_EMOTIONS];
    int idx_happy, idx_surprise;
    sm_fatigue_tracker *tracker;
    sm_fatigue_events *events;     /* WELLNESS only */
    atomic_bool recalibrate;
    sm_pos *pos;
    sm_heart *heart;
    sm_heart_sample sample;
    double next_stress_t;
    float *baseline;                /* one trusted reading per second, ring */
    int n_base, base_next;
    double next_base_t;
    sm_rppg_frames *frames;
    history emo, prob, stress;
    uint64_t frame_count;
    int streak;
    bool have_bpm_net;
    double bpm_net;
    const char *stress_source;
    bool net_failed_logged;
    int n_actions, n_rewards;
    bool heart_wellness;
};

void sm_mirror_set_heart_wellness(sm_mirror *m, bool on)
{
    m->heart_wellness = on;
}

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
    sm_heart_free(m->heart);
    free(m->baseline);
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
    }
    /* by name, with synonyms (face-api says "surprised"; emotion_fer.h) */
    m->idx_happy = sm_emotion_find_label((const char *const *)m->labels, cfg->n_labels, "happy");
    m->idx_surprise = sm_emotion_find_label((const char *const *)m->labels, cfg->n_labels, "surprise");
    m->cfg.labels = NULL;
    atomic_init(&m->recalibrate, false);
    sm_status st = sm_fatigue_tracker_init(&m->tracker, err);
    if (st == SM_OK)
        st = sm_pos_init(&m->pos, err);
    sm_heart_config hc = {.method = SM_HEART_DEFAULT_METHOD, .pooled = false};
    if (st == SM_OK)
        st = sm_heart_init(&m->heart, &hc, err);
    if (st == SM_OK && !(m->baseline = malloc(BASELINE_MAX * sizeof *m->baseline)))
        st = sm_error_set(err, SM_ERR_NOMEM, "mirror: out of memory");
    if (st == SM_OK && cfg->net)
        st = sm_rppg_frames_init(&m->frames, err);
    if (st != SM_OK) {
        sm_mirror_free(m);
        return st;
    }
    m->emo.width = cfg->n_labels;
    m->prob.width = 1;
    m->stress.width = 1;
    m->next_stress_t = m->next_base_t = -INFINITY;
    *out = m;
    return SM_OK;
}

static void stress_reading(sm_mirror *m, double bpm, const char *source)
{
    double s = sm_stress_score(bpm, 0.0);
    hist_push(&m->stress, &s);
    m->stress_source = source;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Relative stress, 0..100: 0 at the resting baseline, 100 at >= 30 % above it. */
static double sm_stress_relative(double bpm, double baseline_bpm)
{
    if (!(baseline_bpm > 0.0) || !isfinite(bpm))
        return NAN;
    double r = (bpm / baseline_bpm - 1.0) / 0.30;
    return 100.0 * (r < 0.0 ? 0.0 : (r > 1.0 ? 1.0 : r));
}

const sm_heart_sample *sm_mirror_heart_sample(const sm_mirror *m)
{
    return &m->sample;
}

/* The seed's behaviour (app.py): POS and stress as in wave 1. */
static void heart_seed(sm_mirror *m, const sm_mirror_input *in, bool face, bool pixels, sm_heart_result *h)
{
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
    h->quality = NAN;
    if (m->cfg.net) {
        h->source = "net";
        h->valid_bpm = m->have_bpm_net;
        h->bpm = m->have_bpm_net ? (float)m->bpm_net : NAN;
        h->reason = m->have_bpm_net ? NULL : "collecting 180 frames";
    } else {
        h->source = "pos";
        h->valid_bpm = r.valid;
        h->bpm = r.valid ? (float)r.bpm : NAN;
        h->reason = r.valid ? NULL : "collecting signal";
    }
    h->valid_stress = m->stress.n > 0;
}

/* The default: the gated reading of heart.h; stress only from it. */
static void heart_wellness(sm_mirror *m, const sm_mirror_input *in, sm_heart_result *h)
{
    sm_heart_reading r;
    sm_heart_push(m->heart, &m->sample, &r);
    h->valid_pos = isfinite(r.bpm_pos);
    h->bpm_pos = (float)r.bpm_pos;
    h->quality_db = (float)r.snr_pos_db;
    h->valid_chrom = isfinite(r.bpm_chrom);
    h->bpm_chrom = (float)r.bpm_chrom;
    h->quality_chrom_db = (float)r.snr_chrom_db;
    h->pos_signal_s = (float)r.signal_s;
    h->valid_bpm = r.valid;
    h->bpm = (float)r.bpm;
    h->source = r.source;
    h->quality = (float)r.quality;
    /* without face models there is nothing to say unless the network reads */
    h->reason = m->cfg.face_available ? r.reason : (m->cfg.net ? "face models missing" : NULL);
    h->stale = r.stale;
    h->age_s = (float)r.age_s;
    if (r.valid && in->t >= m->next_stress_t) {
        stress_reading(m, r.bpm, r.source);
        m->next_stress_t = in->t + 1.0;
    }
    if (r.valid && in->t >= m->next_base_t) {
        m->baseline[m->base_next] = (float)r.bpm;
        m->base_next = (m->base_next + 1) % BASELINE_MAX;
        if (m->n_base < BASELINE_MAX)
            m->n_base++;
        m->next_base_t = in->t + 1.0;
    }
    if (m->n_base >= BASELINE_MIN) {
        float tmp[BASELINE_MAX];
        memcpy(tmp, m->baseline, (size_t)m->n_base * sizeof *tmp);
        qsort(tmp, (size_t)m->n_base, sizeof *tmp, cmp_float);
        h->valid_baseline = true;
        h->baseline_bpm = tmp[m->n_base / 5];
        h->stress_rel = r.valid ? (float)sm_stress_relative(r.bpm, h->baseline_bpm) : NAN;
    }
    /* no stress without a trusted reading */
    h->valid_stress = r.valid && m->stress.n > 0;
}

static void step_heart(sm_mirror *m, const sm_mirror_input *in, bool face, sm_heart_result *h)
{
    bool pixels = in->rgb && in->width > 0 && in->height > 0 &&
                  in->stride >= 3 * (size_t)in->width;
    m->sample.t = in->t;
    m->sample.bpm_net = NAN;
    if (m->frames && pixels && sm_rppg_frames_push(m->frames, in->rgb, in->width, in->height,
                                                   in->stride)) {
        float bpm = 0.0f;
        sm_error e = {SM_OK, "no message"};
        const float *fr = sm_rppg_frames_ordered(m->frames);
        if (m->cfg.net(m->cfg.net_ctx, fr, sm_rppg_frames_count(m->frames), &bpm, &e) == SM_OK &&
            isfinite(bpm)) {
            m->bpm_net = bpm;
            m->have_bpm_net = true;
            m->sample.bpm_net = bpm;
            if (!m->heart_wellness)
                stress_reading(m, bpm, "net");
        } else if (!m->net_failed_logged) {
            sm_log(SM_LOG_WARN, "heart rate network failed: %s", e.msg);
            m->net_failed_logged = true;
        }
    }
    if (face && pixels) {
        sm_heart_measure(in->rgb, in->width, in->height, in->stride, &in->face->landmarks[0][0],
                         in->face->n_landmarks, 3, &m->sample);
    } else {
        double t = m->sample.t, net = m->sample.bpm_net;
        memset(&m->sample, 0, sizeof m->sample);
        m->sample.t = t;
        m->sample.bpm_net = net;
        m->sample.light = m->sample.sat = NAN;
    }
    h->bpm = h->bpm_chrom = h->stress_rel = h->baseline_bpm = NAN;
    if (!m->heart_wellness)
        heart_seed(m, in, face, pixels, h);
    else
        heart_wellness(m, in, h);
    h->available_net = m->cfg.net != NULL;
    h->valid_net = m->have_bpm_net;
    h->bpm_net = (float)m->bpm_net;
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
    if (!m->heart_wellness ? m->stress.n > 0 : out->heart.valid_stress)
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
        /* the fusion and the advisor speak the seed's label names */
        fusion_label = sm_emotion_canonical(m->labels[best]);
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
