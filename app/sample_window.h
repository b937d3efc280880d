/* sample_window.h: the time window of samples behind the heart-rate estimators
 * (heart.c, rppg_pos.c). Samples are appended in time order; each append first
 * drops the samples that fell out of the last `keep` seconds, keeping one
 * before the window so that a resampler can interpolate the window's start.
 * Storage is one array: the live samples are [head, head + n), compacted to
 * the front when the end is reached and doubled when it is full. */
#ifndef SM_SAMPLE_WINDOW_H
#define SM_SAMPLE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    unsigned char *buf;
    size_t elem;  /* bytes per sample */
    size_t t_off; /* offset of the sample's double timestamp (offsetof) */
    size_t cap, head, n;
} sm_sample_window;

/* false when out of memory (nothing to free then). */
bool sm_sample_window_init(sm_sample_window *w, size_t elem, size_t t_off, size_t cap);
void sm_sample_window_free(sm_sample_window *w);
static inline void sm_sample_window_clear(sm_sample_window *w) { w->head = w->n = 0; }
/* Sample i, 0 = the oldest kept. */
static inline void *sm_sample_window_at(const sm_sample_window *w, size_t i)
{
    return w->buf + (w->head + i) * w->elem;
}
/* Drops samples older than t - keep (but the newest of those), then returns
 * the slot for a sample at time t, counted in n (the caller fills it); NULL
 * when the storage could not grow: the window is unchanged then, and the
 * caller decides (the estimators start a new segment: clear, append again). */
void *sm_sample_window_append(sm_sample_window *w, double t, double keep);

#endif
