/* tfjs_json: the JSON reader of tfjs_json.h. Recursive descent, depth-capped; every
 * byte access is checked against the end of the buffer. */
#include "tfjs_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64
#define JSON_MAX_VALUES (4u << 20)
#define JSON_MAX_STRING (1u << 20)

typedef struct {
    const uint8_t *p, *end, *start;
    const char *name;
    size_t n_values;
    sm_error *err;
} parser;

static sm_status perr(parser *ps, const char *what)
{
    size_t off = (size_t)(ps->p - ps->start);
    if (ps->p >= ps->end)
        return sm_error_set(ps->err, SM_ERR_FORMAT, "%s: JSON: %s at offset %zu (end of file)", ps->name, what, off);
    uint8_t c = *ps->p;
    if (c >= 0x20 && c < 0x7f)
        return sm_error_set(ps->err, SM_ERR_FORMAT, "%s: JSON: %s at offset %zu (found '%c')", ps->name, what, off, c);
    return sm_error_set(ps->err, SM_ERR_FORMAT, "%s: JSON: %s at offset %zu (found byte 0x%02x)", ps->name, what, off,
                        c);
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool lit(parser *ps, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, s, n))
        return false;
    ps->p += n;
    return true;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool hex4(parser *ps, uint32_t *v)
{
    if (ps->end - ps->p < 4)
        return false;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(ps->p[i]);
        if (h < 0)
            return false;
        *v = *v << 4 | (uint32_t)h;
    }
    ps->p += 4;
    return true;
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when invalid. */
static size_t utf8_len(const uint8_t *p, const uint8_t *end)
{
    uint8_t c = p[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    /* overlong forms, surrogates and code points past U+10FFFF */
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static size_t put_utf8(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* At the opening quote. The decoded string is never longer than its source. */
static sm_status parse_string(parser *ps, char **out, size_t *out_len)
{
    ps->p++;
    const uint8_t *q = ps->p;
    while (q < ps->end && *q != '"') {
        if (*q == '\\')
            q++;
        q++;
    }
    if (q >= ps->end)
        return perr(ps, "unterminated string");
    size_t cap = (size_t)(q - ps->p);
    if (cap > JSON_MAX_STRING)
        return perr(ps, "string longer than 1 MiB");
    char *s = malloc(cap + 1);
    if (!s)
        return sm_error_set(ps->err, SM_ERR_NOMEM, "%s: out of memory", ps->name);
    size_t n = 0;
    while (*ps->p != '"') {
        uint8_t c = *ps->p;
        if (c < 0x20) {
            free(s);
            return perr(ps, "control character in string");
        }
        if (c != '\\') {
            size_t k = utf8_len(ps->p, ps->end);
            if (!k) {
                free(s);
                return perr(ps, "invalid UTF-8 in string");
            }
            memcpy(s + n, ps->p, k);
            n += k;
            ps->p += k;
            continue;
        }
        ps->p++;
        c = *ps->p++;
        switch (c) {
        case '"': s[n++] = '"'; break;
        case '\\': s[n++] = '\\'; break;
        case '/': s[n++] = '/'; break;
        case 'b': s[n++] = '\b'; break;
        case 'f': s[n++] = '\f'; break;
        case 'n': s[n++] = '\n'; break;
        case 'r': s[n++] = '\r'; break;
        case 't': s[n++] = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (!hex4(ps, &cp)) {
                free(s);
                return perr(ps, "bad \\u escape");
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (!lit(ps, "\\u") || !hex4(ps, &lo) || lo < 0xdc00 || lo > 0xdfff) {
                    free(s);
                    return perr(ps, "lone UTF-16 surrogate in \\u escape");
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                free(s);
                return perr(ps, "lone UTF-16 surrogate in \\u escape");
            }
            if (cp == 0) {
                free(s);
                return perr(ps, "\\u0000 in string");
            }
            /* an escape of 6 (or 12) source bytes never yields more than 4 */
            n += put_utf8(cp, s + n);
            break;
        }
        default:
            ps->p--;
            free(s);
            return perr(ps, "bad escape in string");
        }
    }
    ps->p++;
    s[n] = 0;
    *out = s;
    *out_len = n;
    return SM_OK;
}

static sm_status parse_number(parser *ps, double *v)
{
    const uint8_t *s = ps->p, *q = ps->p;
    if (q < ps->end && *q == '-')
        q++;
    if (q >= ps->end || !(*q >= '0' && *q <= '9'))
        return perr(ps, "bad number");
    if (*q == '0')
        q++;
    else
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    if (q < ps->end && *q == '.') {
        q++;
        if (q >= ps->end || !(*q >= '0' && *q <= '9')) {
            ps->p = q;
            return perr(ps, "bad number: digit expected after '.'");
        }
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < ps->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < ps->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= ps->end || !(*q >= '0' && *q <= '9')) {
            ps->p = q;
            return perr(ps, "bad number: digit expected in exponent");
        }
        while (q < ps->end && *q >= '0' && *q <= '9')
            q++;
    }
    char tmp[128];
    size_t n = (size_t)(q - s);
    if (n >= sizeof tmp)
        return perr(ps, "number longer than 127 characters");
    memcpy(tmp, s, n);
    tmp[n] = 0;
    errno = 0;
    *v = strtod(tmp, NULL);
    if (!isfinite(*v))
        return perr(ps, "number out of range");
    ps->p = q;
    return SM_OK;
}

static sm_status parse_value(parser *ps, sm_json *j, int depth);

static sm_status grow(parser *ps, sm_json *j, size_t *cap, bool obj)
{
    if (j->len < *cap)
        return SM_OK;
    size_t nc = *cap ? *cap * 2 : 8;
    sm_json *it = realloc(j->items, nc * sizeof *it);
    if (!it)
        return sm_error_set(ps->err, SM_ERR_NOMEM, "%s: out of memory", ps->name);
    j->items = it;
    if (obj) {
        char **k = realloc(j->keys, nc * sizeof *k);
        if (!k)
            return sm_error_set(ps->err, SM_ERR_NOMEM, "%s: out of memory", ps->name);
        j->keys = k;
    }
    *cap = nc;
    return SM_OK;
}

static sm_status parse_container(parser *ps, sm_json *j, int depth, bool obj)
{
    ps->p++;
    j->type = obj ? SM_JSON_OBJECT : SM_JSON_ARRAY;
    size_t cap = 0;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
        ps->p++;
        return SM_OK;
    }
    for (;;) {
        sm_status st = grow(ps, j, &cap, obj);
        if (st)
            return st;
        skip_ws(ps);
        char *key = NULL;
        if (obj) {
            size_t kl;
            if (ps->p >= ps->end || *ps->p != '"')
                return perr(ps, "object key (a string) expected");
            const uint8_t *at = ps->p;
            if ((st = parse_string(ps, &key, &kl)))
                return st;
            for (size_t i = 0; i < j->len; i++)
                if (!strcmp(j->keys[i], key)) {
                    ps->p = at;
                    free(key);
                    return perr(ps, "duplicate key in object");
                }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                return perr(ps, "':' expected after object key");
            }
            ps->p++;
            j->keys[j->len] = key;
        }
        memset(&j->items[j->len], 0, sizeof *j->items);
        j->len++; /* counted before parsing, so a failure frees the partial value and key */
        if ((st = parse_value(ps, &j->items[j->len - 1], depth + 1)))
            return st;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
            ps->p++;
            return SM_OK;
        }
        return perr(ps, obj ? "',' or '}' expected" : "',' or ']' expected");
    }
}

static sm_status parse_value(parser *ps, sm_json *j, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return perr(ps, "nesting deeper than 64 levels");
    if (++ps->n_values > JSON_MAX_VALUES)
        return perr(ps, "more than 4 Mi values");
    skip_ws(ps);
    if (ps->p >= ps->end)
        return perr(ps, "value expected");
    switch (*ps->p) {
    case '{': return parse_container(ps, j, depth, true);
    case '[': return parse_container(ps, j, depth, false);
    case '"': j->type = SM_JSON_STRING; return parse_string(ps, &j->str, &j->len);
    case 't':
    case 'f':
    case 'n':
        if (lit(ps, "true")) {
            j->type = SM_JSON_BOOL;
            j->b = true;
        } else if (lit(ps, "false")) {
            j->type = SM_JSON_BOOL;
        } else if (lit(ps, "null")) {
            j->type = SM_JSON_NULL;
        } else {
            return perr(ps, "value expected");
        }
        return SM_OK;
    default:
        j->type = SM_JSON_NUMBER;
        return parse_number(ps, &j->num);
    }
}

static void free_value(sm_json *j)
{
    if (j->type == SM_JSON_ARRAY || j->type == SM_JSON_OBJECT) {
        for (size_t i = 0; i < j->len; i++) {
            free_value(&j->items[i]);
            if (j->keys)
                free(j->keys[i]);
        }
        free(j->items);
        free(j->keys);
    }
    free(j->str);
}

void sm_json_free(sm_json *j)
{
    if (!j)
        return;
    free_value(j);
    free(j);
}

sm_status sm_json_parse(const uint8_t *buf, size_t len, const char *name, sm_json **out, sm_error *err)
{
    *out = NULL;
    parser ps = {buf, buf + len, buf, name ? name : "<json>", 0, err};
    if (len >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf)
        ps.p += 3; /* a UTF-8 byte-order mark is tolerated, as JSON.parse of a file read as text does */
    sm_json *j = calloc(1, sizeof *j);
    if (!j)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", ps.name);
    sm_status st = parse_value(&ps, j, 0);
    if (!st) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            st = perr(&ps, "bytes after the JSON value");
    }
    if (st) {
        sm_json_free(j);
        return st;
    }
    *out = j;
    return SM_OK;
}

const sm_json *sm_json_get(const sm_json *j, const char *key)
{
    if (!j || j->type != SM_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < j->len; i++)
        if (!strcmp(j->keys[i], key))
            return &j->items[i];
    return NULL;
}

const char *sm_json_type_name(sm_json_type t)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)t < 6 ? names[t] : "?";
}

bool sm_json_int(const sm_json *j, int64_t lo, int64_t hi, int64_t *v)
{
    if (!j || j->type != SM_JSON_NUMBER || j->num != floor(j->num) || j->num < (double)lo || j->num > (double)hi)
        return false;
    *v = (int64_t)j->num;
    return true;
}
