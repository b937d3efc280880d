/* Command-line parsing for smartmirror. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char sm_viewer_usage[] =
    "usage: smartmirror [SOURCE] [options]\n"
    "Sources (default --camera /dev/video0):\n"
    "  --camera DEV        V4L2 camera (MJPEG or YUYV), e.g. /dev/video0\n"
    "  --video FILE        Y4M or MJPEG AVI (anything else through ffmpeg if installed)\n"
    "  --images DIR        .jpg/.jpeg/.png files in DIR, in name order\n"
    "  --list-cameras      list V4L2 devices with their formats and sizes, then exit\n"
    "Models (default directory models/):\n"
    "  --models DIR  --emotion F.smw  --fatigue F.smw  --rppg F.smw\n"
    "  --face-detector F.smw  --face-mesh F.smw  --no-refine (468 landmarks, no iris)\n"
    "  (defaults: face_detection_short_range.smw, face_landmark_with_attention.smw or\n"
    "   face_landmark.smw from `make models`; emotion.smw, fatigue_mlp.smw,\n"
    "   ultralight_rppg.smw converted from your checkpoints; each one is optional)\n"
    "  --threads N         threads for the models (default: all cores)\n"
    "  --precision fp32|bf16  every model's GEMM convs in FP32 or BF16 (command line or\n"
    "                      SM_PRECISION only). Default: FP32, except the default emotion model\n"
    "                      in BF16 on a CPU with avx512_bf16 (it met the accuracy bar; the\n"
    "                      startup line says which; docs/PERFORMANCE.md, BF16 section)\n"
    "  --emotion-hz HZ     emotion runs per second of video time (default 10)\n"
    "  --qtable FILE       the advisor's Q-table (default $XDG_STATE_HOME/smartmirror/qtable.txt)\n"
    "  --no-qtable         the advisor learns in memory only (nothing saved)\n"
    "  --reset-qtable      forget what the advisor learnt: remove the Q-table file first\n"
    "  --checkpoints DIR   where your .pth/.joblib checkpoints are (make run converts them; the\n"
    "                      startup notes say what was looked for; default ../shared/seed/checkpoints)\n"
    "  --fatigue-rules seed|wellness  app.py's fatigue fusion, or the calibrated eye/yawn\n"
    "                      event detector (default wellness; docs/FATIGUE.md)\n"
    "  --heart-rules R     wellness (default: gated heart.bpm, stress from it) or seed (app.py:\n"
    "                      stress from the UltraLightNet reading); docs/HEART.md\n"
    "  --heart-trace F.csv write per-frame skin-colour traces for make eval-heart (docs/HEART.md)\n"
    "Output:\n"
    "  --headless          no window: one JSON line per analysed frame\n"
    "  --out FILE.jsonl    write the JSON lines there instead of stdout\n"
    "  --no-landmarks      leave the 478 landmarks out of the JSON\n"
    "  --frames N          stop after N frames (window: rendered frames)\n"
    "  --screenshot FILE   with --frames: save the window as FILE (.bmp or .png) and exit\n"
    "  --record FILE.csv   append one row per second (time, face, EAR, MAR, drowsiness,\n"
    "                      alert, BPM, quality, stress, emotion, advisor; units in the header)\n"
    "  --summary FILE.json write the session summary there at exit (headless also prints it:\n"
    "                      on stdout with --out, else on stderr)\n"
    "  --history 60s|5m|30m  time span of the window's history plots (default 5m)\n"
    "  --size WxH          window size (default 1280x760; e.g. 800x480 for a small display)\n"
    "  --sound             a gentle chime when the drowsiness alert starts (the window flashes\n"
    "                      either way); --no-sound turns a config's sound off\n"
    "  --sound-every N     at most one chime every N seconds (default 60)\n"
    "Settings:\n"
    "  --config FILE       read settings from FILE (default $XDG_CONFIG_HOME/smartmirror/config,\n"
    "                      lines 'key = value', keys = these options without '--'; options win)\n"
    "  --no-config         read no config file\n"
    "  --print-config      show every setting, its value and where it came from, then exit\n"
    "Capture and playback:\n"
    "  --width W --height H --fps F   camera request (fps also times --images)\n"
    "  --no-mirror         show the picture unmirrored\n"
    "  --realtime          play files like a camera (drop frames to stay live)\n"
    "  --loop              play a --video / --images source again and again (time goes on)\n"
    "  --help\n"
    "Keys: q/Esc quit (the first shows the session summary), m mesh, p pause, s screenshot,\n"
    "      f fullscreen, t session summary, c recalibrate fatigue, h help\n"
    "Privacy: nothing leaves this machine; nothing is stored unless --record, --summary,\n"
    "--out or a screenshot asks (and the advisor's Q-table, --qtable). Outputs: docs/JSON.md\n";

static sm_status want_value(int argc, char **argv, int i, sm_error *err)
{
    if (i + 1 >= argc)
        return sm_error_set(err, SM_ERR_ARG, "%s needs a value", argv[i]);
    return SM_OK;
}

static sm_status parse_ll(const char *opt, const char *s, long long lo, long long hi, long long *out, sm_error *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return sm_error_set(err, SM_ERR_ARG, "%s: '%s' is not a whole number in %lld..%lld", opt, s, lo, hi);
    *out = v;
    return SM_OK;
}

static sm_status parse_double(const char *opt, const char *s, double lo, double hi, double *out, sm_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return sm_error_set(err, SM_ERR_ARG, "%s: '%s' is not a number in %g..%g", opt, s, lo, hi);
    *out = v;
    return SM_OK;
}

sm_status sm_viewer_parse_duration(const char *opt, const char *s, int *seconds, sm_error *err)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    long mul = !strcmp(end, "m") || !strcmp(end, "min") ? 60 : !strcmp(end, "s") || !*end ? 1 : 0;
    if (errno || end == s || !mul || v <= 0 || v > 30 * 60 || v * mul < 10 || v * mul > 30 * 60)
        return sm_error_set(err, SM_ERR_ARG, "%s: '%s' is not a time span from 10s to 30m (e.g. 60s, 5m, 30m)", opt, s);
    *seconds = (int)(v * mul);
    return SM_OK;
}

sm_status sm_viewer_parse_args(int argc, char **argv, sm_viewer_opts *o, sm_error *err)
{
    memset(o, 0, sizeof *o);
    o->kind = SM_SRC_CAMERA;
    o->source = "/dev/video0";
    o->models.models_dir = "models";
    o->models.refine = true;
    o->mirror = true;
    o->landmarks = true;
    o->history_s = 300;
    o->win_w = 1280;
    o->win_h = 760;
    o->sound_every = 60;
    bool have_source = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        sm_status st = SM_OK;
        long long ll = 0;
        const char **path_slot = NULL;
        if (!strcmp(a, "--camera") || !strcmp(a, "--video") || !strcmp(a, "--images")) {
            if ((st = want_value(argc, argv, i, err)) != SM_OK)
                return st;
            if (have_source)
                return sm_error_set(err, SM_ERR_ARG, "%s: only one source (--camera, --video or --images) is allowed", a);
            have_source = true;
            o->kind = a[2] == 'c' ? SM_SRC_CAMERA : a[2] == 'v' ? SM_SRC_VIDEO : SM_SRC_IMAGES;
            o->source = argv[++i];
            if (!*o->source)
                return sm_error_set(err, SM_ERR_ARG, "%s: empty path", a);
            continue;
        }
        if (!strcmp(a, "--models")) path_slot = &o->models.models_dir;
        else if (!strcmp(a, "--emotion")) path_slot = &o->models.emotion;
        else if (!strcmp(a, "--fatigue")) path_slot = &o->models.fatigue;
        else if (!strcmp(a, "--rppg")) path_slot = &o->models.rppg;
        else if (!strcmp(a, "--face-detector")) path_slot = &o->models.face_detector;
        else if (!strcmp(a, "--face-mesh")) path_slot = &o->models.face_mesh;
        else if (!strcmp(a, "--out")) path_slot = &o->out;
        else if (!strcmp(a, "--qtable")) path_slot = &o->models.qtable;
        else if (!strcmp(a, "--screenshot")) path_slot = &o->screenshot;
        else if (!strcmp(a, "--record")) path_slot = &o->record;
        else if (!strcmp(a, "--summary")) path_slot = &o->summary;
        else if (!strcmp(a, "--checkpoints")) path_slot = &o->checkpoints;
        else if (!strcmp(a, "--heart-trace")) path_slot = &o->models.heart_trace;
        if (path_slot) {
            if ((st = want_value(argc, argv, i, err)) != SM_OK)
                return st;
            *path_slot = argv[++i];
            if (!**path_slot)
                return sm_error_set(err, SM_ERR_ARG, "%s: empty path", a);
            continue;
        }
        if (!strcmp(a, "--no-refine")) o->models.refine = false;
        else if (!strcmp(a, "--sound")) o->sound = true;
        else if (!strcmp(a, "--no-sound")) o->sound = false;
        else if (!strcmp(a, "--no-qtable")) o->models.qtable = "";
        else if (!strcmp(a, "--reset-qtable")) o->reset_qtable = true;
        else if (!strcmp(a, "--print-config")) o->print_config = true;
        else if (!strcmp(a, "--loop")) o->loop = true;
        else if (!strcmp(a, "--headless")) o->headless = true;
        else if (!strcmp(a, "--no-mirror")) o->mirror = false;
        else if (!strcmp(a, "--no-landmarks")) o->landmarks = false;
        else if (!strcmp(a, "--realtime")) o->realtime = true;
        else if (!strcmp(a, "--list-cameras")) o->list_cameras = true;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) o->help = true;
        else if (!strcmp(a, "--frames") || !strcmp(a, "--threads") || !strcmp(a, "--width") || !strcmp(a, "--height")) {
            if ((st = want_value(argc, argv, i, err)) != SM_OK)
                return st;
            long long hi = a[2] == 'f' ? (1LL << 40) : a[2] == 't' ? 256 : 8192;
            if ((st = parse_ll(a, argv[++i], 1, hi, &ll, err)) != SM_OK)
                return st;
            if (a[2] == 'f') o->frames = ll;
            else if (a[2] == 't') o->models.threads = (int)ll;
            else if (a[2] == 'w') o->width = (int)ll;
            else o->height = (int)ll;
        } else if (!strcmp(a, "--fps")) {
            if ((st = want_value(argc, argv, i, err)) != SM_OK)
                return st;
            if ((st = parse_double(a, argv[++i], 0.01, 1000.0, &o->fps, err)) != SM_OK)
                return st;
        } else if (!strcmp(a, "--fatigue-rules")) {
            if ((st = want_value(argc, argv, i, err)) != SM_OK)
                return st;
            const char *v = argv[++i];
            if (strcmp(v, "seed") && strcmp(v, "wellness"))
                return sm_error_set(err, SM_ERR_ARG, "--fatigue-rules: '%s' is not seed or wellness", v);
            o->models.fatigue_seed_rules = !strcmp(v, "seed");
        } else if (!strcmp(a, "--emotion-hz")) {
            if ((st = want_value(argc, argv, i, err)) != SM_OK)
                return st;
            if ((st = parse_double(a, argv[++i], 0.01, 1000.0, &o->models.emotion_hz, err)) != SM_OK)
                return st;
        } else if (!strcmp(a, "--size")) {
            if ((st = want_value(argc, argv, i, err)) != SM_OK)
                return st;
            const char *v = argv[++i];
            int w = 0, h = 0, used = 0;
            if (sscanf(v, "%5dx%5d%n", &w, &h, &used) != 2 || v[used] || w < 320 || h < 240 || w > 16384 || h > 16384)
                return sm_error_set(err, SM_ERR_ARG, "--size: '%s' is not WxH from 320x240 to 16384x16384", v);
            o->win_w = w;
            o->win_h = h;
        } else if (!strcmp(a, "--sound-every")) {
            if ((st = want_value(argc, argv, i, err)) != SM_OK)
                return st;
            if ((st = parse_ll(a, argv[++i], 1, 24 * 3600, &ll, err)) != SM_OK)
                return st;
            o->sound_every = (int)ll;
        } else if (!strcmp(a, "--history")) {
            if ((st = want_value(argc, argv, i, err)) != SM_OK)
                return st;
            if ((st = sm_viewer_parse_duration(a, argv[++i], &o->history_s, err)) != SM_OK)
                return st;
        } else if (!strcmp(a, "--heart-rules")) {
            if ((st = want_value(argc, argv, i, err)) != SM_OK)
                return st;
            const char *v = argv[++i];
            if (strcmp(v, "seed") && strcmp(v, "wellness"))
                return sm_error_set(err, SM_ERR_ARG, "--heart-rules: '%s' is not seed or wellness", v);
            o->models.heart_seed = !strcmp(v, "seed");
        } else if (a[0] == '-') {
            return sm_error_set(err, SM_ERR_ARG, "unknown option '%s' (see --help)", a);
        } else {
            return sm_error_set(err, SM_ERR_ARG, "unexpected argument '%s' (sources need --camera, --video or --images)", a);
        }
    }
    if ((o->width != 0) != (o->height != 0))
        return sm_error_set(err, SM_ERR_ARG, "--width and --height go together");
    if (o->screenshot && o->headless)
        return sm_error_set(err, SM_ERR_ARG, "--screenshot needs the window (drop --headless)");
    if (o->screenshot && !o->frames)
        return sm_error_set(err, SM_ERR_ARG, "--screenshot needs --frames N (render N frames, save, exit)");
    if (o->loop && o->kind == SM_SRC_CAMERA)
        return sm_error_set(err, SM_ERR_ARG, "--loop is for --video or --images, not a camera");
    if (o->screenshot) {
        const char *dot = strrchr(o->screenshot, '.');
        if (!dot || (strcasecmp(dot, ".bmp") && strcasecmp(dot, ".png")))
            return sm_error_set(err, SM_ERR_ARG, "--screenshot %s: the name must end in .bmp or .png", o->screenshot);
    }
    return SM_OK;
}
