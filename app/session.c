/* The session: per-second series, history rings, event counts, the CSV
 * recorder and the summary (contract in session.h). */
#include "session.h"
#include "json_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const sm_series_info series_info[SM_SERIES_COUNT] = {
#define SM_SESSION_INFO(id, key, unit, agg, dec, has, val) {key, unit, SM_AGG_##agg, dec},
    SM_SESSION_SERIES(SM_SESSION_INFO)
#undef SM_SESSION_INFO
};

const sm_series_info *sm_series_get(sm_series_id id)
{
    return id >= 0 && id < SM_SERIES_COUNT ? &series_info[id] : NULL;
}

/* Every value of one frame (NaN = none). */
static void frame_values(const sm_mirror_result *r, double v[SM_SERIES_COUNT])
{
#define SM_SESSION_VALUE(id, key, unit, agg, dec, has, val) v[SM_SERIES_##id] = (has) ? (double)(val) : NAN;
    SM_SESSION_SERIES(SM_SESSION_VALUE)
#undef SM_SESSION_VALUE
}

typedef struct {
    double sum, max, last;
    int n;
} acc;

struct sm_session {
    bool started, finished;
    double t0, t_last, wall0, wall_last;
    int64_t frames;
    int64_t sec;                       /* the open second (index from t0) */
    double sec_wall;                   /* wall time of its first frame */
    acc cur[SM_SERIES_COUNT];
    uint8_t cur_marks;
    int64_t closed;                    /* seconds closed so far */
    float ring[SM_SERIES_COUNT][SM_SESSION_MAX_S];
    uint8_t ring_marks[SM_SESSION_MAX_S];

    int n_labels;
    char labels[SM_MAX_EMOTIONS][SM_SESSION_LABEL_MAX];

    /* counters */
    bool have_prev;
    bool prev_alert, prev_closed;
    int prev_blinks, prev_yawns, prev_actions, prev_rewards, prev_long, prev_micro;
    int blinks, yawns, alerts, long_closures, microsleeps;
    double closed_since;               /* t of the first closed frame of the run */
    bool run_long, run_micro;          /* this run already counted */
    int suggestions, actions, rewards, rewards_positive;
    double reward_sum;

    /* per-second statistics for the summary */
    double face_s;
    int bpm_n, stress_n, emotion_n;
    double bpm_sum, bpm_min, bpm_max, stress_sum;
    int stress_bins[3];
    int emotion_count[SM_MAX_EMOTIONS];

    /* recorder */
    int fd;
    char *path;
    char session_id[32];
    char *buf;
    size_t len, cap;
    int64_t rows_pending_since;        /* first second in buf */
    bool rec_failed;
};

sm_status sm_session_init(sm_session **out, sm_error *err)
{
    sm_session *s = calloc(1, sizeof *s);
    if (!s)
        return sm_error_set(err, SM_ERR_NOMEM, "session: out of memory");
    s->fd = -1;
    s->bpm_min = INFINITY;
    s->bpm_max = -INFINITY;
    *out = s;
    return SM_OK;
}

void sm_session_free(sm_session *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s->path);
    free(s->buf);
    free(s);
}

/* ---- CSV -------------------------------------------------------------------- */

static bool buf_add(sm_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool buf_add(sm_session *s, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(s->buf ? s->buf + s->len : NULL, s->buf ? s->cap - s->len : 0, fmt, ap);
        va_end(ap);
        if (k < 0)
            return false;
        if (s->buf && (size_t)k < s->cap - s->len) {
            s->len += (size_t)k;
            return true;
        }
        size_t nc = s->cap * 2 + (size_t)k + 256;
        char *p = realloc(s->buf, nc);
        if (!p)
            return false;
        s->buf = p;
        s->cap = nc;
    }
}

static void header_line(sm_session *s)
{
    buf_add(s, "session,t[s],time_utc");
    for (int i = 0; i < SM_SERIES_COUNT; i++)
        buf_add(s, ",%s[%s]", series_info[i].key, series_info[i].unit);
    buf_add(s, ",events\n");
}

static sm_status write_all(int fd, const char *p, size_t n, const char *path, sm_error *err)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return sm_error_set(err, SM_ERR_IO, "%s: write failed: %s", path, w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return SM_OK;
}

sm_status sm_session_record(sm_session *s, const char *path, sm_error *err)
{
    if (s->fd >= 0 || s->started)
        return sm_error_set(err, SM_ERR_ARG, "%s: the session already records or started", path);
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return sm_error_set(err, SM_ERR_IO, "%s: cannot open for recording: %s%s", path, strerror(errno),
                            errno == ELOOP ? " (a symlink: give the real file)" : "");
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sm_error_set(err, SM_ERR_IO, "%s: not a regular file; --record needs a file", path);
    }
    s->len = 0;
    header_line(s);
    if (!s->buf) {
        close(fd);
        return sm_error_set(err, SM_ERR_NOMEM, "session: out of memory");
    }
    if (st.st_size > 0) {
        /* appending: the same columns, and no torn row from a crash */
        size_t hl = s->len;
        char *head = malloc(hl);
        ssize_t got = head ? pread(fd, head, hl, 0) : -1;
        bool same = got == (ssize_t)hl && memcmp(head, s->buf, hl) == 0;
        free(head);
        if (!same) {
            close(fd);
            return sm_error_set(err, SM_ERR_FORMAT,
                                "%s: exists with other columns (not a smartmirror recording of this version); "
                                "record into a new file", path);
        }
        off_t end = st.st_size;
        char c = '\n';
        while (end > (off_t)hl && pread(fd, &c, 1, end - 1) == 1 && c != '\n')
            end--;
        if (end != st.st_size) {
            sm_log(SM_LOG_WARN, "%s: cutting a torn last line (%lld bytes) left by an interrupted recording", path,
                   (long long)(st.st_size - end));
            if (ftruncate(fd, end) != 0) {
                close(fd);
                return sm_error_set(err, SM_ERR_IO, "%s: cannot cut its torn last line: %s", path, strerror(errno));
            }
        }
        s->len = 0;
    }
    s->path = strdup(path);
    if (!s->path) {
        close(fd);
        return sm_error_set(err, SM_ERR_NOMEM, "session: out of memory");
    }
    s->fd = fd;
    /* the header reaches the file at once: an empty recording is still a valid CSV */
    sm_status r = write_all(fd, s->buf, s->len, path, err);
    s->len = 0;
    return r;
}

static void utc_text(double wall, char *out, size_t cap)
{
    time_t tt = (time_t)floor(wall);
    struct tm tmv;
    if (!isfinite(wall) || wall <= 0 || !gmtime_r(&tt, &tmv)) {
        snprintf(out, cap, "%s", "");
        return;
    }
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tmv);
}

static sm_status flush_rows(sm_session *s, sm_error *err)
{
    if (s->fd < 0 || s->rec_failed || s->len == 0)
        return SM_OK;
    sm_status st = write_all(s->fd, s->buf, s->len, s->path, err);
    s->len = 0;
    if (st != SM_OK)
        s->rec_failed = true;
    return st;
}

static void row(sm_session *s, int64_t sec, double wall, const double *v, uint8_t marks)
{
    char when[40];
    utc_text(wall, when, sizeof when);
    buf_add(s, "%s,%lld,%s", s->session_id, (long long)sec, when);
    for (int i = 0; i < SM_SERIES_COUNT; i++) {
        if (!isfinite(v[i])) {
            buf_add(s, ",");
        } else if (i == SM_SERIES_EMOTION) {
            int k = (int)v[i];
            buf_add(s, ",%s", k >= 0 && k < s->n_labels ? s->labels[k] : "");
        } else {
            buf_add(s, ",%.*f", series_info[i].decimals, v[i]);
        }
    }
    static const char *const names[] = {"alert", "long_closure", "microsleep", "yawn", "suggestion"};
    buf_add(s, ",");
    bool first = true;
    for (int b = 0; b < 5; b++)
        if (marks & (1 << b)) {
            buf_add(s, "%s%s", first ? "" : ";", names[b]);
            first = false;
        }
    buf_add(s, "\n");
}

/* ---- seconds ------------------------------------------------------------------ */

static void close_second(sm_session *s, int64_t sec, double wall, const acc *a, uint8_t marks)
{
    double v[SM_SERIES_COUNT];
    for (int i = 0; i < SM_SERIES_COUNT; i++) {
        if (!a || a[i].n == 0)
            v[i] = NAN;
        else if (series_info[i].agg == SM_AGG_MEAN)
            v[i] = a[i].sum / a[i].n;
        else if (series_info[i].agg == SM_AGG_MAX)
            v[i] = a[i].max;
        else
            v[i] = a[i].last;
    }
    size_t slot = (size_t)(sec % SM_SESSION_MAX_S);
    for (int i = 0; i < SM_SERIES_COUNT; i++)
        s->ring[i][slot] = (float)v[i];
    s->ring_marks[slot] = marks;
    s->closed = sec + 1;

    if (isfinite(v[SM_SERIES_FACE]))
        s->face_s += v[SM_SERIES_FACE];
    if (isfinite(v[SM_SERIES_BPM])) {
        s->bpm_n++;
        s->bpm_sum += v[SM_SERIES_BPM];
        s->bpm_min = fmin(s->bpm_min, v[SM_SERIES_BPM]);
        s->bpm_max = fmax(s->bpm_max, v[SM_SERIES_BPM]);
    }
    if (isfinite(v[SM_SERIES_STRESS])) {
        double x = v[SM_SERIES_STRESS];
        s->stress_n++;
        s->stress_sum += x;
        /* the seed's levels (sm_stress_level): < 30 low, < 60 moderate, else high */
        s->stress_bins[x < 30 ? 0 : x < 60 ? 1 : 2]++;
    }
    if (isfinite(v[SM_SERIES_EMOTION])) {
        int k = (int)v[SM_SERIES_EMOTION];
        if (k >= 0 && k < SM_MAX_EMOTIONS) {
            s->emotion_n++;
            s->emotion_count[k]++;
        }
    }
    if (s->fd >= 0 && !s->rec_failed) {
        if (s->len == 0)
            s->rows_pending_since = sec;
        row(s, sec, wall, v, marks);
    }
}

static void learn_labels(sm_session *s, const sm_emotion_result *e)
{
    if (!e->available || e->n_labels <= 0 || s->n_labels > 0)
        return;
    int n = e->n_labels > SM_MAX_EMOTIONS ? SM_MAX_EMOTIONS : e->n_labels;
    for (int i = 0; i < n; i++)
        snprintf(s->labels[i], sizeof s->labels[i], "%s", e->labels[i] ? e->labels[i] : "?");
    s->n_labels = n;
}

/* Event counters of one frame; returns the marks it sets. */
static uint8_t count_events(sm_session *s, const sm_mirror_result *r)
{
    uint8_t m = 0;
    const sm_fatigue_result *fa = &r->fatigue;
    bool alert = fa->available && fa->valid && fa->alert;
    if (alert && !s->prev_alert) {
        s->alerts++;
        m |= SM_MARK_ALERT;
    }
    s->prev_alert = alert;
    if (fa->valid) {
        if (s->have_prev && fa->blinks > s->prev_blinks)
            s->blinks += fa->blinks - s->prev_blinks;
        if (s->have_prev && fa->yawns > s->prev_yawns) {
            s->yawns += fa->yawns - s->prev_yawns;
            m |= SM_MARK_YAWN;
        }
        s->prev_blinks = fa->blinks;
        s->prev_yawns = fa->yawns;
    }
    /* the calibrated detector counts closures itself */
    bool events = fa->rules && !strcmp(fa->rules, "wellness");
    if (events && fa->valid) {
        if (s->have_prev && fa->long_closures > s->prev_long) {
            s->long_closures += fa->long_closures - s->prev_long;
            m |= SM_MARK_LONG_CLOSURE;
        }
        if (s->have_prev && fa->microsleeps > s->prev_micro) {
            s->microsleeps += fa->microsleeps - s->prev_micro;
            m |= SM_MARK_MICROSLEEP;
        }
        s->prev_long = fa->long_closures;
        s->prev_micro = fa->microsleeps;
    }
    /* otherwise closure runs of eyes_closed (a frame without a face ends the run) */
    bool closed = !events && fa->valid && fa->eyes_closed;
    if (closed && !s->prev_closed) {
        s->closed_since = r->t;
        s->run_long = s->run_micro = false;
    }
    if (closed) {
        double len = r->t - s->closed_since;
        if (!s->run_long && len >= SM_SESSION_LONG_CLOSURE_S) {
            s->run_long = true;
            s->long_closures++;
            m |= SM_MARK_LONG_CLOSURE;
        }
        if (!s->run_micro && len >= SM_SESSION_MICROSLEEP_S) {
            s->run_micro = true;
            s->microsleeps++;
            m |= SM_MARK_MICROSLEEP;
        }
    }
    s->prev_closed = closed;
    const sm_advisor_result *a = &r->advisor;
    if (a->valid) {
        if (a->n_actions > s->prev_actions) {
            s->actions += a->n_actions - s->prev_actions;
            if (a->action != 0) {
                s->suggestions++;
                m |= SM_MARK_SUGGESTION;
            }
        }
        if (a->has_reward && a->n_rewards > s->prev_rewards) {
            s->rewards += a->n_rewards - s->prev_rewards;
            s->reward_sum += a->reward;
            s->rewards_positive += a->reward > 0;
        }
        s->prev_actions = a->n_actions;
        s->prev_rewards = a->n_rewards;
    }
    s->have_prev = true;
    return m;
}

sm_status sm_session_push(sm_session *s, const sm_mirror_result *r, double wall_s, sm_error *err)
{
    if (s->finished || !isfinite(r->t))
        return SM_OK;
    learn_labels(s, &r->emotion);
    if (!s->started) {
        s->started = true;
        s->t0 = r->t;
        s->wall0 = wall_s;
        s->sec = 0;
        s->sec_wall = wall_s;
        utc_text(wall_s, s->session_id, sizeof s->session_id);
    }
    double rel = r->t - s->t0;
    int64_t sec = rel < 0 ? 0 : (int64_t)floor(rel);
    if (sec < s->sec)
        sec = s->sec; /* a timestamp going back joins the open second */
    if (sec > s->sec) {
        close_second(s, s->sec, s->sec_wall, s->cur, s->cur_marks);
        /* seconds without a frame: empty rows (at most one ring's worth written) */
        int64_t gap_from = s->sec + 1;
        if (sec - gap_from > SM_SESSION_MAX_S)
            gap_from = sec - SM_SESSION_MAX_S;
        for (int64_t g = gap_from; g < sec; g++)
            close_second(s, g, s->sec_wall > 0 ? s->sec_wall + (double)(g - s->sec) : 0.0, NULL, 0);
        memset(s->cur, 0, sizeof s->cur);
        s->cur_marks = 0;
        s->sec = sec;
        s->sec_wall = wall_s;
    }
    double v[SM_SERIES_COUNT];
    frame_values(r, v);
    for (int i = 0; i < SM_SERIES_COUNT; i++) {
        if (!isfinite(v[i]))
            continue;
        acc *a = &s->cur[i];
        a->sum += v[i];
        a->max = a->n ? fmax(a->max, v[i]) : v[i];
        a->last = v[i];
        a->n++;
    }
    s->cur_marks |= count_events(s, r);
    s->frames++;
    s->t_last = r->t;
    s->wall_last = wall_s;
    if (s->fd >= 0 && s->len && s->sec - s->rows_pending_since >= SM_SESSION_FLUSH_S)
        return flush_rows(s, err);
    return SM_OK;
}

sm_status sm_session_finish(sm_session *s, sm_error *err)
{
    if (s->finished)
        return SM_OK;
    s->finished = true;
    if (s->started)
        close_second(s, s->sec, s->sec_wall, s->cur, s->cur_marks);
    sm_status st = flush_rows(s, err);
    if (st == SM_OK && s->fd >= 0 && fsync(s->fd) != 0 && errno != EINVAL)
        st = sm_error_set(err, SM_ERR_IO, "%s: sync failed: %s", s->path, strerror(errno));
    return st;
}

int64_t sm_session_seconds(const sm_session *s) { return s->closed; }

void sm_session_history(const sm_session *s, sm_series_id id, int n, float *out, uint8_t *marks)
{
    for (int i = 0; i < n; i++) {
        int64_t sec = s->closed - n + i;
        bool ok = sec >= 0 && sec > s->closed - 1 - SM_SESSION_MAX_S && id >= 0 && id < SM_SERIES_COUNT;
        size_t slot = ok ? (size_t)(sec % SM_SESSION_MAX_S) : 0;
        out[i] = ok ? s->ring[id][slot] : NAN;
        if (marks)
            marks[i] = ok ? s->ring_marks[slot] : 0;
    }
}

const char *sm_session_label(const sm_session *s, int index)
{
    return index >= 0 && index < s->n_labels ? s->labels[index] : NULL;
}

/* ---- summary ---------------------------------------------------------------------- */

void sm_session_summarize(const sm_session *s, sm_session_summary *o)
{
    memset(o, 0, sizeof *o);
    o->frames = s->frames;
    o->seconds = s->closed;
    o->duration_s = s->started ? s->t_last - s->t0 : 0.0;
    o->face_s = s->face_s;
    o->blinks = s->blinks;
    o->yawns = s->yawns;
    o->alerts = s->alerts;
    o->long_closures = s->long_closures;
    o->microsleeps = s->microsleeps;
    o->blinks_per_min = s->face_s >= 1.0 ? s->blinks / (s->face_s / 60.0) : NAN;
    o->bpm_n = s->bpm_n;
    o->bpm_mean = s->bpm_n ? s->bpm_sum / s->bpm_n : NAN;
    o->bpm_min = s->bpm_n ? s->bpm_min : NAN;
    o->bpm_max = s->bpm_n ? s->bpm_max : NAN;
    o->stress_n = s->stress_n;
    o->stress_mean = s->stress_n ? s->stress_sum / s->stress_n : NAN;
    o->stress_low = s->stress_n ? (double)s->stress_bins[0] / s->stress_n : NAN;
    o->stress_moderate = s->stress_n ? (double)s->stress_bins[1] / s->stress_n : NAN;
    o->stress_high = s->stress_n ? (double)s->stress_bins[2] / s->stress_n : NAN;
    o->emotion_n = s->emotion_n;
    o->n_labels = s->n_labels;
    for (int i = 0; i < s->n_labels; i++) {
        memcpy(o->labels[i], s->labels[i], sizeof o->labels[i]);
        o->emotion_share[i] = s->emotion_n ? (double)s->emotion_count[i] / s->emotion_n : NAN;
    }
    o->suggestions = s->suggestions;
    o->actions = s->actions;
    o->rewards = s->rewards;
    o->rewards_positive = s->rewards_positive;
    o->reward_mean = s->rewards ? s->reward_sum / s->rewards : NAN;
    o->wall_start = s->started ? s->wall0 : NAN;
    o->wall_end = s->started ? s->wall_last : NAN;
}

char *sm_session_summary_json(const sm_session_summary *o)
{
    sm_json b = {0};
    char start[40] = "", end[40] = "";
    utc_text(o->wall_start, start, sizeof start);
    utc_text(o->wall_end, end, sizeof end);
    sm_json_add(&b, "{\"summary\":1,\"start_utc\":");
    if (start[0])
        sm_json_str(&b, start);
    else
        sm_json_add(&b, "null");
    sm_json_add(&b, ",\"end_utc\":");
    if (end[0])
        sm_json_str(&b, end);
    else
        sm_json_add(&b, "null");
    sm_json_add(&b, ",\"frames\":%lld,\"seconds\":%lld,", (long long)o->frames, (long long)o->seconds);
    sm_json_key_num(&b, "duration_s", o->duration_s, 2);
    sm_json_add(&b, ",");
    sm_json_key_num(&b, "face_s", o->face_s, 1);
    sm_json_add(&b, ",\"fatigue\":{\"blinks\":%d,", o->blinks);
    sm_json_key_num(&b, "blinks_per_min", o->blinks_per_min, 1);
    sm_json_add(&b, ",\"long_closures\":%d,\"microsleeps\":%d,\"yawns\":%d,\"alerts\":%d}", o->long_closures,
           o->microsleeps, o->yawns, o->alerts);
    sm_json_add(&b, ",\"heart\":");
    if (o->bpm_n) {
        sm_json_add(&b, "{\"seconds\":%d,", o->bpm_n);
        sm_json_key_num(&b, "bpm_mean", o->bpm_mean, 1);
        sm_json_add(&b, ",");
        sm_json_key_num(&b, "bpm_min", o->bpm_min, 1);
        sm_json_add(&b, ",");
        sm_json_key_num(&b, "bpm_max", o->bpm_max, 1);
        sm_json_add(&b, "}");
    } else {
        sm_json_add(&b, "null");
    }
    sm_json_add(&b, ",\"stress\":");
    if (o->stress_n) {
        sm_json_add(&b, "{\"seconds\":%d,", o->stress_n);
        sm_json_key_num(&b, "mean", o->stress_mean, 1);
        sm_json_add(&b, ",");
        sm_json_key_num(&b, "low", o->stress_low, 3);
        sm_json_add(&b, ",");
        sm_json_key_num(&b, "moderate", o->stress_moderate, 3);
        sm_json_add(&b, ",");
        sm_json_key_num(&b, "high", o->stress_high, 3);
        sm_json_add(&b, "}");
    } else {
        sm_json_add(&b, "null");
    }
    sm_json_add(&b, ",\"emotion\":");
    if (o->emotion_n) {
        sm_json_add(&b, "{\"seconds\":%d,\"shares\":{", o->emotion_n);
        for (int i = 0; i < o->n_labels; i++) {
            if (i)
                sm_json_add(&b, ",");
            sm_json_str(&b, o->labels[i]);
            sm_json_add(&b, ":%.3f", o->emotion_share[i]);
        }
        sm_json_add(&b, "}}");
    } else {
        sm_json_add(&b, "null");
    }
    sm_json_add(&b, ",\"advisor\":{\"decisions\":%d,\"suggestions\":%d,\"rewards\":%d,\"helped\":%d,", o->actions,
           o->suggestions, o->rewards, o->rewards_positive);
    sm_json_key_num(&b, "reward_mean", o->reward_mean, 3);
    sm_json_add(&b, "}}");
    return sm_json_finish(&b);
}

sm_status sm_session_summary_write(const sm_session_summary *sum, const char *path, sm_error *err)
{
    char *j = sm_session_summary_json(sum);
    if (!j)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", path);
    size_t n = strlen(j);
    j[n] = '\n'; /* the terminating NUL becomes the file's final newline */
    sm_status st = sm_file_write_atomic(path, j, n + 1, err);
    free(j);
    return st;
}
