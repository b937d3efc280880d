/* The estimators' sample window; see sample_window.h. */
#include "sample_window.h"

#include <stdlib.h>
#include <string.h>

bool sm_sample_window_init(sm_sample_window *w, size_t elem, size_t t_off, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->buf = malloc(cap * elem);
    if (!w->buf)
        return false;
    w->elem = elem;
    w->t_off = t_off;
    w->cap = cap;
    return true;
}

void sm_sample_window_free(sm_sample_window *w)
{
    free(w->buf);
    w->buf = NULL;
    w->cap = w->head = w->n = 0;
}

static double time_of(const sm_sample_window *w, size_t i)
{
    double t;
    memcpy(&t, (const unsigned char *)sm_sample_window_at(w, i) + w->t_off, sizeof t);
    return t;
}

void *sm_sample_window_append(sm_sample_window *w, double t, double keep)
{
    while (w->n >= 2 && time_of(w, 1) < t - keep) {
        w->head++;
        w->n--;
    }
    if (w->head + w->n == w->cap) {
        if (w->head > 0) {
            memmove(w->buf, w->buf + w->head * w->elem, w->n * w->elem);
            w->head = 0;
        } else {
            unsigned char *nb = realloc(w->buf, 2 * w->cap * w->elem);
            if (!nb)
                return NULL;
            w->buf = nb;
            w->cap *= 2;
        }
    }
    return sm_sample_window_at(w, w->n++);
}
