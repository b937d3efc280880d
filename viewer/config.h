/* config.h: settings that stick. smartmirror reads
 * $XDG_CONFIG_HOME/smartmirror/config (else ~/.config/smartmirror/config;
 * --config FILE names another, --no-config reads none) before its command
 * line. Format: one `key = value` per line; `#` starts a comment line; blank
 * lines are skipped; spaces around key and value are dropped. Every key is a
 * command-line option without its dashes, and the command line wins:
 *
 *   camera = /dev/video2          size = 800x480          history = 30m
 *   models = /opt/smartmirror     sound = yes             sound-every = 120
 *
 * Keys (SM_CONFIG_KEYS in config.c): camera, video, images, size, models,
 * emotion, fatigue, rppg, face-detector, face-mesh, refine (yes/no), threads,
 * emotion-hz, qtable, history, sound (yes/no), sound-every, mirror (yes/no),
 * fps, width, height, checkpoints. A line without '=' or with a bad value is
 * an error naming FILE:LINE; an unknown key is a warning (the line is
 * skipped), so an older program reads a newer file. */
#ifndef SM_VIEWER_CONFIG_H
#define SM_VIEWER_CONFIG_H

#include "sm_engine.h"

#include <stdio.h>

typedef struct {
    int argc;
    char **argv;          /* argv[0], the config's options, then the command line's */
    char path[1024];      /* the config file read ("" = none) */
    int n_keys;
    struct {
        char key[32], value[1024];
        int line;
        int used;         /* 0: overridden by the command line */
    } keys[64];
} sm_viewer_config;

/* Reads the config (see above) and builds the merged argv. Warnings go to
 * warn (may be NULL). SM_ERR_ARG / SM_ERR_IO with "FILE:LINE: ..." on error. */
sm_status sm_viewer_config_load(int argc, char **argv, sm_viewer_config *cfg, FILE *warn, sm_error *err);
void sm_viewer_config_free(sm_viewer_config *cfg);
/* --print-config: every setting, its value and where it came from. */
void sm_viewer_config_print(const sm_viewer_config *cfg, int argc, char **argv, FILE *out);

#endif
