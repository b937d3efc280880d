/* The per-frame analysis: face tracker -> fatigue -> emotion -> heart ->
 * fusion (see pipeline.h). */
#include "pipeline.h"

#include "advisor.h"
#include "emotion_fer.h"
#include "face_mesh.h"
#include "fatigue_features.h"
#include "fatigue_mlp.h"
#include "heart_trace.h"
#include "mirror.h"
#include "model_registry.h"
#include "rppg_pos.h"
#include "rppg_ultralight.h"
#include "sm_clock.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* ---- live emotion worker: a one-slot, latest-wins crop mailbox ---------------------- */

typedef struct {
    pthread_t th;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, busy;
    /* pending crop (owned RGB8, cw x ch) */
    uint8_t *crop;
    size_t crop_cap;
    int cw, ch, box[4];
    int64_t frame;
    bool pending;
    /* newest result */
    sm_emotion_output out;
    int out_box[4];
    int64_t out_frame;
    double out_ms;
    uint64_t seq;
} emo_worker;

struct sm_pipeline {
    sm_pipeline_config cfg;
    char notes[1024];
    sm_threadpool *pool;        /* face, fatigue, heart (and emotion in file mode) */
    sm_threadpool *emo_pool;    /* live mode: the emotion worker's */
    sm_threadpool *face_pool;   /* pool or NULL: what calibrate_face chose */
    double face_ms_1, face_ms_pool;
    size_t n_threads, n_emo_threads;

    sm_face_tracker *face;
    int n_landmarks;

    sm_model *emo_model;        /* the registry's handle of emo */
    sm_emotion *emo;            /* the user's NovelEmotionModel, or */
    sm_fer *fer;                /* the default public model (emotion_fer.h) */
    const sm_fer_box_rule *fer_rule;
    char emo_name[128];         /* sm_emotion_result.model_name */
    sm_precision emo_precision; /* what its GEMM convs run in (FP32 or BF16) */
    char *labels[SM_MAX_EMOTIONS];
    int n_labels;
    double emo_period, emo_due;
    bool emo_started;
    /* last result, as used by this thread */
    bool have_emo;
    sm_emotion_output emo_out;
    int emo_box[4];
    int64_t emo_frame;
    double emo_ms;
    uint64_t emo_seq_seen;
    emo_worker *worker;

    sm_model *mlp_model, *ul_model; /* the registry's handles of mlp and ul */
    sm_fatigue_mlp *mlp;
    int mlp_col;                /* proba column of class 1 (non-drowsy) */
    double mlp_ms;

    sm_ultralight *ul;
    sm_ultralight_stream *ul_stream;
    float *ul_frame;
    double net_ms;

    sm_advisor *advisor;
    sm_mirror *mirror;
    sm_heart_trace_writer *trace;
    sm_face_result face_res;    /* this frame's face (5.7 KB: kept off the stack) */
};

#define note(p, ...) sm_notes_append((p)->notes, sizeof (p)->notes, __VA_ARGS__)

static bool wanted(const char *path) { return path && *path; }

/* ---- callbacks for sm_mirror ---------------------------------------------------------- */

static sm_status mlp_fn(void *ctx, const double x[5], double *p_non_drowsy, sm_error *err)
{
    (void)err;
    sm_pipeline *p = ctx;
    double t0 = sm_clock_ms();
    double proba[16];
    sm_fatigue_mlp_predict_proba(p->mlp, x, 1, proba);
    *p_non_drowsy = proba[p->mlp_col];
    p->mlp_ms += sm_clock_ms() - t0;
    return SM_OK;
}

/* The mirror calls this when its 180-frame ring is due; the stream holds the
 * features of the same 180 frames, so the reading equals a full run. */
static sm_status net_fn(void *ctx, const float *frames, int n_frames, float *bpm, sm_error *err)
{
    (void)frames;
    sm_pipeline *p = ctx;
    double t0 = sm_clock_ms();
    if ((size_t)n_frames != sm_ultralight_stream_count(p->ul_stream))
        return sm_error_set(err, SM_ERR_ARG, "pipeline: ring holds %d frames, the stream %zu",
                            n_frames, sm_ultralight_stream_count(p->ul_stream));
    sm_status st = sm_ultralight_stream_bpm(p->ul_stream, p->ul, bpm, err);
    p->net_ms += sm_clock_ms() - t0;
    return st;
}

/* ---- emotion models ------------------------------------------------------------------- */

/* Runs whichever emotion model is loaded on the crop [x1, x2) x [y1, y2) of
 * the frame. For the default model the box is already face-api's clipped and
 * floored rectangle (emotion_box), so passing it as (x, y, w, h) reproduces
 * the library's crop exactly, also on a copy of just that rectangle (the
 * live worker's mailbox). It has no valence/arousal heads: they are derived
 * from the smoothed probabilities after the fusion (sm_pipeline_process). */
static sm_status run_model(sm_pipeline *p, const uint8_t *rgb, int width, int height, size_t stride,
                           const int box[4], sm_emotion_output *o, sm_error *err)
{
    if (p->emo)
        return sm_emotion_run_rgb8(p->emo, rgb, width, height, stride, box, o, err);
    const float fbox[4] = {(float)box[0], (float)box[1], (float)(box[2] - box[0]), (float)(box[3] - box[1])};
    o->n_classes = sm_fer_n_classes(p->fer);
    sm_status st = sm_fer_run_rgb8(p->fer, rgb, width, height, stride, fbox, o->probs, err);
    for (int i = 0; i < o->n_classes; i++)
        o->logits[i] = NAN;
    o->valence = o->arousal = NAN;
    o->gate[0] = o->gate[1] = NAN;
    return st;
}

/* The crop box of the loaded model from the landmarks: app.py's square for
 * the NovelEmotionModel, the face-api box rule for the default model. */
static bool emotion_box(const sm_pipeline *p, const sm_face_result *face, int width, int height, int box[4])
{
    if (p->emo)
        return sm_pipeline_emotion_box(&face->landmarks[0][0], face->n_landmarks, 3, width, height, box);
    float fb[4];
    return sm_fer_face_box(&face->landmarks[0][0], face->n_landmarks, 3, p->fer_rule, fb) &&
           sm_fer_clip_box(fb, width, height, box);
}

/* ---- emotion worker ------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    sm_pipeline *p = arg;
    emo_worker *w = p->worker;
    uint8_t *mine = NULL;
    size_t mine_cap = 0;
    sm_emotion_output *o = malloc(sizeof *o);
    pthread_mutex_lock(&w->mu);
    while (o) {
        while (!w->stop && !w->pending)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        /* take the crop: swap buffers so the producer can post the next one */
        uint8_t *tb = mine;
        size_t tc = mine_cap;
        mine = w->crop;
        mine_cap = w->crop_cap;
        w->crop = tb;
        w->crop_cap = tc;
        int cw = w->cw, ch = w->ch, box[4];
        memcpy(box, w->box, sizeof box);
        int64_t frame = w->frame;
        w->pending = false;
        w->busy = true;
        pthread_mutex_unlock(&w->mu);

        double t0 = sm_clock_ms();
        const int whole[4] = {0, 0, cw, ch};
        sm_error err = {0};
        sm_status st = run_model(p, mine, cw, ch, (size_t)cw * 3, whole, o, &err);
        double ms = sm_clock_ms() - t0;
        if (st != SM_OK)
            sm_log(SM_LOG_WARN, "emotion: %s", err.msg);

        pthread_mutex_lock(&w->mu);
        if (st == SM_OK) {
            w->out = *o;
            memcpy(w->out_box, box, sizeof box);
            w->out_frame = frame;
            w->out_ms = ms;
            w->seq++;
        }
        w->busy = false;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    free(mine);
    free(o);
    return NULL;
}

static void worker_stop(sm_pipeline *p)
{
    emo_worker *w = p->worker;
    if (!w)
        return;
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->crop);
    free(w);
    p->worker = NULL;
}

/* Copies the box out of the frame into the mailbox (latest wins). */
static void worker_post(sm_pipeline *p, const uint8_t *rgb, size_t stride, const int box[4],
                        int64_t frame)
{
    emo_worker *w = p->worker;
    int cw = box[2] - box[0], ch = box[3] - box[1];
    size_t need = (size_t)cw * (size_t)ch * 3;
    pthread_mutex_lock(&w->mu);
    if (need > w->crop_cap) {
        uint8_t *b = realloc(w->crop, need);
        if (!b) {
            pthread_mutex_unlock(&w->mu);
            return;
        }
        w->crop = b;
        w->crop_cap = need;
    }
    for (int y = 0; y < ch; y++)
        memcpy(w->crop + (size_t)y * cw * 3, rgb + (size_t)(box[1] + y) * stride + (size_t)box[0] * 3,
               (size_t)cw * 3);
    w->cw = cw;
    w->ch = ch;
    memcpy(w->box, box, sizeof w->box);
    w->frame = frame;
    w->pending = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void sm_pipeline_drain(sm_pipeline *p)
{
    if (!p || !p->worker)
        return;
    emo_worker *w = p->worker;
    pthread_mutex_lock(&w->mu);
    while (w->pending || w->busy)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

/* ---- init / free -------------------------------------------------------------------------- */

void sm_pipeline_free(sm_pipeline *p)
{
    if (!p)
        return;
    worker_stop(p);
    sm_mirror_free(p->mirror);
    if (p->trace) {
        sm_error e = {0};
        if (sm_heart_trace_writer_finish(p->trace, &e) != SM_OK)
            sm_log(SM_LOG_ERROR, "%s", e.msg);
        sm_heart_trace_writer_free(p->trace);
    }
    sm_advisor_free(p->advisor);
    sm_ultralight_stream_free(p->ul_stream);
    sm_model_close(p->ul_model);
    free(p->ul_frame);
    sm_model_close(p->mlp_model);
    sm_model_close(p->emo_model);
    sm_fer_free(p->fer);
    for (int i = 0; i < SM_MAX_EMOTIONS; i++)
        free(p->labels[i]);
    sm_face_tracker_free(p->face);
    sm_threadpool_free(p->emo_pool);
    sm_threadpool_free(p->pool);
    free(p);
}

const char *sm_pipeline_notes(const sm_pipeline *p) { return p ? p->notes : ""; }

static sm_status make_pool(size_t n, sm_threadpool **pool, sm_error *err)
{
    *pool = NULL;
    return n > 1 ? sm_threadpool_init(pool, n, err) : SM_OK;
}

static void load_face(sm_pipeline *p)
{
    const sm_pipeline_config *c = &p->cfg;
    if (!wanted(c->face_detector) || !wanted(c->face_mesh)) {
        note(p, "face: no face models given: face, fatigue and POS heart rate off");
        return;
    }
    sm_error e = {0};
    if (sm_face_tracker_init(c->face_detector, c->face_mesh, &p->face, &e) != SM_OK) {
        note(p, "face: %s (run `make models`): face, fatigue and POS heart rate off", e.msg);
        p->face = NULL;
        return;
    }
    p->n_landmarks = sm_face_tracker_n_points(p->face);
}

/* The network in path through the model registry as the given kind (a file of
 * another architecture is refused with the registry's message): the kind's
 * model, or NULL with e set. */
static void *open_net(sm_model **holder, const char *path, const sm_model_kind *kind, sm_threadpool *pool,
                      sm_error *e)
{
    return sm_model_open(path, kind, pool, holder, e) == SM_OK ? (*holder)->impl : NULL;
}

static void close_net(sm_model **holder)
{
    sm_model_close(*holder);
    *holder = NULL;
}

static double median_of(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) /* insertion sort: a handful of entries */
        for (size_t j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ms of one detector run and one mesh run on the networks' current inputs. */
static double face_networks_ms(sm_face_tracker *t, const float *det_in, const float *mesh_in,
                               sm_threadpool *pool)
{
    sm_face_detector *d = sm_face_tracker_detector(t);
    sm_face_mesh *m = sm_face_tracker_mesh(t);
    float pts[SM_FACE_MESH_REFINED_POINTS][3];
    const float *reg, *cls;
    float flag;
    double t0 = sm_clock_ms();
    sm_face_detector_run_tensor(d, det_in, pool, &reg, &cls);
    sm_face_mesh_run_tensor(m, mesh_in, pool, pts, &flag);
    return sm_clock_ms() - t0;
}

/* The face models' thread count, measured (pipeline.h): the fan-out rule keeps
 * each op from forking when its work is too small for an idle core, but no rule
 * knows whether the other core is idle; the calibration sees the machine as it
 * is at start-up. Networks only (crop and decoding are single-threaded), on a
 * constant input (the networks' time does not depend on the pixels). */
static void calibrate_face(sm_pipeline *p)
{
    p->face_pool = p->cfg.face_threads == 1 ? NULL : p->pool;
    if (!p->face || !p->pool || p->cfg.face_threads != 0)
        return;
    /* mid-grey in both models' input ranges */
    size_t nd = SM_FACE_DET_SIZE * SM_FACE_DET_SIZE * 3, nm = SM_FACE_MESH_SIZE * SM_FACE_MESH_SIZE * 3;
    float *in = malloc((nd + nm) * sizeof *in);
    if (!in)
        return; /* keeps the pool: what the rule alone decides */
    for (size_t i = 0; i < nd + nm; i++)
        in[i] = 0.5f;
    double one[SM_FACE_CALIBRATION_ROUNDS], many[SM_FACE_CALIBRATION_ROUNDS];
    face_networks_ms(p->face, in, in + nd, NULL);
    face_networks_ms(p->face, in, in + nd, p->pool);
    for (int r = 0; r < SM_FACE_CALIBRATION_ROUNDS; r++) { /* alternate which goes first */
        if (r % 2) {
            many[r] = face_networks_ms(p->face, in, in + nd, p->pool);
            one[r] = face_networks_ms(p->face, in, in + nd, NULL);
        } else {
            one[r] = face_networks_ms(p->face, in, in + nd, NULL);
            many[r] = face_networks_ms(p->face, in, in + nd, p->pool);
        }
    }
    free(in);
    p->face_ms_1 = median_of(one, SM_FACE_CALIBRATION_ROUNDS);
    p->face_ms_pool = median_of(many, SM_FACE_CALIBRATION_ROUNDS);
    if (!(p->face_ms_pool < p->face_ms_1))
        p->face_pool = NULL;
}

/* The user's NovelEmotionModel when given and loadable, else the default
 * public model (emotion_default), else no emotion panel. */
static void load_emotion(sm_pipeline *p, sm_threadpool *pool)
{
    const sm_pipeline_config *c = &p->cfg;
    sm_error e = {0};
    int n = 0;
    if (wanted(c->emotion)) {
        if (!(p->emo = open_net(&p->emo_model, c->emotion, &sm_model_novel_emotion, pool, &e))) {
            note(p, "emotion: %s: %s", e.msg,
                 wanted(c->emotion_default) ? "trying the default model" : "emotion panel off");
            p->emo = NULL;
        } else if ((n = sm_emotion_n_classes(p->emo)) < 1 || n > SM_MAX_EMOTIONS) {
            note(p, "emotion: %s has %d labels (this mirror shows 1..%d)", c->emotion, n, SM_MAX_EMOTIONS);
            close_net(&p->emo_model);
            p->emo = NULL;
        } else {
            snprintf(p->emo_name, sizeof p->emo_name, "NovelEmotionModel");
            /* no trained weights to judge BF16 by (docs/PERFORMANCE.md): the
             * process-wide precision, FP32 unless the user chose */
            p->emo_precision = sm_precision_active();
        }
    }
    if (!p->emo && wanted(c->emotion_default)) {
        p->fer_rule = sm_fer_box_rule_find(c->emotion_box_rule ? c->emotion_box_rule : "faceapi");
        if (!p->fer_rule) {
            note(p, "emotion: unknown face box rule '%s': using 'faceapi'", c->emotion_box_rule);
            p->fer_rule = sm_fer_box_rules();
        }
        if (sm_fer_load_file(c->emotion_default, pool, &p->fer, &e) != SM_OK) {
            note(p, "emotion: %s: emotion panel off", e.msg);
            p->fer = NULL;
        } else if ((n = sm_fer_n_classes(p->fer)) > SM_MAX_EMOTIONS) {
            note(p, "emotion: %s has %d labels (this mirror shows 1..%d): emotion panel off", c->emotion_default,
                 n, SM_MAX_EMOTIONS);
            sm_fer_free(p->fer);
            p->fer = NULL;
        } else {
            snprintf(p->emo_name, sizeof p->emo_name, "%s", sm_fer_name(p->fer));
            p->emo_precision = sm_fer_precision(p->fer); /* the per-model default (emotion_fer.h) */
        }
    }
    if (!p->emo && !p->fer)
        return;
    for (int i = 0; i < n; i++) {
        p->labels[i] = strdup(p->emo ? sm_emotion_label(p->emo, i) : sm_fer_label(p->fer, i));
        if (!p->labels[i]) {
            note(p, "emotion: out of memory: emotion panel off");
            close_net(&p->emo_model);
            p->emo = NULL;
            sm_fer_free(p->fer);
            p->fer = NULL;
            return;
        }
    }
    p->n_labels = n;
}

static void load_mlp(sm_pipeline *p)
{
    const sm_pipeline_config *c = &p->cfg;
    if (!wanted(c->fatigue_mlp))
        return;
    sm_error e = {0};
    if (!(p->mlp = open_net(&p->mlp_model, c->fatigue_mlp, &sm_model_fatigue_mlp, NULL, &e))) {
        note(p, "fatigue MLP: %s: using the rule estimator", e.msg);
        p->mlp = NULL;
        return;
    }
    uint32_t no = sm_fatigue_mlp_n_outputs(p->mlp);
    const int64_t *cls = sm_fatigue_mlp_classes(p->mlp);
    p->mlp_col = -1;
    for (uint32_t i = 0; cls && i < no; i++)
        if (cls[i] == 1)
            p->mlp_col = (int)i;
    if (sm_fatigue_mlp_n_features(p->mlp) != 5 || no < 1 || no > 16 || p->mlp_col < 0) {
        note(p, "fatigue MLP: %s: expected 5 features and a class 1 (non-drowsy), found %u features, %u "
                "outputs: using the rule estimator",
             c->fatigue_mlp, sm_fatigue_mlp_n_features(p->mlp), no);
        close_net(&p->mlp_model);
        p->mlp = NULL;
    }
}

static void load_rppg(sm_pipeline *p)
{
    const sm_pipeline_config *c = &p->cfg;
    if (!wanted(c->rppg))
        return;
    sm_error e = {0};
    if (!(p->ul = open_net(&p->ul_model, c->rppg, &sm_model_ultralight, p->pool, &e))) {
        note(p, "rppg: %s: heart rate from POS only", e.msg);
        p->ul = NULL;
        return;
    }
    uint32_t s = sm_ultralight_input_size(p->ul);
    if (s != SM_RPPG_NET_SIZE || sm_ultralight_frames(p->ul) != SM_RPPG_NET_FRAMES) {
        note(p, "rppg: %s takes %u frames of %ux%u; the seed's ring is %d of %dx%d: heart rate from POS only",
             c->rppg, sm_ultralight_frames(p->ul), s, s, SM_RPPG_NET_FRAMES, SM_RPPG_NET_SIZE,
             SM_RPPG_NET_SIZE);
    } else if (sm_ultralight_stream_init(p->ul, SM_RPPG_NET_FRAMES, &p->ul_stream, &e) != SM_OK ||
               !(p->ul_frame = malloc((size_t)s * s * 3 * sizeof(float)))) {
        note(p, "rppg: %s: heart rate from POS only", e.msg[0] ? e.msg : "out of memory");
    } else {
        return;
    }
    sm_ultralight_stream_free(p->ul_stream);
    p->ul_stream = NULL;
    close_net(&p->ul_model);
    p->ul = NULL;
}

sm_status sm_pipeline_init(sm_pipeline **out, const sm_pipeline_config *cfg, sm_error *err)
{
    if (!out || !cfg)
        return sm_error_set(err, SM_ERR_ARG, "pipeline: NULL argument");
    *out = NULL;
    if (cfg->threads < 0 || cfg->threads > 256 || cfg->face_threads < 0 || cfg->face_threads > 256 ||
        !isfinite(cfg->emotion_hz))
        return sm_error_set(err, SM_ERR_ARG, "pipeline: threads %d, face threads %d (0..256), emotion rate %g",
                            cfg->threads, cfg->face_threads, cfg->emotion_hz);
    sm_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return sm_error_set(err, SM_ERR_NOMEM, "pipeline: out of memory");
    p->cfg = *cfg;
    p->emo_frame = -1;
    size_t n = cfg->threads > 0 ? (size_t)cfg->threads : sm_threads_default();
    bool live_emotion = cfg->live && (wanted(cfg->emotion) || wanted(cfg->emotion_default));
    p->n_emo_threads = live_emotion ? (n / 2 > 1 ? n / 2 : 1) : 0;
    p->n_threads = live_emotion ? (n > p->n_emo_threads ? n - p->n_emo_threads : 1) : n;
    sm_status st = make_pool(p->n_threads, &p->pool, err);
    if (st == SM_OK && live_emotion)
        st = make_pool(p->n_emo_threads, &p->emo_pool, err);
    if (st != SM_OK) {
        sm_pipeline_free(p);
        return st;
    }

    load_face(p);
    calibrate_face(p);
    load_emotion(p, live_emotion ? p->emo_pool : p->pool);
    load_mlp(p);
    load_rppg(p);
    if ((p->emo || p->fer) && cfg->live) {
        emo_worker *w = calloc(1, sizeof *w);
        if (!w) {
            sm_pipeline_free(p);
            return sm_error_set(err, SM_ERR_NOMEM, "pipeline: out of memory");
        }
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, NULL);
        p->worker = w;
        if (pthread_create(&w->th, NULL, worker_main, p) != 0) {
            sm_pipeline_free(p);
            return sm_error_set(err, SM_ERR_NOMEM, "pipeline: cannot start the emotion thread");
        }
        w->started = true;
    }
    double hz = cfg->emotion_hz == 0 ? SM_PIPELINE_EMOTION_HZ : cfg->emotion_hz;
    p->emo_period = hz < 0 ? 0.0 : 1.0 / hz;

    if (cfg->advisor) {
        sm_advisor_config ac = sm_advisor_config_default();
        ac.path = cfg->qtable;
        sm_error e = {0};
        if (sm_advisor_init(&p->advisor, &ac, &e) != SM_OK) {
            note(p, "advisor: %s: advisor off", e.msg);
            p->advisor = NULL;
        } else if (sm_advisor_load_note(p->advisor)[0]) {
            note(p, "advisor: %s", sm_advisor_load_note(p->advisor));
        }
    }

    sm_mirror_config mc = {
        .face_available = p->face != NULL,
        .n_labels = p->emo || p->fer ? p->n_labels : 0,
        .labels = (const char *const *)p->labels,
        .mlp = p->mlp ? mlp_fn : NULL,
        .mlp_ctx = p,
        .net = p->ul ? net_fn : NULL,
        .net_ctx = p,
        .advisor = p->advisor,
    };
    if ((st = sm_mirror_init(&p->mirror, &mc, err)) != SM_OK ||
        (st = sm_mirror_set_fatigue_rules(p->mirror, cfg->fatigue_seed_rules ? SM_FATIGUE_RULES_SEED
                                                                             : SM_FATIGUE_RULES_WELLNESS,
                                          err)) != SM_OK) {
        sm_pipeline_free(p);
        return st;
    }
    sm_mirror_set_heart_wellness(p->mirror, cfg->heart_wellness);
    if (cfg->heart_trace && (st = sm_heart_trace_writer_init(&p->trace, cfg->heart_trace, err)) != SM_OK) {
        sm_pipeline_free(p);
        return st;
    }
    *out = p;
    return SM_OK;
}

void sm_pipeline_recalibrate(sm_pipeline *p)
{
    if (p)
        sm_mirror_recalibrate(p->mirror);
}

sm_pipeline_info sm_pipeline_get_info(const sm_pipeline *p)
{
    sm_pipeline_info i = {0};
    if (!p)
        return i;
    i.face = p->face != NULL;
    i.emotion = p->emo != NULL || p->fer != NULL;
    i.emotion_model = p->emo_name;
    i.emotion_precision = i.emotion ? sm_precision_name(p->emo_precision) : "";
    i.fatigue_mlp = p->mlp != NULL;
    i.rppg_net = p->ul != NULL;
    i.advisor = p->advisor != NULL;
    i.n_landmarks = p->n_landmarks;
    i.threads = p->n_threads;
    i.emotion_threads = p->n_emo_threads;
    i.face_threads = p->face_pool ? p->n_threads : 1;
    i.face_ms_1 = p->face_ms_1;
    i.face_ms_pool = p->face_ms_pool;
    return i;
}

/* ---- per frame ----------------------------------------------------------------------------- */

bool sm_pipeline_emotion_box(const float *pts, int n, int pt_stride, int width, int height, int box[4])
{
    if (!pts || n < 1 || pt_stride < 2)
        return false;
    float e[4];
    if (!sm_landmarks_extent(pts, n, pt_stride, e))
        return false;
    float x0 = e[0], y0 = e[1], x1 = e[2], y1 = e[3];
    /* far outside the frame: nothing to crop (and no overflow in the casts) */
    if (x1 < -1e6f || y1 < -1e6f || x0 > 1e6f || y0 > 1e6f)
        return false;
    x0 = fmaxf(x0, -1.0f);
    y0 = fmaxf(y0, -1.0f);
    x1 = fminf(x1, 1e6f);
    y1 = fminf(y1, 1e6f);
    return sm_emotion_crop_box(x0, y0, x1, y1, width, height, box);
}

bool sm_pipeline_last_emotion(sm_pipeline *p, sm_emotion_output *out, int box[4], int64_t *frame)
{
    if (!p || (!p->emo && !p->fer))
        return false;
    if (p->worker) {
        emo_worker *w = p->worker;
        pthread_mutex_lock(&w->mu);
        bool have = w->seq > 0;
        if (have) {
            if (out)
                *out = w->out;
            if (box)
                memcpy(box, w->out_box, 4 * sizeof(int));
            if (frame)
                *frame = w->out_frame;
        }
        pthread_mutex_unlock(&w->mu);
        return have;
    }
    if (!p->have_emo)
        return false;
    if (out)
        *out = p->emo_out;
    if (box)
        memcpy(box, p->emo_box, 4 * sizeof(int));
    if (frame)
        *frame = p->emo_frame;
    return true;
}

/* Emotion for this frame: returns true when a new result is to be fed to the
 * fusion (p->emo_out). */
static bool step_emotion(sm_pipeline *p, const uint8_t *rgb, int width, int height, size_t stride,
                         const sm_face_result *face, int64_t index, double t, double *ms)
{
    *ms = 0;
    if (!p->emo && !p->fer)
        return false;
    bool fresh = false;
    if (p->worker) {
        emo_worker *w = p->worker;
        pthread_mutex_lock(&w->mu);
        if (w->seq != p->emo_seq_seen) {
            p->emo_seq_seen = w->seq;
            p->emo_out = w->out;
            memcpy(p->emo_box, w->out_box, sizeof p->emo_box);
            p->emo_frame = w->out_frame;
            p->emo_ms = w->out_ms;
            p->have_emo = true;
            fresh = true;
        }
        pthread_mutex_unlock(&w->mu);
        *ms = p->emo_ms;
    }
    if (!face->valid)
        return fresh;
    /* due on the frame clock: the schedule advances by whole periods so the
     * average rate is emotion_hz whatever the frame rate */
    const double eps = 1e-6;
    if (p->emo_started && t + eps < p->emo_due)
        return fresh;
    int box[4];
    if (!emotion_box(p, face, width, height, box))
        return fresh;
    if (!p->emo_started || t - p->emo_due > p->emo_period)
        p->emo_due = t;
    p->emo_due += p->emo_period;
    p->emo_started = true;
    if (p->worker) {
        worker_post(p, rgb, stride, box, index);
        return fresh;
    }
    double t0 = sm_clock_ms();
    sm_error e = {0};
    if (run_model(p, rgb, width, height, stride, box, &p->emo_out, &e) != SM_OK) {
        sm_log(SM_LOG_WARN, "emotion on frame %lld: %s", (long long)index, e.msg);
        return false;
    }
    *ms = p->emo_ms = sm_clock_ms() - t0;
    memcpy(p->emo_box, box, sizeof box);
    p->emo_frame = index;
    p->have_emo = true;
    return true;
}

sm_status sm_pipeline_process(sm_pipeline *p, const uint8_t *rgb, int width, int height, size_t stride,
                              int64_t index, double t, sm_mirror_result *out, sm_error *err)
{
    if (!p || !rgb || !out || width <= 0 || height <= 0 || stride < (size_t)width * 3 || !isfinite(t))
        return sm_error_set(err, SM_ERR_ARG, "pipeline: bad frame (%dx%d, stride %zu)", width, height, stride);
    double t_start = sm_clock_ms();
    sm_face_result *face = &p->face_res;
    memset(face, 0, sizeof *face);

    /* face */
    double t0 = sm_clock_ms();
    if (p->face)
        sm_face_tracker_process(p->face, rgb, width, height, stride, p->face_pool, face);
    double ms_face = sm_clock_ms() - t0;

    /* fatigue features (the MLP runs inside the fusion, timed by its callback) */
    t0 = sm_clock_ms();
    sm_fatigue_feats feats;
    bool have_feats = face->valid && sm_fatigue_features_compute(&face->landmarks[0][0], face->n_landmarks, 3,
                                                                 &feats, NULL) == SM_OK;
    double ms_feats = sm_clock_ms() - t0;

    /* emotion */
    double ms_emo = 0;
    bool fresh = step_emotion(p, rgb, width, height, stride, face, index, t, &ms_emo);

    /* heart: the UltraLightNet stream gets every frame, as the mirror's ring */
    t0 = sm_clock_ms();
    if (p->ul) {
        sm_ultralight_preprocess(p->ul, rgb, width, height, stride, p->ul_frame);
        sm_ultralight_stream_push(p->ul_stream, p->ul, p->ul_frame);
    }
    double ms_ul = sm_clock_ms() - t0;

    /* fusion */
    p->mlp_ms = 0;
    p->net_ms = 0;
    sm_mirror_input in = {
        .frame = index,
        .t = t,
        .width = width,
        .height = height,
        .rgb = rgb,
        .stride = stride,
        .face = face->valid ? face : NULL,
        .feats = have_feats ? &feats : NULL,
        .emotion_probs = fresh ? p->emo_out.probs : NULL,
        .valence = p->emo_out.valence,
        .arousal = p->emo_out.arousal,
        .gate = {p->emo_out.gate[0], p->emo_out.gate[1]},
    };
    t0 = sm_clock_ms();
    sm_status st = sm_mirror_step(p->mirror, &in, out, err);
    double ms_step = sm_clock_ms() - t0;
    if (st != SM_OK)
        return st;
    if (p->trace)
        sm_heart_trace_writer_add(p->trace, index, sm_mirror_heart_sample(p->mirror));
    /* the fusion shows valence/arousal only on frames with a new result: keep
     * showing the newest one between emotion runs */
    if (out->emotion.valid && !fresh && p->have_emo) {
        out->emotion.valence = p->emo_out.valence;
        out->emotion.arousal = p->emo_out.arousal;
        out->emotion.gate[0] = p->emo_out.gate[0];
        out->emotion.gate[1] = p->emo_out.gate[1];
    }
    /* a model without valence/arousal heads: the circumplex estimate from
     * the smoothed probabilities (emotion_fer.h), so they are never empty */
    if (out->emotion.valid && p->fer)
        sm_emotion_valence_arousal(out->emotion.labels, out->emotion.probs, out->emotion.n_labels,
                                   &out->emotion.valence, &out->emotion.arousal);
    if (out->emotion.available) {
        out->emotion.model_name = p->emo_name;
        out->emotion.precision = sm_precision_name(p->emo_precision);
    }
    out->ms.face = ms_face;
    out->ms.fatigue = ms_feats + p->mlp_ms;
    out->ms.emotion = ms_emo;
    out->ms.heart = ms_ul + (ms_step - p->mlp_ms);
    out->ms.advisor = 0;
    out->ms.total = sm_clock_ms() - t_start;
    return SM_OK;
}
