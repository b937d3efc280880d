/* plots.h: the window's history band (drowsiness with alert/microsleep
 * marks, heart rate with gaps where there is no trusted reading, stress, the
 * top emotion as a colour band, a labelled time axis) and the session
 * summary box, drawn from a app/session.h session with our canvas.
 *
 * Layout: a gutter of SM_PLOTS_GUTTER_CHARS characters on the left holds
 * each plot's name and its axis range with unit; the plot area follows; the
 * time axis (seconds or minutes ago, "now" at the right) runs under the last
 * plot. Colours are the panels' (overlay.c): green / yellow / red by the
 * same thresholds as the drowsiness and stress bars. */
#ifndef SM_VIEWER_PLOTS_H
#define SM_VIEWER_PLOTS_H

#include "canvas.h"
#include "session.h"

#include <stdbool.h>

#define SM_PLOTS_GUTTER_CHARS 11

/* Height of the band at text scale ui (0 when a video column of height vh
 * is too small for it: the band is left out). */
int sm_plots_height(int vh, int ui);
/* Draws the last span_s seconds of s into (x, y, w, h). */
void sm_plots_draw(sm_canvas *c, int x, int y, int w, int h, int ui, const sm_session *s, int span_s);
/* The summary (key t, and when quitting the window) as a box centred in
 * (x, y, w, h). */
void sm_plots_summary_box(sm_canvas *c, int x, int y, int w, int h, int ui, const sm_session_summary *sum,
                          bool quitting);
/* The panels' colour of a class label (by name; grey for unknown ones). */
sm_rgb sm_plots_emotion_colour(const char *label);

#endif
