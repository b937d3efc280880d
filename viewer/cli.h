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
    const char *record;          /* --record FILE.csv: one row per second (app/session.h) */
    const char *summary;         /* --summary FILE.json: the session summary at exit */
    int history_s;               /* --history 60s|5m|30m: seconds the window plots (default 300) */
    int win_w, win_h;            /* --size WxH: the window (default 1280x760) */
    bool sound;                  /* --sound: chime when the drowsiness alert starts */
    int sound_every;             /* --sound-every N: at most one chime per N s (default 60) */
    const char *checkpoints;     /* --checkpoints DIR: where the startup notes look for your checkpoints */
    bool reset_qtable;           /* --reset-qtable: forget what the advisor learnt (the file is removed) */
    bool loop;                   /* --loop: play a --video or --images source again and again */
    bool print_config;           /* --print-config: the merged settings and their origin, then exit */
} sm_viewer_opts;

/* "60s", "5m", "30m", "90" (seconds): 10 s .. 30 min. */
sm_status sm_viewer_parse_duration(const char *opt, const char *s, int *seconds, sm_error *err);

/* Parses argv into *o (defaults first). SM_ERR_ARG with a message on error. */
sm_status sm_viewer_parse_args(int argc, char **argv, sm_viewer_opts *o, sm_error *err);
extern const char sm_viewer_usage[];

#endif
