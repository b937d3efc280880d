/* The real analysis behind the viewer's analyzer hook: app/pipeline.c.
 * Resolves the model paths (command line, else the defaults under
 * models_dir), tells the user which files are missing and what that turns
 * off, and runs the pipeline per frame. */
#include "analyzer_pipeline.h"
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    sm_pipeline *p;
    char det[1024], mesh[1024], emo[1024], emo_default[1024], fat[1024], rppg[1024];
    char name[320];
} ctx;

static void add_note(sm_viewer_analyzer *a, const char *fmt, const char *x, const char *y)
{
    size_t n = strlen(a->notes);
    snprintf(a->notes + n, sizeof a->notes - n, fmt, x, y);
}

/* The path when readable, else NULL with a note saying what is off. */
static const char *existing(sm_viewer_analyzer *a, const char *what, const char *path, const char *off)
{
    if (access(path, R_OK) == 0)
        return path;
    char line[160];
    snprintf(line, sizeof line, "%s: %%s missing; %%s\n", what);
    add_note(a, line, path, off);
    return NULL;
}

static sm_status pl_init(sm_viewer_analyzer *a, const sm_viewer_models *m, sm_error *err)
{
    a->notes[0] = '\0';
    ctx *c = calloc(1, sizeof *c);
    if (!c)
        return sm_error_set(err, SM_ERR_NOMEM, "analyzer: out of memory");
    a->ctx = c;
    sm_viewer_model_path(m, "face_detector", c->det, sizeof c->det);
    sm_viewer_model_path(m, "face_mesh", c->mesh, sizeof c->mesh);
    sm_viewer_model_path(m, "emotion", c->emo, sizeof c->emo);
    sm_viewer_model_path(m, "emotion_default", c->emo_default, sizeof c->emo_default);
    sm_viewer_model_path(m, "fatigue", c->fat, sizeof c->fat);
    sm_viewer_model_path(m, "rppg", c->rppg, sizeof c->rppg);
    const char *face_off = "no face, fatigue or POS heart rate (make models fetches the face models)";
    const char *det = existing(a, "face detector", c->det, face_off);
    const char *mesh = existing(a, "face mesh", c->mesh, face_off);
    bool have_emo = access(c->emo, R_OK) == 0, have_default = access(c->emo_default, R_OK) == 0;
    if (!have_emo && have_default)
        add_note(a, "emotion: %s missing; using the default public model %s\n", c->emo, c->emo_default);
    else if (!have_emo)
        existing(a, "emotion", c->emo, "no user emotion model (smw-convert YOUR_EMOTION.pth; docs/PIPELINE.md)");
    sm_pipeline_config cfg = {
        .face_detector = det && mesh ? det : NULL,
        .face_mesh = det && mesh ? mesh : NULL,
        /* the user's NovelEmotionModel when converted, else the public default */
        .emotion = access(c->emo, R_OK) == 0 ? c->emo : NULL,
        .emotion_default = existing(a, "default emotion model", c->emo_default,
                                    "no emotion panel (make models fetches it; docs/EMOTION.md)"),
        .fatigue_mlp = existing(a, "fatigue", c->fat, "rule-based fatigue (PERCLOS/EAR) instead of the MLP"),
        .rppg = existing(a, "rppg", c->rppg, "heart rate from POS only (no UltraLightNet)"),
        .advisor = det && mesh,   /* its state needs the face-based signals */
        .qtable = m->qtable,
        .threads = m->threads,
        .live = m->live,
        .emotion_hz = m->emotion_hz,
        .fatigue_seed_rules = m->fatigue_seed_rules,
        .heart_wellness = !m->heart_seed,
        .heart_trace = m->heart_trace,
    };
    sm_status st = sm_pipeline_init(&c->p, &cfg, err);
    if (st != SM_OK)
        return st;
    size_t n = strlen(a->notes);
    snprintf(a->notes + n, sizeof a->notes - n, "%s", sm_pipeline_notes(c->p));
    sm_pipeline_info info = sm_pipeline_get_info(c->p);
    snprintf(c->name, sizeof c->name,
             "pipeline (face %s%s, emotion %s%s%s, fatigue %s, heart %s; %zu+%zu threads)",
             info.face ? (info.n_landmarks == 478 ? "478" : "468") : "off",
             /* the face networks' threads: the start-up measurement's choice */
             !info.face ? "" : info.face_threads == 1 ? " on 1 thread" : " on the pool",
             info.emotion ? info.emotion_model : "off", info.emotion ? " " : "", info.emotion_precision,
             info.fatigue_mlp ? "mlp" : (info.face ? "rules" : "off"), info.rppg_net ? "net+pos" : "pos",
             info.threads, info.emotion_threads);
    a->name = c->name;
    return SM_OK;
}

static sm_status pl_process(sm_viewer_analyzer *a, const sm_frame *f, sm_mirror_result *out, sm_error *err)
{
    ctx *c = a->ctx;
    return sm_pipeline_process(c->p, f->rgb, f->width, f->height, (size_t)f->width * 3, f->index, f->t, out,
                               err);
}

static void pl_recalibrate(sm_viewer_analyzer *a)
{
    ctx *c = a->ctx;
    if (c)
        sm_pipeline_recalibrate(c->p);
}

static void pl_free(sm_viewer_analyzer *a)
{
    ctx *c = a->ctx;
    if (c)
        sm_pipeline_free(c->p);
    free(c);
    a->ctx = NULL;
}

void sm_viewer_analyzer_pipeline(sm_viewer_analyzer *a)
{
    *a = (sm_viewer_analyzer){
        .name = "pipeline", .init = pl_init, .process = pl_process, .free = pl_free, .recalibrate = pl_recalibrate};
}
