/* cli.h: smartmirror's command line (strict: every unknown option, missing
 * value or malformed number is an error naming the argument). */
#ifndef SM_VIEWER_CLI_H
#define SM_VIEWER_CLI_H

#include "analyzer.h"

typedef enum { SM_SRC_CAMERA = 0, SM_SRC_VIDEO, SM_SRC_IMAGES } sm_source_kind;

typedef struct {
    sm_source_kind kind;
    const char *source;          /* device, file or directory */
    sm_viewer_models models;
    bool headless, help, list_cameras;
    const char *out;             /* --out FILE.jsonl (NULL = stdout) */
    long long frames;            /* --frames N (0 = until the end / quit) */
    int width, height;           /* capture size request (0 = default 640x480) */
    double fps;                  /* capture rate / timestamps for images (0 = default) */
    bool mirror, landmarks, realtime;
    const char *screenshot;      /* --screenshot FILE.{bmp,png} */
} sm_viewer_opts;

/* Parses argv into *o (defaults first). SM_ERR_ARG with a message on error. */
sm_status sm_viewer_parse_args(int argc, char **argv, sm_viewer_opts *o, sm_error *err);
extern const char sm_viewer_usage[];

#endif
