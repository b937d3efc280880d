/* layer_time.h: per-layer timing records that the seed models fill when
 * profiling is switched on (smw-bench model prints them). Off by default: a
 * model run then reads no clock. */
#ifndef SM_LAYER_TIME_H
#define SM_LAYER_TIME_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *layer;  /* e.g. "blocks.3.1" (owned by the model) */
    const char *op;     /* e.g. "conv_pw", "se", "pool" */
    double ms;          /* accumulated over the profiled runs */
    double flops;       /* of one run at the last input size (multiply-add = 2) */
    size_t calls;
    uint32_t out_h, out_w, out_c;
} sm_layer_time;

#endif
