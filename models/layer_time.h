/* layer_time.h: per-layer timing records that the seed models fill when
 * profiling is switched on (smw-bench model prints them). Off by default: a
 * model run then reads no clock. */
#ifndef SM_LAYER_TIME_H
#define SM_LAYER_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_clock.h"
#include "sm_engine.h"

typedef struct {
    const char *layer;  /* e.g. "blocks.3.1" (owned by the model) */
    const char *op;     /* e.g. "conv_pw", "se", "pool" */
    double ms;          /* accumulated over the profiled runs */
    double flops;       /* of one run at the last input size (multiply-add = 2) */
    size_t calls;
    uint32_t out_h, out_w, out_c;
} sm_layer_time;

/* A model's profiler: records in a fixed array the model owns (extra laps past
 * cap are dropped), filled in run order. While off, no clock is read. */
typedef struct {
    sm_layer_time *rec;
    size_t cap;
    bool on;
    size_t i, n;   /* next record of this run; records in use */
    double t_last; /* the clock at the last lap */
} sm_layer_prof;

void sm_layer_prof_init(sm_layer_prof *p, sm_layer_time *rec, size_t cap);
/* Switches profiling on or off and clears the records. */
void sm_layer_prof_enable(sm_layer_prof *p, bool on);
/* A run starts: records fill from the first again (times accumulate). */
void sm_layer_prof_begin(sm_layer_prof *p);
/* The time since the last lap (or begin) goes to the next record. */
void sm_layer_prof_lap(sm_layer_prof *p, const char *layer, const char *op, double flops, size_t h, size_t w,
                       size_t c);
/* A record with a time measured elsewhere (e.g. summed over workers); reads no
 * clock. Follow with sm_layer_prof_mark before the next lap. */
void sm_layer_prof_add(sm_layer_prof *p, const char *layer, const char *op, double ms, double flops, size_t h,
                       size_t w, size_t c);
/* Restarts the lap clock, so that bookkeeping is not charged to the next layer. */
void sm_layer_prof_mark(sm_layer_prof *p);
size_t sm_layer_prof_records(const sm_layer_prof *p, const sm_layer_time **out);

#endif
