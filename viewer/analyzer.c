/* The default analysis hook: checks which model files exist (so the user is
 * told what is missing) and reports every section as unavailable. */
#include "analyzer.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void sm_mirror_result_reset(sm_mirror_result *r, const sm_frame *frame)
{
    memset(r, 0, sizeof *r);
    r->frame = frame->index;
    r->t = frame->t;
    r->width = frame->width;
    r->height = frame->height;
    r->emotion.label = -1;
}

static void note_missing(sm_viewer_analyzer *a, const char *what, const char *dir, const char *path,
                         const char *fallback)
{
    char p[1024];
    if (path)
        snprintf(p, sizeof p, "%s", path);
    else
        snprintf(p, sizeof p, "%s/%s", dir, fallback);
    size_t n = strlen(a->notes);
    snprintf(a->notes + n, sizeof a->notes - n, "%s: %s %s; analysis not connected yet\n", what, p,
             access(p, R_OK) == 0 ? "found" : "missing");
}

static sm_status default_init(sm_viewer_analyzer *a, const sm_viewer_models *m, sm_error *err)
{
    const char *dir = m->models_dir ? m->models_dir : "models";
    a->notes[0] = '\0';
    note_missing(a, "face detector", dir, m->face_detector, "face_detector.smw");
    note_missing(a, "face mesh", dir, m->face_mesh, "face_mesh.smw");
    note_missing(a, "emotion", dir, m->emotion, "emotion.smw");
    note_missing(a, "fatigue", dir, m->fatigue, "fatigue.smw");
    note_missing(a, "rppg", dir, m->rppg, "rppg.smw");
    return SM_OK;
}

static sm_status default_process(sm_viewer_analyzer *a, const sm_frame *frame, sm_mirror_result *out,
                                 sm_error *err)
{
    sm_mirror_result_reset(out, frame);
    return SM_OK;
}

static void default_free(sm_viewer_analyzer *a) { (void)a; }

void sm_viewer_analyzer_default(sm_viewer_analyzer *a)
{
    memset(a, 0, sizeof *a);
    a->name = "none (models not connected)";
    a->init = default_init;
    a->process = default_process;
    a->free = default_free;
}

/* The one place to plug the real pipeline in: replace the body with an
 * adapter around models/mirror.c. */
void sm_viewer_analyzer_select(sm_viewer_analyzer *a) { sm_viewer_analyzer_default(a); }
