/* overlay.h: composes the whole window picture (mirrored video with face box
 * and mesh, the panels of app.py, banners, help) into an RGB canvas. Pure
 * drawing: no SDL, so tests and screenshots use it directly. */
#ifndef SM_VIEWER_OVERLAY_H
#define SM_VIEWER_OVERLAY_H

#include "canvas.h"
#include "mirror_types.h"
#include "session.h"
#include "source.h"

typedef struct {
    bool mirror;          /* flip the picture left-right (a mirror) */
    bool mesh;            /* draw landmarks */
    bool paused, help, ended;
    int ui;               /* text scale (1 = 6x10 px cells); 0 = from the canvas height */
    double fps;           /* display rate */
    const char *status;   /* e.g. "camera /dev/video0 lost: retrying every second" (NULL = none) */
    const char *source;   /* name shown in the header */
    const char *notes;    /* analyzer notes (model files missing...) */
    const sm_session *session; /* history plots under the video (NULL = none) */
    int history_s;        /* their time span, s (0 = 300) */
    bool summary;         /* the session summary box (key t) */
    bool quitting;        /* ... shown because q was pressed: "q again quits" */
    double advice_age_s;  /* seconds since the advisor's last decision (< 0: unknown) */
    float flash;          /* 0..1: the alert's flash around the video (fades out) */
    double calib_done_s;  /* seconds since the fatigue calibration finished (< 0: not just now) */
} sm_overlay_state;

/* Video area of a canvas (where the frame is letterboxed; the history band,
 * plots.h, takes the rest of the column below it). */
void sm_overlay_video_rect(int cw, int ch, int ui, int *x, int *y, int *w, int *h);
/* frame and r may be NULL (nothing yet). */
void sm_overlay_render(sm_canvas *c, const sm_frame *frame, const sm_mirror_result *r, const sm_overlay_state *st);

#endif
