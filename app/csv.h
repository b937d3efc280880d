/* csv.h: the small untrusted CSV files the analysis reads (heart traces and
 * ground truths, heart_trace.h; fatigue tracks and annotations,
 * tools/fatigue_replay.h), read one way: the whole file into memory (size-capped,
 * a NUL byte refused), lines split in place (LF or CR LF), fields split at
 * commas, numbers by strtod over the whole field. Each caller checks its own
 * columns; every message it makes names "<file>:<line>:" from `name` and
 * `line`, as sm_csv_header does.
 *
 *   sm_csv c;
 *   if (sm_csv_open(path, max, &c, err) || sm_csv_header(&c, "t,bpm", err)) ...
 *   for (char *l; (l = sm_csv_next(&c)) != NULL;) { ... c.line ... }
 *   sm_csv_close(&c);
 */
#ifndef SM_CSV_H
#define SM_CSV_H

#include "sm_engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char name[1024]; /* the file (or the caller's name for a buffer), for messages */
    char *text;      /* owned, NUL-terminated */
    char *cur;       /* the next line */
    size_t line;     /* 1-based number of the line sm_csv_next returned last */
} sm_csv;

/* Reads the file (at most max_bytes; 0 = the engine's default cap). */
sm_status sm_csv_open(const char *path, size_t max_bytes, sm_csv *c, sm_error *err);
/* The same from a buffer (copied), e.g. for the fuzzers. */
sm_status sm_csv_from_memory(const char *name, const void *data, size_t len, sm_csv *c, sm_error *err);
/* Frees the text; a zeroed or closed sm_csv may be closed again. */
void sm_csv_close(sm_csv *c);
/* The next line without its line end, NULL after the last one. */
char *sm_csv_next(sm_csv *c);
/* Line 1 must be exactly `header`: SM_ERR_FORMAT "<name>:1: expected the header '...'" otherwise. */
sm_status sm_csv_header(sm_csv *c, const char *header, sm_error *err);
/* Splits line at its commas, in place, into f[0..); returns the number of
 * fields, or max + 1 when there are more than max. */
int sm_csv_split(char *line, char **f, int max);
/* The whole field as a number ("nan" and "inf" included; overflow refused). */
bool sm_csv_number(const char *s, double *v);

#endif
