/* fatigue_replay.h: feeding a recorded feature track through the mirror's
 * fatigue path without video, and scoring what it found against hand
 * annotations (issue 14; used by smw-fatigue-eval, `make eval-fatigue`, and
 * tests/test_fatigue_events.c).
 *
 * Files (tests/fixtures/eval/fatigue/SOURCES.md, /work/wt/CONTRACTS.md):
 *   <clip>.track.csv   header `t,face,ear,mar,tilt_deg,pitch_ratio,box_w`, one row per
 *                      analysed frame; face 0/1; the other fields `nan` when face is 0.
 *   <clip>.events.csv  header `kind,start_s,end_s,note`; kind blink | closure | yawn |
 *                      talk | nod | absent; the note may hold commas (rest of line).
 * Loaders are strict (tools/fatigue_track.c, on app/csv.h): a wrong header, field
 * count, number or kind is an SM_ERR_FORMAT naming the file and line.
 *
 * Replay: each row becomes one sm_mirror_step with the row's features given
 * (yawn flag = MAR > 0.6, as fatigue_module.py), the face box width from
 * box_w, no pixels (no heart rate), no emotion, and the MLP when one is given;
 * the mirror runs the chosen rules (seed = app.py's fusion exactly). */
#ifndef SM_FATIGUE_REPLAY_H
#define SM_FATIGUE_REPLAY_H

#include "fatigue_mlp.h"
#include "mirror.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    double t;
    bool face;
    double ear, mar, tilt_deg, pitch_ratio, box_w;
} sm_track_row;

typedef enum {
    SM_TEV_BLINK = 0, SM_TEV_CLOSURE, SM_TEV_YAWN, SM_TEV_TALK, SM_TEV_NOD, SM_TEV_ABSENT, SM_TEV_N
} sm_track_event_kind;

typedef struct {
    sm_track_event_kind kind;
    double start, end;
    bool partial;                /* a blink note starting "partial:" (lids never shut) */
} sm_track_event;

typedef struct {
    sm_track_row *rows;
    size_t n;
    sm_track_event *events;
    size_t n_events;
} sm_track;

/* Reads <path>.track.csv's rows; events from the sibling .events.csv when
 * events_path is non-NULL (a missing events file is an error then). */
sm_status sm_track_load(const char *track_path, const char *events_path, sm_track *out, sm_error *err);
/* The same from buffers (events NULL: none); messages name track_name and
 * events_name (tests/fuzz/fuzz_track.c). */
sm_status sm_track_parse(const char *track_name, const void *track, size_t track_len, const char *events_name,
                         const void *events, size_t events_len, sm_track *out, sm_error *err);
void sm_track_free(sm_track *t);
const char *sm_track_event_name(sm_track_event_kind k);

/* What the replay saw, per row. */
typedef struct {
    double t;
    bool valid, alert, eyes_closed;
    int blinks, yawns, microsleeps, long_closures;
    float level, p_drowsy, closed_s, ear, mar;
    const char *state;
} sm_replay_frame;

/* Runs the rows through a fresh sm_mirror with `rules`; mlp (may be NULL)
 * gives P(non-drowsy) = proba[mlp_col]. frames: n rows, allocated here (free()). */
sm_status sm_track_replay(const sm_track *tr, sm_fatigue_rules rules, sm_fatigue_mlp *mlp, int mlp_col,
                          sm_replay_frame **frames, sm_error *err);

/* Found versus annotated, for one clip and one rule set. */
typedef struct {
    int closures, closures_found, closures_extra;     /* closures: eyes-closed runs >= 0.5 s */
    int sustained, alerts_in_time, alerts_held;       /* sustained: annotated closures >= 1 s */
    double worst_latency_s, worst_off_delay_s;        /* alert on after closure start; off after its end */
    int alert_episodes, false_alerts;                 /* episodes not during an annotated closure */
    int blinks, blinks_found, blinks_extra;           /* blink counter increments */
    int yawns, yawns_found, yawns_extra, yawns_in_talk;
    int talk;                                         /* annotated talk intervals */
    char alert_times[256];                            /* "on 0.36-0.52, ..." */
} sm_fatigue_score;

void sm_track_score(const sm_track *tr, const sm_replay_frame *fr, sm_fatigue_score *s);

#endif
