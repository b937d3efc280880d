/* Reading the track and annotation files of fatigue_replay.h (strict: every
 * error names the file and line; tests/fuzz/fuzz_track.c). */
#include "csv.h"
#include "fatigue_replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TRACK_MAX_BYTES (256u << 20)
#define TRACK_HEADER "t,face,ear,mar,tilt_deg,pitch_ratio,box_w"
#define EVENTS_HEADER "kind,start_s,end_s,note"

static const char *const kind_names[SM_TEV_N] = {"blink", "closure", "yawn", "talk", "nod", "absent"};

const char *sm_track_event_name(sm_track_event_kind k)
{
    return k >= 0 && k < SM_TEV_N ? kind_names[k] : "?";
}

static sm_status read_rows(sm_csv *c, sm_track *out, sm_error *err)
{
    sm_status st = sm_csv_header(c, TRACK_HEADER, err);
    size_t cap = 0;
    for (char *line; st == SM_OK && (line = sm_csv_next(c)) != NULL;) {
        if (!line[0])
            continue;
        char *f[7];
        double v[7];
        bool ok = sm_csv_split(line, f, 7) == 7;
        /* t and face finite; the features finite or nan (no face) */
        for (int k = 0; k < 7 && ok; k++)
            ok = sm_csv_number(f[k], &v[k]) && (isfinite(v[k]) || (k >= 2 && isnan(v[k])));
        if (!ok)
            return sm_error_set(err, SM_ERR_FORMAT,
                                "%s:%zu: expected 7 numbers (t and face finite, others finite or nan)", c->name,
                                c->line);
        if (v[1] != 0 && v[1] != 1)
            return sm_error_set(err, SM_ERR_FORMAT, "%s:%zu: face must be 0 or 1, found %g", c->name, c->line,
                                v[1]);
        if (out->n == cap) {
            size_t nc = cap ? 2 * cap : 256;
            sm_track_row *nr = realloc(out->rows, nc * sizeof *nr);
            if (!nr)
                return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", c->name);
            out->rows = nr;
            cap = nc;
        }
        out->rows[out->n++] = (sm_track_row){v[0], v[1] == 1, v[2], v[3], v[4], v[5], v[6]};
    }
    if (st == SM_OK && out->n == 0)
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: no rows", c->name);
    return st;
}

static sm_status read_events(sm_csv *c, sm_track *out, sm_error *err)
{
    sm_status st = sm_csv_header(c, EVENTS_HEADER, err);
    size_t cap = 0;
    for (char *line; st == SM_OK && (line = sm_csv_next(c)) != NULL;) {
        if (!line[0])
            continue;
        /* the note is the rest of the line, commas and all */
        char *f[3];
        char *c3 = NULL;
        if (sm_csv_split(line, f, 2) == 3) {
            f[2] = f[1] + strlen(f[1]) + 1;
            c3 = strchr(f[2], ',');
        }
        if (!c3)
            return sm_error_set(err, SM_ERR_FORMAT, "%s:%zu: expected kind,start_s,end_s,note", c->name, c->line);
        *c3 = '\0';
        int kind = -1;
        for (int k = 0; k < SM_TEV_N; k++)
            if (!strcmp(f[0], kind_names[k]))
                kind = k;
        if (kind < 0)
            return sm_error_set(err, SM_ERR_FORMAT,
                                "%s:%zu: unknown kind '%.40s' (blink, closure, yawn, talk, nod, absent)", c->name,
                                c->line, f[0]);
        double a, b;
        if (!sm_csv_number(f[1], &a) || !sm_csv_number(f[2], &b) || !isfinite(a) || !isfinite(b) || b < a)
            return sm_error_set(err, SM_ERR_FORMAT, "%s:%zu: start_s and end_s must be numbers with start <= end",
                                c->name, c->line);
        if (out->n_events == cap) {
            size_t nc = cap ? 2 * cap : 16;
            sm_track_event *ne = realloc(out->events, nc * sizeof *ne);
            if (!ne)
                return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", c->name);
            out->events = ne;
            cap = nc;
        }
        const char *note = c3 + 1;
        while (*note == ' ' || *note == '"')
            note++;
        out->events[out->n_events++] =
            (sm_track_event){(sm_track_event_kind)kind, a, b, strncasecmp(note, "partial:", 8) == 0};
    }
    return st;
}

/* Either file from a path or (path NULL) from a buffer named `name`. */
static sm_status read_one(const char *path, const char *name, const void *data, size_t len,
                          sm_status (*fn)(sm_csv *, sm_track *, sm_error *), sm_track *out, sm_error *err)
{
    sm_csv c;
    sm_status st = path ? sm_csv_open(path, TRACK_MAX_BYTES, &c, err) : sm_csv_from_memory(name, data, len, &c, err);
    if (st == SM_OK)
        st = fn(&c, out, err);
    sm_csv_close(&c);
    return st;
}

sm_status sm_track_load(const char *track_path, const char *events_path, sm_track *out, sm_error *err)
{
    if (!track_path || !out)
        return sm_error_set(err, SM_ERR_ARG, "track: NULL argument");
    memset(out, 0, sizeof *out);
    sm_status st = read_one(track_path, NULL, NULL, 0, read_rows, out, err);
    if (st == SM_OK && events_path)
        st = read_one(events_path, NULL, NULL, 0, read_events, out, err);
    if (st != SM_OK)
        sm_track_free(out);
    return st;
}

sm_status sm_track_parse(const char *track_name, const void *track, size_t track_len, const char *events_name,
                         const void *events, size_t events_len, sm_track *out, sm_error *err)
{
    if (!track || !out)
        return sm_error_set(err, SM_ERR_ARG, "track: NULL argument");
    memset(out, 0, sizeof *out);
    sm_status st = read_one(NULL, track_name, track, track_len, read_rows, out, err);
    if (st == SM_OK && events)
        st = read_one(NULL, events_name, events, events_len, read_events, out, err);
    if (st != SM_OK)
        sm_track_free(out);
    return st;
}

void sm_track_free(sm_track *t)
{
    if (!t)
        return;
    free(t->rows);
    free(t->events);
    memset(t, 0, sizeof *t);
}
