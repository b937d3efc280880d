/* Trace and ground-truth CSV files; see heart_trace.h. */
#include "heart_trace.h"
#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRACE_MAX_BYTES (512u << 20)
#define N_COLS 22

struct sm_heart_trace_writer {
    char *path;
    char *buf;
    size_t n, cap;
    bool oom;
};

sm_status sm_heart_trace_writer_init(sm_heart_trace_writer **out, const char *path, sm_error *err)
{
    if (!path || !*path)
        return sm_error_set(err, SM_ERR_ARG, "heart trace: empty path");
    sm_heart_trace_writer *w = calloc(1, sizeof *w);
    if (w)
        w->path = strdup(path);
    if (!w || !w->path) {
        free(w);
        return sm_error_set(err, SM_ERR_NOMEM, "heart trace: out of memory");
    }
    /* fail now rather than after a long video: the folder must take a file */
    const char *slash = strrchr(path, '/');
    char dir[4096];
    int k = slash ? snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path) : snprintf(dir, sizeof dir, ".");
    if (k >= 0 && (size_t)k < sizeof dir && access(dir[0] ? dir : "/", W_OK) != 0) {
        int e = errno;
        sm_heart_trace_writer_free(w);
        return sm_error_set(err, SM_ERR_IO, "heart trace %s: cannot write in %s: %s", path,
                            dir[0] ? dir : "/", strerror(e));
    }
    sm_heart_trace_writer_add(w, -1, NULL);
    *out = w;
    return SM_OK;
}

static void add(sm_heart_trace_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(sm_heart_trace_writer *w, const char *fmt, ...)
{
    for (; !w->oom;) {
        va_list ap;
        va_start(ap, fmt);
        int k = w->cap > w->n ? vsnprintf(w->buf + w->n, w->cap - w->n, fmt, ap) : 0;
        va_end(ap);
        if (k < 0) {
            w->oom = true;
            return;
        }
        if (w->cap > w->n && (size_t)k < w->cap - w->n) {
            w->n += (size_t)k;
            return;
        }
        size_t nc = w->cap * 2 + (size_t)k + 4096;
        char *p = realloc(w->buf, nc);
        if (!p) {
            w->oom = true;
            return;
        }
        w->buf = p;
        w->cap = nc;
    }
}

static void add_num(sm_heart_trace_writer *w, double v, const char *fmt)
{
    if (isfinite(v))
        add(w, fmt, v);
    else
        add(w, ",nan");
}

void sm_heart_trace_writer_add(sm_heart_trace_writer *w, int64_t frame, const sm_heart_sample *s)
{
    if (!w)
        return;
    if (!s) {
        add(w, "%s\n", SM_HEART_TRACE_HEADER);
        return;
    }
    add(w, "%lld", (long long)frame);
    add_num(w, s->t, ",%.6f");
    add(w, ",%d", s->face ? 1 : 0);
    for (int r = 0; r < SM_HEART_NREG; r++) {
        for (int c = 0; c < 3; c++)
            add_num(w, s->face && s->n[r] > 0 ? s->rgb[r][c] : NAN, ",%.4f");
        add(w, ",%d", s->face && s->n[r] > 0 ? s->n[r] : 0);
    }
    for (int k = 0; k < 4; k++)
        add_num(w, s->face ? s->box[k] : NAN, ",%.2f");
    add_num(w, s->face ? s->light : NAN, ",%.3f");
    add_num(w, s->face ? s->sat : NAN, ",%.4f");
    add_num(w, s->bpm_net, ",%.4f");
    add(w, "\n");
}

sm_status sm_heart_trace_writer_finish(sm_heart_trace_writer *w, sm_error *err)
{
    if (w->oom)
        return sm_error_set(err, SM_ERR_NOMEM, "heart trace %s: out of memory, not written", w->path);
    return sm_file_write_atomic(w->path, w->buf, w->n, err);
}

void sm_heart_trace_writer_free(sm_heart_trace_writer *w)
{
    if (!w)
        return;
    free(w->path);
    free(w->buf);
    free(w);
}

/* ---- reading ----------------------------------------------------------------------------- */

static const char *const trace_cols[N_COLS] = {
    "frame", "t", "face", "fh_r", "fh_g", "fh_b", "fh_n", "rc_r", "rc_g", "rc_b", "rc_n",
    "lc_r", "lc_g", "lc_b", "lc_n", "box_x", "box_y", "box_w", "box_h", "light", "sat", "bpm_net"};

static sm_status read_trace(sm_csv *c, sm_heart_sample **out, size_t *n_out, sm_error *err)
{
    const char *path = c->name;
    sm_status st = sm_csv_header(c, SM_HEART_TRACE_HEADER, err);
    if (st != SM_OK)
        return st;
    size_t cap = 1024, n = 0;
    sm_heart_sample *s = malloc(cap * sizeof *s);
    char *line = NULL;
    while (s && (line = sm_csv_next(c)) != NULL) {
        size_t lineno = c->line;
        if (!*line)
            continue;
        char *f[N_COLS];
        int nf = sm_csv_split(line, f, N_COLS);
        if (nf != N_COLS) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s:%zu: %d columns, expected %d", path, lineno,
                              nf > N_COLS ? N_COLS + 1 : nf, N_COLS);
            break;
        }
        double v[N_COLS];
        for (int k = 0; k < N_COLS && st == SM_OK; k++)
            if (!sm_csv_number(f[k], &v[k]))
                st = sm_error_set(err, SM_ERR_FORMAT, "%s:%zu: column %s: '%.40s' is not a number",
                                  path, lineno, trace_cols[k], f[k]);
        if (st != SM_OK)
            break;
        if (!isfinite(v[1])) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s:%zu: column t: not finite", path, lineno);
            break;
        }
        if (v[2] != 0.0 && v[2] != 1.0) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s:%zu: column face: %g, expected 0 or 1", path,
                              lineno, v[2]);
            break;
        }
        for (int r = 0; r < 3 && st == SM_OK; r++) {
            double cnt = v[6 + 4 * r];
            if (!(cnt >= 0.0 && cnt <= 1e9 && cnt == floor(cnt)))
                st = sm_error_set(err, SM_ERR_FORMAT, "%s:%zu: column %s: %g is not a pixel count",
                                  path, lineno, trace_cols[6 + 4 * r], cnt);
        }
        if (st != SM_OK)
            break;
        if (n == cap) {
            sm_heart_sample *ns = realloc(s, 2 * cap * sizeof *s);
            if (!ns)
                break;
            s = ns;
            cap *= 2;
        }
        sm_heart_sample *d = &s[n++];
        memset(d, 0, sizeof *d);
        d->t = v[1];
        d->face = v[2] == 1.0;
        for (int r = 0; r < 3; r++) {
            for (int k = 0; k < 3; k++)
                d->rgb[r][k] = v[3 + 4 * r + k];
            d->n[r] = (int)v[6 + 4 * r];
        }
        for (int k = 0; k < 4; k++)
            d->box[k] = v[15 + k];
        d->light = v[19];
        d->sat = v[20];
        d->bpm_net = v[21];
    }
    if (st == SM_OK && !s)
        st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", path);
    if (st == SM_OK && line)  /* the loop stopped early: realloc failed */
        st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", path);
    if (st == SM_OK && n == 0)
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: no rows", path);
    if (st != SM_OK) {
        free(s);
        return st;
    }
    *out = s;
    *n_out = n;
    return SM_OK;
}

static sm_status read_gt(sm_csv *c, double **t_out, size_t *n_out, sm_error *err)
{
    const char *path = c->name;
    size_t rows = 0;
    for (const char *p = c->text; *p; p++)
        rows += *p == '\n';
    rows++;
    sm_status st = sm_csv_header(c, "t,bpm", err);
    if (st != SM_OK)
        return st;
    double *t = malloc(2 * rows * sizeof *t);
    if (!t)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", path);
    double *bpm = t + rows;
    size_t n = 0;
    for (char *line; (line = sm_csv_next(c)) != NULL;) {
        size_t lineno = c->line;
        if (!*line)
            continue;
        char *f[2];
        double a, b;
        if (sm_csv_split(line, f, 2) != 2 || !sm_csv_number(f[0], &a) || !sm_csv_number(f[1], &b)) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s:%zu: expected 't,bpm' numbers", path, lineno);
            break;
        }
        if (!isfinite(a) || !(b >= 20.0 && b <= 250.0)) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s:%zu: t %g, bpm %g: expected finite t and 20..250 BPM",
                              path, lineno, a, b);
            break;
        }
        if (n > 0 && a <= t[n - 1]) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s:%zu: t %g does not increase", path, lineno, a);
            break;
        }
        t[n] = a;
        bpm[n] = b;
        n++;
    }
    if (st == SM_OK && n == 0)
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: no rows", path);
    if (st != SM_OK) {
        free(t);
        return st;
    }
    /* pack bpm right after the n times */
    memmove(t + n, bpm, n * sizeof *t);
    *t_out = t;
    *n_out = n;
    return SM_OK;
}

sm_status sm_heart_trace_read(const char *path, sm_heart_sample **out, size_t *n, sm_error *err)
{
    sm_csv c;
    sm_status st = sm_csv_open(path, TRACE_MAX_BYTES, &c, err);
    if (st == SM_OK)
        st = read_trace(&c, out, n, err);
    sm_csv_close(&c);
    return st;
}

sm_status sm_heart_trace_parse(const char *name, const void *data, size_t len, sm_heart_sample **out, size_t *n,
                               sm_error *err)
{
    sm_csv c;
    sm_status st = sm_csv_from_memory(name, data, len, &c, err);
    if (st == SM_OK)
        st = read_trace(&c, out, n, err);
    sm_csv_close(&c);
    return st;
}

sm_status sm_heart_gt_read(const char *path, double **t, size_t *n, sm_error *err)
{
    sm_csv c;
    sm_status st = sm_csv_open(path, TRACE_MAX_BYTES, &c, err);
    if (st == SM_OK)
        st = read_gt(&c, t, n, err);
    sm_csv_close(&c);
    return st;
}

sm_status sm_heart_gt_parse(const char *name, const void *data, size_t len, double **t, size_t *n, sm_error *err)
{
    sm_csv c;
    sm_status st = sm_csv_from_memory(name, data, len, &c, err);
    if (st == SM_OK)
        st = read_gt(&c, t, n, err);
    sm_csv_close(&c);
    return st;
}
