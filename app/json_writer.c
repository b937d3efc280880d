/* The JSON text buffer (json_writer.h). */
#include "json_writer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sm_json_add(sm_json *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = true;
            return;
        }
        if (b->s && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t nc = b->cap * 2 + (size_t)k + 256;
        char *p = realloc(b->s, nc);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = nc;
    }
}

void sm_json_str(sm_json *b, const char *s)
{
    if (!s)
        sm_json_add(b, "null");
    else
        sm_json_strn(b, s, strlen(s));
}

void sm_json_strn(sm_json *b, const char *s, size_t n)
{
    sm_json_add(b, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            sm_json_add(b, "\\%c", c);
        else if (c < 0x20)
            sm_json_add(b, "\\u%04x", c);
        else
            sm_json_add(b, "%c", c);
    }
    sm_json_add(b, "\"");
}

void sm_json_num(sm_json *b, double v, int decimals)
{
    if (!isfinite(v))
        sm_json_add(b, "null");
    else if (decimals < 0)
        sm_json_add(b, "%.6g", v);
    else
        sm_json_add(b, "%.*f", decimals, v);
}

void sm_json_key_num(sm_json *b, const char *key, double v, int decimals)
{
    sm_json_add(b, "\"%s\":", key);
    sm_json_num(b, v, decimals);
}

char *sm_json_finish(sm_json *b)
{
    if (!b->oom && !b->s)
        sm_json_add(b, "%s", "");
    if (b->oom) {
        free(b->s);
        b->s = NULL;
        return NULL;
    }
    char *s = b->s;
    b->s = NULL;
    b->n = b->cap = 0;
    return s;
}
