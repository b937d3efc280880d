/* Heart-rate traces: the per-frame heart.h samples of a video as CSV, so the
 * estimators can be replayed and evaluated without the video (make
 * eval-heart, tests/fixtures/eval/heart/), and ground-truth files.
 *
 * Trace CSV (`smartmirror --headless --video X --heart-trace FILE.csv`), one
 * row per analysed frame, header exactly
 *   frame,t,face,fh_r,fh_g,fh_b,fh_n,rc_r,rc_g,rc_b,rc_n,lc_r,lc_g,lc_b,lc_n,
 *   box_x,box_y,box_w,box_h,light,sat,bpm_net
 * (one line): frame index, timestamp s, face 0/1, per region (forehead, right
 * cheek, left cheek) mean R, G, B of its skin pixels (0..255) and their count,
 * the landmarks' bounding box (px), mean luma and clipped share of the region
 * pixels, the seed network's reading made on that frame (nan otherwise).
 * Rows without a face have nan colours and box and 0 counts.
 *
 * Ground truth CSV: header `t,bpm`, rows of time (s, the video's clock) and
 * contact heart rate (BPM), t increasing. */
#ifndef SM_HEART_TRACE_H
#define SM_HEART_TRACE_H

#include "heart.h"
#include "sm_engine.h"

#include <stddef.h>
#include <stdint.h>

#define SM_HEART_TRACE_HEADER                                                                      \
    "frame,t,face,fh_r,fh_g,fh_b,fh_n,rc_r,rc_g,rc_b,rc_n,lc_r,lc_g,lc_b,lc_n,box_x,box_y,box_w," \
    "box_h,light,sat,bpm_net"

typedef struct sm_heart_trace_writer sm_heart_trace_writer;

/* Rows are kept in memory and written at finish (temp file + rename), so an
 * interrupted run never leaves half a trace. */
sm_status sm_heart_trace_writer_init(sm_heart_trace_writer **out, const char *path, sm_error *err);
void sm_heart_trace_writer_add(sm_heart_trace_writer *w, int64_t frame, const sm_heart_sample *s);
sm_status sm_heart_trace_writer_finish(sm_heart_trace_writer *w, sm_error *err);
void sm_heart_trace_writer_free(sm_heart_trace_writer *w);

/* Reads a trace; every malformed row is an error naming the file, line and
 * column. *out (malloc'd, caller frees) gets n samples. */
sm_status sm_heart_trace_read(const char *path, sm_heart_sample **out, size_t *n, sm_error *err);
/* Reads a ground truth: t and bpm arrays (one malloc'd block: *t, bpm = *t + n). */
sm_status sm_heart_gt_read(const char *path, double **t, size_t *n, sm_error *err);
/* The same two from a buffer; messages name `name` (tests/fuzz/fuzz_heart_trace.c). */
sm_status sm_heart_trace_parse(const char *name, const void *data, size_t len, sm_heart_sample **out, size_t *n,
                               sm_error *err);
sm_status sm_heart_gt_parse(const char *name, const void *data, size_t len, double **t, size_t *n, sm_error *err);

#endif
