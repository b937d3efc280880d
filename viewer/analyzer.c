/* The default analysis hook: checks which model files exist (so the user is
 * told what is missing) and reports every section as unavailable. */
#include "analyzer.h"

#include <stdio.h>
#include <string.h>

void sm_mirror_result_reset(sm_mirror_result *r, const sm_frame *frame)
{
    memset(r, 0, sizeof *r);
    r->frame = frame->index;
    r->t = frame->t;
    r->width = frame->width;
    r->height = frame->height;
    r->emotion.label = -1;
}

const char *sm_viewer_model_path(const sm_viewer_models *m, const char *which, char *buf, size_t cap)
{
    const char *dir = m->models_dir ? m->models_dir : "models";
    const char *given = NULL, *name = NULL;
    if (!strcmp(which, "face_detector")) {
        given = m->face_detector;
        name = SM_MODEL_FACE_DETECTOR;
    } else if (!strcmp(which, "face_mesh")) {
        given = m->face_mesh;
        name = m->refine ? SM_MODEL_FACE_MESH_REFINED : SM_MODEL_FACE_MESH;
    } else if (!strcmp(which, "emotion")) {
        given = m->emotion;
        name = SM_MODEL_EMOTION;
    } else if (!strcmp(which, "emotion_default")) {
        name = SM_MODEL_EMOTION_DEFAULT;
    } else if (!strcmp(which, "fatigue")) {
        given = m->fatigue;
        name = SM_MODEL_FATIGUE;
    } else {
        given = m->rppg;
        name = SM_MODEL_RPPG;
    }
    if (given)
        snprintf(buf, cap, "%s", given);
    else
        snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

