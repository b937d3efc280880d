/* The session: what the mirror remembers while it runs, for the window's
 * history plots, the session summary and the --record CSV. No SDL: the
 * headless program feeds the same object, so every user gets the same data.
 *
 * Time base: the source timestamp `t` of each analysed frame (seconds). The
 * session cuts it into whole seconds counted from the first frame; a second
 * is closed when the first frame of a later second arrives (or at
 * sm_session_finish), and then
 *   - every series below gets one value for it (mean / max / last over the
 *     frames of that second that had a value; NaN when none had one),
 *   - the history rings (the last SM_SESSION_MAX_S seconds) take that value,
 *   - the recorder (if open) writes it as one CSV row.
 * Seconds without any frame (a stalled camera) are closed as empty rows.
 *
 * The series: one line each in SM_SESSION_SERIES below. A line names the CSV
 * column, its unit, how a second is aggregated, the decimals written, when a
 * frame has a value and what it is (expressions on `r`, a const
 * sm_mirror_result *). Adding a plotted or recorded quantity is adding a line.
 * bpm is the shown heart rate only while it is trusted and fresh (issue 15's
 * valid_bpm and !stale): the plot and the CSV have gaps otherwise.
 *
 * Events per second (marks on the plots): alert start, long closure,
 * microsleep, yawn, advisor suggestion; counted for the summary too. Counts
 * come from the detector's own counters (blinks, yawns; with the default
 * wellness rules also long_closures and microsleeps); with --fatigue-rules
 * seed, which has no closure events, from the session's closure tracker
 * (eyes_closed runs: >= SM_SESSION_LONG_CLOSURE_S a long closure,
 * >= SM_SESSION_MICROSLEEP_S a microsleep).
 *
 * Threading: none inside; the window guards the session with its own mutex. */
#ifndef SM_SESSION_H
#define SM_SESSION_H

#include "mirror_types.h"
#include "sm_engine.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#define SM_SESSION_MAX_S 1800          /* history rings: 30 minutes at 1 Hz */
#define SM_SESSION_FLUSH_S 2           /* the CSV is written to the file every 2 s */
#define SM_SESSION_LONG_CLOSURE_S 0.5
#define SM_SESSION_MICROSLEEP_S 1.0
#define SM_SESSION_LABEL_MAX 24

/* X(ID, "column", "unit", aggregation, decimals, has_value, value) */
#define SM_SESSION_SERIES(X)                                                                                        \
    X(FACE, "face", "share 0..1", MEAN, 2, true, r->face.valid ? 1.0 : 0.0)                                         \
    X(EAR, "ear", "ratio", MEAN, 3, r->fatigue.valid, r->fatigue.ear)                                                \
    X(MAR, "mar", "ratio", MEAN, 3, r->fatigue.valid, r->fatigue.mar)                                                \
    X(LEVEL, "level", "0..1", MEAN, 3, r->fatigue.valid, r->fatigue.level)                                           \
    X(ALERT, "alert", "0/1", MAX, 0, r->fatigue.available, r->fatigue.alert ? 1.0 : 0.0)                              \
    X(BPM, "bpm", "1/min", MEAN, 1, r->heart.valid_bpm && !r->heart.stale, r->heart.bpm)                             \
    X(QUALITY, "quality", "0..1", MEAN, 2, isfinite(r->heart.quality) && (r->heart.valid_bpm || r->heart.reason),   \
      r->heart.quality)                                                                                              \
    X(STRESS, "stress", "0..100", MEAN, 1, r->heart.valid_stress, r->heart.stress)                                    \
    X(EMOTION, "emotion", "label", LAST, 0, r->emotion.valid && r->emotion.label_argmax >= 0,                       \
      r->emotion.label_argmax)                                                                                       \
    X(EMOTION_P, "emotion_p", "0..1", LAST, 3, r->emotion.valid && r->emotion.label_argmax >= 0,                    \
      r->emotion.probs[r->emotion.label_argmax])                                                                     \
    X(VALENCE, "valence", "-1..1", MEAN, 3, r->emotion.valid, r->emotion.valence)                                    \
    X(AROUSAL, "arousal", "-1..1", MEAN, 3, r->emotion.valid, r->emotion.arousal)                                    \
    X(ACTION, "advisor_action", "0..2", LAST, 0, r->advisor.valid, r->advisor.action)

typedef enum {
#define SM_SESSION_ENUM(id, ...) SM_SERIES_##id,
    SM_SESSION_SERIES(SM_SESSION_ENUM)
#undef SM_SESSION_ENUM
    SM_SERIES_COUNT
} sm_series_id;

typedef enum { SM_AGG_MEAN, SM_AGG_MAX, SM_AGG_LAST } sm_series_agg;

typedef struct {
    const char *key, *unit;
    sm_series_agg agg;
    int decimals;
} sm_series_info;

const sm_series_info *sm_series_get(sm_series_id id);

/* Marks of a second (bits). */
enum {
    SM_MARK_ALERT = 1,          /* the drowsiness alert started */
    SM_MARK_LONG_CLOSURE = 2,
    SM_MARK_MICROSLEEP = 4,
    SM_MARK_YAWN = 8,
    SM_MARK_SUGGESTION = 16,    /* the advisor suggested a break (action 1 or 2) */
};

typedef struct sm_session sm_session;

sm_status sm_session_init(sm_session **out, sm_error *err);
void sm_session_free(sm_session *s);

/* Appends the CSV to path (created 0644 when missing; never through a
 * symlink; an existing file must carry the same header, a torn last line
 * left by a crash is cut off). Rows reach the file every SM_SESSION_FLUSH_S
 * seconds of session time and at sm_session_finish; after a kill -9 at most
 * those last seconds are missing. Call before the first push. */
sm_status sm_session_record(sm_session *s, const char *path, sm_error *err);

/* One analysed frame; wall_s = its wall-clock time (Unix seconds, for the
 * CSV's time column and the summary). Returns an error only when writing the
 * CSV failed (the recording stops; the session goes on). */
sm_status sm_session_push(sm_session *s, const sm_mirror_result *r, double wall_s, sm_error *err);
/* Closes the current second, writes and syncs the CSV. Idempotent. */
sm_status sm_session_finish(sm_session *s, sm_error *err);

/* Closed seconds so far. */
int64_t sm_session_seconds(const sm_session *s);
/* The last n closed seconds of a series, oldest first, into out[n] (NaN
 * where none); marks[n] optional. Seconds before the start or beyond the
 * ring are NaN / 0. */
void sm_session_history(const sm_session *s, sm_series_id id, int n, float *out, uint8_t *marks);
/* Emotion label of a class index seen in the series (NULL when unknown). */
const char *sm_session_label(const sm_session *s, int index);

typedef struct {
    int64_t frames, seconds;
    double duration_s;              /* last t - first t */
    double face_s;                  /* sum over seconds of the face share */
    int blinks, yawns, alerts, long_closures, microsleeps;
    double blinks_per_min;          /* blinks / face minutes; NaN without a face */
    int bpm_n;                      /* seconds with a BPM */
    double bpm_mean, bpm_min, bpm_max;
    int stress_n;                   /* seconds with a stress value */
    double stress_mean, stress_low, stress_moderate, stress_high; /* shares of stress_n */
    int emotion_n;                  /* seconds with a top class */
    int n_labels;
    char labels[SM_MAX_EMOTIONS][SM_SESSION_LABEL_MAX];
    double emotion_share[SM_MAX_EMOTIONS];
    int suggestions;                /* advisor actions 1 or 2 */
    int actions;                    /* every advisor decision (0 too) */
    int rewards, rewards_positive;  /* rewards learnt; > 0 = the suggestion helped */
    double reward_mean;             /* NaN without any */
    double wall_start, wall_end;    /* Unix seconds */
} sm_session_summary;

void sm_session_summarize(const sm_session *s, sm_session_summary *out);
/* One JSON object (no newline), malloc'd; NULL when out of memory. Layout in
 * docs/JSON.md ("Session summary"). */
char *sm_session_summary_json(const sm_session_summary *sum);
/* sm_session_summary_json written via a temp file + rename (a symlink at
 * path is replaced, never followed). */
sm_status sm_session_summary_write(const sm_session_summary *sum, const char *path, sm_error *err);

#endif
