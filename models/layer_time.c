/* The seed models' per-layer profiler; see layer_time.h. */
#include "layer_time.h"

#include <string.h>

void sm_layer_prof_init(sm_layer_prof *p, sm_layer_time *rec, size_t cap)
{
    SM_ASSERT(rec != NULL || cap == 0);
    memset(p, 0, sizeof *p);
    p->rec = rec;
    p->cap = cap;
}

void sm_layer_prof_enable(sm_layer_prof *p, bool on)
{
    p->on = on;
    p->i = p->n = 0;
    memset(p->rec, 0, p->cap * sizeof *p->rec);
}

void sm_layer_prof_begin(sm_layer_prof *p)
{
    p->i = 0;
    if (p->on)
        p->t_last = sm_clock_ms();
}

void sm_layer_prof_add(sm_layer_prof *p, const char *layer, const char *op, double ms, double flops, size_t h,
                       size_t w, size_t c)
{
    if (!p->on || p->i >= p->cap)
        return;
    sm_layer_time *r = &p->rec[p->i++];
    r->layer = layer;
    r->op = op;
    r->ms += ms;
    r->flops = flops;
    r->calls++;
    r->out_h = (uint32_t)h;
    r->out_w = (uint32_t)w;
    r->out_c = (uint32_t)c;
    if (p->i > p->n)
        p->n = p->i;
}

void sm_layer_prof_mark(sm_layer_prof *p)
{
    if (p->on)
        p->t_last = sm_clock_ms();
}

void sm_layer_prof_lap(sm_layer_prof *p, const char *layer, const char *op, double flops, size_t h, size_t w,
                       size_t c)
{
    if (!p->on || p->i >= p->cap)
        return;
    sm_layer_prof_add(p, layer, op, sm_clock_ms() - p->t_last, flops, h, w, c);
    sm_layer_prof_mark(p);
}

size_t sm_layer_prof_records(const sm_layer_prof *p, const sm_layer_time **out)
{
    *out = p->rec;
    return p->n;
}
