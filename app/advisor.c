/* app.py's RLAgent + compute_reward on the frame clock, with a persisted
 * Q-table. The arithmetic keeps Python's operation order so that a table
 * learnt here equals one learnt by app.py on the same states. */
#include "advisor.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define QTABLE_MAGIC "smartmirror-qtable"
#define QTABLE_MAX_BYTES (16u << 20)
#define QTABLE_MAX_ENTRIES 100000u

struct sm_advisor {
    sm_advisor_config cfg;
    char *path;                       /* "" = not persisted */
    char note[SM_ERROR_MAX + 64];
    sm_qentry *q;
    size_t n, cap;
    uint64_t rng;
    /* RLAgent.last_state / last_action */
    bool has_last;
    size_t last_idx;
    int last_action;
    /* app.py session state */
    double last_intervention;
    bool has_prev;
    char prev_label[SM_ADVISOR_LABEL_MAX + 1];
    sm_advisor_state prev;
    bool has_action, has_reward;
    int shown_action;
    double shown_reward;
};

sm_advisor_config sm_advisor_config_default(void)
{
    sm_advisor_config c = {NULL, 0.1, 0.9, 0.0, 1, 180.0, 15.0};
    return c;
}

int sm_advisor_round_tenths(double x)
{
    if (!isfinite(x))
        return 0;
    if (x > 1e8)
        x = 1e8;
    if (x < -1e8)
        x = -1e8;
    /* printf rounds the exact binary value, ties to even: Python's round() */
    char buf[64];
    snprintf(buf, sizeof buf, "%.1f", x);
    return (int)lround(strtod(buf, NULL) * 10.0);
}

int sm_advisor_stress_bin(double x)
{
    if (!isfinite(x))
        return 0;
    if (x > 1e9)
        x = 1e9;
    if (x < -1e9)
        x = -1e9;
    /* CPython float floor division */
    const double w = 20.0;
    double mod = fmod(x, w), div = (x - mod) / w;
    if (mod != 0.0 && ((w < 0) != (mod < 0)))
        div -= 1.0;
    double fl = floor(div);
    if (div - fl > 0.5)
        fl += 1.0;
    return (int)fl;
}

static void copy_label(char *dst, const char *src)
{
    if (!src || !*src)
        src = "neutral";
    memset(dst, 0, SM_ADVISOR_LABEL_MAX + 1); /* entries compare bytewise */
    size_t i = 0;
    for (; src[i] && i < SM_ADVISOR_LABEL_MAX; i++) {
        char c = src[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        dst[i] = ok ? c : '_';
    }
    dst[i] = '\0';
}

static bool label_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SM_ADVISOR_LABEL_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

const sm_qentry *sm_advisor_find(const sm_advisor *a, const char *label, int tenths, int bin)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->q[i].tenths == tenths && a->q[i].stress_bin == bin &&
            strcmp(a->q[i].label, label) == 0)
            return &a->q[i];
    return NULL;
}

/* Index of the state's entry, created with zeros when missing (app.py does
 * this in get_action and update); SIZE_MAX when out of memory. */
static size_t key_index(sm_advisor *a, const sm_advisor_state *s)
{
    char label[SM_ADVISOR_LABEL_MAX + 1];
    copy_label(label, s->emotion);
    int tenths = sm_advisor_round_tenths(s->p_drowsy);
    int bin = sm_advisor_stress_bin(s->stress);
    const sm_qentry *e = sm_advisor_find(a, label, tenths, bin);
    if (e)
        return (size_t)(e - a->q);
    if (a->n == a->cap) {
        size_t nc = a->cap ? 2 * a->cap : 64;
        sm_qentry *nq = realloc(a->q, nc * sizeof *nq);
        if (!nq)
            return SIZE_MAX;
        a->q = nq;
        a->cap = nc;
    }
    sm_qentry *ne = &a->q[a->n];
    memset(ne, 0, sizeof *ne);
    memcpy(ne->label, label, sizeof label);
    ne->tenths = tenths;
    ne->stress_bin = bin;
    return a->n++;
}

static double rng_uniform(sm_advisor *a)
{
    uint64_t x = a->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    a->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

int sm_advisor_get_action(sm_advisor *a, const sm_advisor_state *s)
{
    size_t k = key_index(a, s);
    if (k == SIZE_MAX) {
        sm_log(SM_LOG_WARN, "advisor: out of memory, no action");
        a->has_last = false;
        return 0;
    }
    const double *q = a->q[k].q;
    int best = 0;
    for (int i = 1; i < SM_ADVISOR_ACTIONS; i++)
        if (q[i] > q[best])
            best = i;
    if (a->cfg.epsilon > 0.0 && rng_uniform(a) < a->cfg.epsilon)
        best = (int)(rng_uniform(a) * SM_ADVISOR_ACTIONS) % SM_ADVISOR_ACTIONS;
    a->has_last = true;
    a->last_idx = k;
    a->last_action = best;
    return best;
}

void sm_advisor_update(sm_advisor *a, const sm_advisor_state *new_state, double reward)
{
    if (!a->has_last)
        return;
    size_t k = key_index(a, new_state);
    if (k == SIZE_MAX)
        return;
    double *q = a->q[a->last_idx].q;
    double old = q[a->last_action];
    const double *nq = a->q[k].q;
    double future = nq[0];
    for (int i = 1; i < SM_ADVISOR_ACTIONS; i++)
        if (nq[i] > future)
            future = nq[i];
    q[a->last_action] = old + a->cfg.lr * (reward + a->cfg.gamma * future - old);
}

static int emo_rank(const char *label)
{
    static const struct { const char *name; int rank; } ranks[] = {
        {"angry", 0}, {"sad", 0}, {"fear", 0}, {"disgust", 0}, {"neutral", 1},
        {"happy", 2}, {"surprise", 2}, {"tired", 0}};
    if (!label)
        return 1;
    for (size_t i = 0; i < sizeof ranks / sizeof *ranks; i++)
        if (strcmp(label, ranks[i].name) == 0)
            return ranks[i].rank;
    return 1;
}

double sm_advisor_reward(const sm_advisor_state *prev, const sm_advisor_state *now)
{
    double reward = 0.0;
    reward += (double)((emo_rank(now->emotion) - emo_rank(prev->emotion)) * 2);
    reward += (prev->p_drowsy - now->p_drowsy) * 3;
    reward += (prev->stress - now->stress) * 0.1;
    return reward;
}

void sm_advisor_step(sm_advisor *a, double t, const sm_advisor_state *s, sm_advisor_event *ev)
{
    sm_advisor_event e;
    memset(&e, 0, sizeof e);
    if (isfinite(t)) {
        if (t - a->last_intervention > a->cfg.period_s) {
            e.acted = true;
            e.action = sm_advisor_get_action(a, s);
            a->has_action = true;
            a->shown_action = e.action;
            copy_label(a->prev_label, s->emotion);
            a->prev = *s;
            a->prev.emotion = a->prev_label;
            a->has_prev = true;
            a->last_intervention = t;
        }
        if (a->has_prev && t - a->last_intervention > a->cfg.reward_delay_s) {
            sm_advisor_state now = *s;
            char label[SM_ADVISOR_LABEL_MAX + 1];
            copy_label(label, s->emotion);
            now.emotion = label;
            e.rewarded = true;
            e.reward = sm_advisor_reward(&a->prev, &now);
            sm_advisor_update(a, &now, e.reward);
            a->has_reward = true;
            a->shown_reward = e.reward;
            a->has_prev = false;
            if (a->path[0]) {
                sm_error err;
                if (sm_advisor_save(a, &err) != SM_OK)
                    sm_log(SM_LOG_WARN, "advisor: Q-table not saved: %s", err.msg);
            }
        }
    }
    e.has_action = a->has_action;
    e.last_action = a->shown_action;
    e.has_reward = a->has_reward;
    e.last_reward = a->shown_reward;
    if (ev)
        *ev = e;
}

size_t sm_advisor_size(const sm_advisor *a)
{
    return a->n;
}

const sm_qentry *sm_advisor_entry(const sm_advisor *a, size_t i)
{
    return i < a->n ? &a->q[i] : NULL;
}

const char *sm_advisor_load_note(const sm_advisor *a)
{
    return a->note;
}

const char *sm_advisor_path(const sm_advisor *a)
{
    return a->path;
}

/* ---- file format ---------------------------------------------------------------- */

sm_status sm_qtable_serialize(const sm_qentry *e, size_t n, char **buf, size_t *len, sm_error *err)
{
    size_t cap = 128 + n * 160;
    char *b = malloc(cap);
    if (!b)
        return sm_error_set(err, SM_ERR_NOMEM, "Q-table: out of memory");
    size_t o = (size_t)snprintf(b, cap, "%s %d\nentries %zu\n", QTABLE_MAGIC,
                                SM_ADVISOR_FORMAT_VERSION, n);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(b + o, cap - o, "%s %d %d %.17g %.17g %.17g\n", e[i].label,
                              e[i].tenths, e[i].stress_bin, e[i].q[0], e[i].q[1], e[i].q[2]);
    uint32_t crc = sm_crc32(0, b, o);
    o += (size_t)snprintf(b + o, cap - o, "crc32 %08x\n", (unsigned)crc);
    *buf = b;
    *len = o;
    return SM_OK;
}

/* The next '\n'-terminated line of at most cap-1 bytes into line; false at
 * the end of the buffer or when a line is missing its newline or too long. */
static bool next_line(const char *buf, size_t len, size_t *pos, char *line, size_t cap)
{
    size_t p = *pos;
    const char *nl = p < len ? memchr(buf + p, '\n', len - p) : NULL;
    if (!nl)
        return false;
    size_t n = (size_t)(nl - (buf + p));
    if (n >= cap || memchr(buf + p, '\0', n))
        return false;
    memcpy(line, buf + p, n);
    line[n] = '\0';
    *pos = p + n + 1;
    return true;
}

sm_status sm_qtable_parse(const char *buf, size_t len, const char *name, sm_qentry **out,
                          size_t *n_out, sm_error *err)
{
    char line[256];
    size_t pos = 0;
    int version, consumed = -1;
    *out = NULL;
    *n_out = 0;
    if (!next_line(buf, len, &pos, line, sizeof line) ||
        sscanf(line, QTABLE_MAGIC " %d%n", &version, &consumed) != 1 ||
        (size_t)consumed != strlen(line) || strncmp(line, QTABLE_MAGIC " ", 19) != 0)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: not a smartmirror Q-table (header)", name);
    if (version != SM_ADVISOR_FORMAT_VERSION)
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: Q-table version %d, this program reads version %d", name,
                            version, SM_ADVISOR_FORMAT_VERSION);
    unsigned long count;
    consumed = -1;
    if (!next_line(buf, len, &pos, line, sizeof line) ||
        sscanf(line, "entries %lu%n", &count, &consumed) != 1 || (size_t)consumed != strlen(line) ||
        count > QTABLE_MAX_ENTRIES)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: bad or missing 'entries' line", name);
    sm_qentry *e = calloc(count ? count : 1, sizeof *e);
    if (!e)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", name);
    for (unsigned long i = 0; i < count; i++) {
        consumed = -1;
        sm_qentry *q = &e[i];
        if (!next_line(buf, len, &pos, line, sizeof line) ||
            sscanf(line, "%31s %d %d %lf %lf %lf%n", q->label, &q->tenths, &q->stress_bin,
                   &q->q[0], &q->q[1], &q->q[2], &consumed) != 6 ||
            (size_t)consumed != strlen(line) || !label_ok(q->label) || !isfinite(q->q[0]) ||
            !isfinite(q->q[1]) || !isfinite(q->q[2])) {
            free(e);
            return sm_error_set(err, SM_ERR_FORMAT, "%s: entry %lu of %lu is missing or malformed",
                                name, i + 1, count);
        }
        for (unsigned long j = 0; j < i; j++)
            if (e[j].tenths == q->tenths && e[j].stress_bin == q->stress_bin &&
                strcmp(e[j].label, q->label) == 0) {
                /* the message reads q, which lives in e: free after it */
                sm_status st = sm_error_set(err, SM_ERR_FORMAT, "%s: entry %lu repeats the key (%s, %d, %d)",
                                            name, i + 1, q->label, q->tenths, q->stress_bin);
                free(e);
                return st;
            }
    }
    size_t body = pos;
    unsigned crc;
    consumed = -1;
    if (!next_line(buf, len, &pos, line, sizeof line) ||
        sscanf(line, "crc32 %8x%n", &crc, &consumed) != 1 || consumed != 14 ||
        strlen(line) != 14) {
        free(e);
        return sm_error_set(err, SM_ERR_FORMAT, "%s: missing checksum line (truncated?)", name);
    }
    if (pos != len) {
        free(e);
        return sm_error_set(err, SM_ERR_FORMAT, "%s: %zu bytes after the checksum line", name,
                            len - pos);
    }
    uint32_t want = sm_crc32(0, buf, body);
    if (want != crc) {
        free(e);
        return sm_error_set(err, SM_ERR_FORMAT, "%s: checksum mismatch (file says %08x, content %08x)",
                            name, crc, (unsigned)want);
    }
    *out = e;
    *n_out = count;
    return SM_OK;
}

sm_status sm_advisor_default_path(char *buf, size_t cap, sm_error *err)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, cap, "%s/smartmirror/qtable.txt", xdg);
    else if (home && home[0])
        n = snprintf(buf, cap, "%s/.local/state/smartmirror/qtable.txt", home);
    else
        return sm_error_set(err, SM_ERR_ARG,
                            "advisor: neither XDG_STATE_HOME nor HOME is set; give a Q-table path");
    if (n < 0 || (size_t)n >= cap)
        return sm_error_set(err, SM_ERR_ARG, "advisor: Q-table path too long");
    return SM_OK;
}

static void mkdir_parents(const char *path)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n >= sizeof tmp)
        return;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
}

sm_status sm_advisor_save(sm_advisor *a, sm_error *err)
{
    if (!a->path[0])
        return SM_OK;
    char *buf;
    size_t len;
    sm_status st = sm_qtable_serialize(a->q, a->n, &buf, &len, err);
    if (st != SM_OK)
        return st;
    mkdir_parents(a->path);
    st = sm_file_write_atomic(a->path, buf, len, err);
    free(buf);
    return st;
}

static void load_table(sm_advisor *a)
{
    if (access(a->path, F_OK) != 0)
        return;
    uint8_t *buf;
    size_t len;
    sm_error e;
    sm_status st = sm_file_read_all(a->path, QTABLE_MAX_BYTES, &buf, &len, &e);
    if (st == SM_OK) {
        sm_qentry *q;
        size_t n;
        st = sm_qtable_parse((const char *)buf, len, a->path, &q, &n, &e);
        free(buf);
        if (st == SM_OK) {
            free(a->q);
            a->q = q;
            a->n = a->cap = n;
            return;
        }
    }
    /* never reuse a damaged table: set it aside for inspection */
    size_t plen = strlen(a->path);
    char *dst = malloc(plen + 9);
    if (dst) {
        memcpy(dst, a->path, plen);
        memcpy(dst + plen, ".corrupt", 9);
        int r;
        if (rename(a->path, dst) == 0) {
            r = snprintf(a->note, sizeof a->note, "%s; moved to %s, starting with an empty table",
                         e.msg, dst);
        } else {
            r = snprintf(a->note, sizeof a->note, "%s; could not move it aside (%s), not persisting",
                         e.msg, strerror(errno));
            a->path[0] = '\0';
        }
        (void)r; /* a truncated note still says what happened */
        free(dst);
    } else {
        int r = snprintf(a->note, sizeof a->note, "%s; not persisting", e.msg);
        (void)r;
        a->path[0] = '\0';
    }
    sm_log(SM_LOG_WARN, "advisor: %s", a->note);
}

sm_status sm_advisor_init(sm_advisor **out, const sm_advisor_config *cfg, sm_error *err)
{
    sm_advisor *a = calloc(1, sizeof *a);
    if (!a)
        return sm_error_set(err, SM_ERR_NOMEM, "advisor: out of memory");
    a->cfg = cfg ? *cfg : sm_advisor_config_default();
    if (!(a->cfg.lr >= 0.0 && a->cfg.lr <= 1.0) || !(a->cfg.gamma >= 0.0 && a->cfg.gamma <= 1.0) ||
        !(a->cfg.epsilon >= 0.0 && a->cfg.epsilon <= 1.0) || !(a->cfg.period_s >= 0.0) ||
        !(a->cfg.reward_delay_s >= 0.0)) {
        free(a);
        return sm_error_set(err, SM_ERR_ARG,
                            "advisor: lr, gamma, epsilon must be in [0, 1] and periods >= 0");
    }
    char def[4096];
    const char *path = a->cfg.path;
    if (!path) {
        sm_error e2;
        if (sm_advisor_default_path(def, sizeof def, &e2) == SM_OK) {
            path = def;
        } else {
            sm_log(SM_LOG_WARN, "%s", e2.msg);
            path = "";
        }
    }
    a->path = strdup(path);
    if (!a->path) {
        free(a);
        return sm_error_set(err, SM_ERR_NOMEM, "advisor: out of memory");
    }
    a->cfg.path = a->path;
    a->rng = a->cfg.seed ? a->cfg.seed : 0x9E3779B97F4A7C15ULL;
    a->last_intervention = -INFINITY;
    if (a->path[0])
        load_table(a);
    *out = a;
    return SM_OK;
}

void sm_advisor_free(sm_advisor *a)
{
    if (!a)
        return;
    free(a->q);
    free(a->path);
    free(a);
}
