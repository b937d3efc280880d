/* The smartmirror program: command line, JSON lines (checked by Python's json
 * module against the documented schema), headless end-to-end runs on a Y4M
 * clip made from a real photo, the no-display fallback, SIGTERM, the overlay
 * drawing, and the window under Xvfb with --screenshot. */
#include "analyzer.h"
#include "canvas.h"
#include "cli.h"
#include "json.h"
#include "overlay.h"
#include "sm_image.h"
#include "sm_test.h"
#include "source_open.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers -------------------------------------------------------------- */

static const char checker_py[] =
    "import json, math, sys\n"
    "path, n, fps, mode, lm = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5] == '1'\n"
    "lines = open(path).read().splitlines()\n"
    "assert n < 0 or len(lines) == n, 'lines: %d, want %d' % (len(lines), n)\n"
    "num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)\n"
    "numn = lambda v: v is None or num(v)\n"
    "prev = -1\n"
    "for i, line in enumerate(lines):\n"
    "    o = json.loads(line)\n"
    "    assert list(o) == ['frame','t','wall','face','fatigue','emotion','heart','advisor','ms'], list(o)\n"
    "    assert isinstance(o['frame'], int) and num(o['t'])\n"
    "    assert o['wall'] is None or (num(o['wall']) and o['wall'] > 1.6e9), o['wall']\n"
    "    if mode in ('realtime', 'full'):\n"
    "        assert o['frame'] > prev, (o['frame'], prev)\n"
    "    else:\n"
    "        assert o['frame'] == i, (o['frame'], i)\n"
    "    prev = o['frame']\n"
    "    assert abs(o['t'] - o['frame'] / fps) < 1e-6, (o['t'], o['frame'])\n"
    "    ms = o['ms']\n"
    "    assert list(ms) == ['face','fatigue','emotion','heart','advisor','total'] and all(num(v) for v in ms.values())\n"
    "    if mode != 'full':\n"
    "        for k in ('face','fatigue','emotion','heart','advisor'):\n"
    "            assert o[k] is None, (k, o[k])\n"
    "        continue\n"
    "    f = o['face']\n"
    "    assert num(f['score']) and len(f['box']) == 4 and all(num(v) for v in f['box'])\n"
    "    if lm:\n"
    "        assert len(f['landmarks']) == 478 and all(len(p) == 3 and all(num(v) for v in p) for p in f['landmarks'])\n"
    "    else:\n"
    "        assert 'landmarks' not in f\n"
    "    fa = o['fatigue']\n"
    "    assert list(fa) == ['ear','mar','yawn','tilt_deg','pitch_ratio','p_drowsy','estimator','perclos','blinks_per_min','yawns','alert',\n"
    "                        'rules','level','state','eyes','closed_s','microsleeps','long_closures','nods','blink_ms','calibrated',\n"
    "                        'calib_remaining_s','ear_open','ear_closed_thresh','mar_rest','mar_yawn_thresh']\n"
    "    assert fa['rules'] in ('seed','wellness') and fa['state'] in ('alert','tired','drowsy') and fa['eyes'] in ('open','closed')\n"
    "    assert isinstance(fa['calibrated'], bool) and isinstance(fa['microsleeps'], int) and 0 <= fa['level'] <= 1\n"
    "    assert isinstance(fa['yawn'], bool) and isinstance(fa['alert'], bool) and isinstance(fa['yawns'], int)\n"
    "    assert isinstance(fa['estimator'], str) and all(num(fa[k]) for k in ('ear','mar','tilt_deg','p_drowsy','perclos','blinks_per_min'))\n"
    "    e = o['emotion']\n"
    "    assert list(e) == ['label','conf','probs','valence','arousal','gate','model_name']\n"
    "    assert e['model_name'] is None or isinstance(e['model_name'], str)\n"
    "    assert e['label'] is None or e['label'] in e['probs']\n"
    "    assert len(e['probs']) == 8 and abs(sum(e['probs'].values()) - 1) < 1e-4 and len(e['gate']) == 2\n"
    "    h = o['heart']\n"
    "    assert list(h) == ['bpm_pos','quality_db','bpm_net','stress','stress_level','bpm','source','quality','reason',\n"
    "                       'last_bpm','stale','age_s','bpm_chrom','quality_chrom_db','baseline_bpm','stress_rel'], list(h)\n"
    "    assert all(numn(h[k]) for k in ('bpm_pos','quality_db','bpm_net','stress','bpm','quality','last_bpm','age_s'))\n"
    "    assert isinstance(h['stale'], bool) and (h['bpm'] is None or h['reason'] is None), h\n"
    "    a = o['advisor']\n"
    "    assert isinstance(a['action'], int) and isinstance(a['action_text'], str) and numn(a['reward'])\n"
    "print('schema ok:', len(lines), 'lines')\n";

static const char *write_checker(void)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/check.py", sm_test_tmpdir());
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    fputs(checker_py, f);
    fclose(f);
    return path;
}

static const char *python(void)
{
    const char *p = getenv("SM_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

static void check_jsonl(const char *path, int n, double fps, const char *mode, bool landmarks)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' %d %.17g %s %d 2>&1", python(), write_checker(), path, n, fps, mode,
             landmarks ? 1 : 0);
    char out[4096];
    int st = sm_test_shell(cmd, out, sizeof out);
    ck_assert_msg(st == 0, "schema check of %s failed:\n%s", path, out);
}

static const char *fixture(const char *rel)
{
    const char *p = sm_test_fixture(rel);
    ck_assert_msg(p != NULL, "fixture %s missing (tests/gen/gen_viewer_sources.py)", rel);
    return p;
}

/* ---- command line ------------------------------------------------------------ */

static sm_status parse(const char *line, sm_viewer_opts *o, sm_error *err)
{
    static char buf[1024];
    static char *argv[64];
    snprintf(buf, sizeof buf, "smartmirror %s", line);
    int argc = 0;
    for (char *t = strtok(buf, " "); t && argc < 63; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    return sm_viewer_parse_args(argc, argv, o, err);
}

START_TEST(cli_defaults_and_options)
{
    sm_viewer_opts o;
    sm_error err = {0};
    ck_assert_int_eq(parse("", &o, &err), SM_OK);
    ck_assert_int_eq(o.kind, SM_SRC_CAMERA);
    ck_assert_str_eq(o.source, "/dev/video0");
    ck_assert_str_eq(o.models.models_dir, "models");
    ck_assert(o.mirror && o.landmarks && o.models.refine && !o.headless && !o.realtime);
    ck_assert_int_eq(parse("--video a.y4m --models m --emotion e.smw --fatigue f.smw --rppg r.smw --face-detector d.smw "
                           "--face-mesh fm.smw --no-refine --headless --out o.jsonl --frames 12 --threads 3 --width 320 "
                           "--height 240 --fps 12.5 --no-mirror --no-landmarks --realtime",
                           &o, &err),
                     SM_OK);
    ck_assert_int_eq(o.kind, SM_SRC_VIDEO);
    ck_assert_str_eq(o.source, "a.y4m");
    ck_assert_str_eq(o.models.models_dir, "m");
    ck_assert_str_eq(o.models.emotion, "e.smw");
    ck_assert_str_eq(o.models.fatigue, "f.smw");
    ck_assert_str_eq(o.models.rppg, "r.smw");
    ck_assert_str_eq(o.models.face_detector, "d.smw");
    ck_assert_str_eq(o.models.face_mesh, "fm.smw");
    ck_assert_str_eq(o.out, "o.jsonl");
    ck_assert(!o.models.refine && o.headless && !o.mirror && !o.landmarks && o.realtime);
    ck_assert_int_eq(o.frames, 12);
    ck_assert_int_eq(o.models.threads, 3);
    ck_assert_int_eq(o.width, 320);
    ck_assert_int_eq(o.height, 240);
    ck_assert(o.fps == 12.5);
    ck_assert_int_eq(parse("--images dir --frames 3 --screenshot x.PNG", &o, &err), SM_OK);
    ck_assert_int_eq(o.kind, SM_SRC_IMAGES);
    ck_assert_int_eq(parse("--list-cameras", &o, &err), SM_OK);
    ck_assert(o.list_cameras);
    ck_assert_int_eq(parse("--help", &o, &err), SM_OK);
    ck_assert(o.help);
}
END_TEST

static const struct {
    const char *args, *expect;
} bad_args[] = {
    {"--bogus", "'--bogus'"},
    {"--frames", "--frames needs a value"},
    {"--frames abc", "--frames: 'abc'"},
    {"--frames 0", "--frames: '0'"},
    {"--frames 5x", "--frames: '5x'"},
    {"--threads -2", "--threads: '-2'"},
    {"--width 99999 --height 2", "--width: '99999'"},
    {"--fps nan", "--fps: 'nan'"},
    {"--fps 0", "--fps: '0'"},
    {"--video", "--video needs a value"},
    {"--video a --images b", "only one source"},
    {"--width 640", "--width and --height go together"},
    {"--screenshot a.bmp", "needs --frames"},
    {"--frames 2 --screenshot a.jpg", "a.jpg: the name must end in .bmp or .png"},
    {"--headless --frames 2 --screenshot a.bmp", "needs the window"},
    {"stray", "unexpected argument 'stray'"},
    {"--out", "--out needs a value"},
};

START_TEST(cli_rejects_bad_arguments)
{
    sm_viewer_opts o;
    sm_error err = {0};
    ck_assert_int_eq(parse(bad_args[_i].args, &o, &err), SM_ERR_ARG);
    ck_assert_msg(strstr(err.msg, bad_args[_i].expect) != NULL, "'%s' -> '%s' (want '%s')", bad_args[_i].args, err.msg,
                  bad_args[_i].expect);
}
END_TEST

START_TEST(program_help_and_errors)
{
    char out[8192];
    ck_assert_int_eq(sm_test_run("smartmirror", "--help", out, sizeof out), 0);
    ck_assert(strstr(out, "--headless") && strstr(out, "--list-cameras") && strstr(out, "Keys:"));
    ck_assert_int_eq(sm_test_run("smartmirror", "--frames x", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--frames: 'x'") && strstr(out, "--help"), "%s", out);
    ck_assert_int_eq(sm_test_run("smartmirror", "--headless --video /nonexistent/clip.y4m", out, sizeof out), 1);
    ck_assert_msg(strstr(out, "/nonexistent/clip.y4m"), "%s", out);
    ck_assert_int_eq(sm_test_run("smartmirror", "--headless --camera /dev/video-nope", out, sizeof out), 1);
    ck_assert_msg(strstr(out, "/dev/video-nope") && strstr(out, "--list-cameras"), "%s", out);
    char args[4200];
    snprintf(args, sizeof args, "--headless --video '%s'", sm_test_committed("sources-bad/y4m_truncated_frame.y4m"));
    /* a cut tail plays what is there and warns (issue 18), it does not fail the run */
    ck_assert_int_eq(sm_test_run("smartmirror", args, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "\"frame\":0") && strstr(out, "truncated after frame 0; stopping (frame 1 truncated"),
                  "%s", out);
    ck_assert_int_eq(sm_test_run("smartmirror", "--list-cameras", out, sizeof out), 0);
}
END_TEST

/* ---- JSON -------------------------------------------------------------------- */

static const char *const emo_labels[8] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "tired"};

static void fill_result(sm_mirror_result *r)
{
    sm_frame f = {0};
    f.index = 7;
    f.t = 0.7;
    f.width = 192;
    f.height = 144;
    sm_mirror_result_reset(r, &f);
    r->face.valid = true;
    r->face.score = 0.93f;
    r->face.box[0] = 60;
    r->face.box[1] = 20;
    r->face.box[2] = 70;
    r->face.box[3] = 80;
    r->face.n_landmarks = 478;
    for (int i = 0; i < 478; i++) {
        r->face.landmarks[i][0] = 60 + (float)(i % 23) * 3;
        r->face.landmarks[i][1] = 20 + (float)(i / 23) * 3.5f;
        r->face.landmarks[i][2] = -1.5f;
    }
    r->fatigue = (sm_fatigue_result){.available = true, .valid = true, .ear = 0.31f, .mar = 0.42f,
                                     .yawn = 0, .tilt_deg = 3.5f, .pitch_ratio = 1.02f,
                                     .p_drowsy = 0.86f, .estimator = "mlp", .perclos = 0.12f,
                                     .blinks_per_min = 14.5f, .yawns = 2, .alert = true,
                                     .rules = "wellness", .level = 0.9f, .state = "drowsy",
                                     .eyes_closed = true, .closed_s = 1.4f, .microsleeps = 1,
                                     .long_closures = 2, .blink_ms = NAN, .calibrated = false,
                                     .calib_remaining_s = 3.5f, .ear_open = 0.3f,
                                     .ear_closed_thresh = 0.165f, .mar_rest = 0.35f,
                                     .mar_yawn_thresh = 0.65f};
    sm_emotion_result *e = &r->emotion;
    e->available = e->valid = true;
    e->n_labels = 8;
    for (int i = 0; i < 8; i++) {
        e->labels[i] = emo_labels[i];
        e->probs[i] = i == 3 ? 0.65f : 0.05f;
    }
    e->label = 3;
    e->conf = 0.65f;
    e->valence = 0.4f;
    e->arousal = -0.2f;
    e->gate[0] = 0.3f;
    e->gate[1] = 0.7f;
    r->heart = (sm_heart_result){.valid_pos = true, .bpm_pos = 72.5f, .quality_db = 4.2f,
                                 .available_net = true, .valid_net = false, .bpm_net = 0,
                                 .valid_stress = true, .stress = 41.0f, .stress_level = "Moderate",
                                 .stress_source = "pos"};
    r->advisor = (sm_advisor_result){.valid = true, .action = 1, .action_text = "1 = Take a short break suggestion",
                                     .has_reward = true, .reward = -0.25f};
    r->ms = (sm_stage_ms){3.1, 0.2, 8.4, 1.1, 0.01, 12.9};
}

START_TEST(json_schema_full_and_empty)
{
    sm_mirror_result *r = calloc(1, sizeof *r);
    fill_result(r);
    const char *dir = sm_test_tmpdir();
    char path[4096];
    for (int lm = 0; lm < 2; lm++) {
        snprintf(path, sizeof path, "%s/full%d.jsonl", dir, lm);
        FILE *f = fopen(path, "w");
        char *line = sm_result_to_json(r, lm);
        ck_assert(line != NULL);
        fprintf(f, "%s\n", line);
        fclose(f);
        ck_assert(strstr(line, "\"label\":\"happy\"") && strstr(line, "\"stress_level\":\"Moderate\"") &&
                  strstr(line, "\"bpm_net\":null") && strstr(line, "\"alert\":true") &&
                  strstr(line, "\"eyes\":\"closed\",\"closed_s\":1.4,") && strstr(line, "\"blink_ms\":null") &&
                  strstr(line, "\"state\":\"drowsy\"") && strstr(line, "\"calibrated\":false"));
        free(line);
        check_jsonl(path, 1, 10.0, "full", lm);
    }
    /* nulls: unavailable sections, below-threshold label, non-finite numbers, escaping */
    r->emotion.label = -1;
    r->fatigue.ear = NAN;
    r->fatigue.estimator = "a\"b\\c\n";
    char *line = sm_result_to_json(r, false);
    ck_assert_msg(strstr(line, "\"label\":null") && strstr(line, "\"ear\":null") &&
                      strstr(line, "\"estimator\":\"a\\\"b\\\\c\\u000a\""), "%s", line);
    free(line);
    sm_frame fr = {0};
    fr.index = 3;
    fr.t = 0.3;
    sm_mirror_result_reset(r, &fr);
    line = sm_result_to_json(r, true);
    ck_assert_str_eq(line, "{\"frame\":3,\"t\":0.3,\"wall\":null,\"face\":null,\"fatigue\":null,\"emotion\":null,\"heart\":null,"
                           "\"advisor\":null,\"ms\":{\"face\":0,\"fatigue\":0,\"emotion\":0,\"heart\":0,"
                           "\"advisor\":0,\"total\":0}}");
    free(line);
    free(r);
}
END_TEST

/* ---- headless end to end -------------------------------------------------------- */
/* These runs check the viewer without analysis (--models /nonexistent): the
 * analysis on real faces is test_pipeline's. */

START_TEST(headless_video_every_frame_in_order)
{
    const char *clip = fixture("viewer/e2e.y4m");
    char out[4096], args[8192], path[4096];
    snprintf(path, sizeof path, "%s/run.jsonl", sm_test_tmpdir());
    snprintf(args, sizeof args, "--headless --video '%s' --out '%s' --models /nonexistent", clip, path);
    ck_assert_msg(sm_test_run("smartmirror", args, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "/nonexistent/emotion.smw missing"), "%s", out); /* says what is missing */
    check_jsonl(path, 24, 10.0, "empty", true);
    /* stdout, --frames, --no-landmarks */
    const char *bin = getenv("SM_BIN");
    snprintf(args, sizeof args, "'%s/smartmirror' --headless --video '%s' --frames 5 --no-landmarks --models /nonexistent 2>/dev/null > '%s'",
             bin && *bin ? bin : "build", clip, path);
    ck_assert_int_eq(system(args), 0);
    check_jsonl(path, 5, 10.0, "empty", false);
    /* other sources: images (t = index / --fps), AVI */
    snprintf(args, sizeof args, "--headless --images '%s' --fps 5 --out '%s' --models /nonexistent", fixture("viewer/images"), path);
    ck_assert_msg(sm_test_run("smartmirror", args, out, sizeof out) == 0, "%s", out);
    check_jsonl(path, 6, 5.0, "empty", true);
    snprintf(args, sizeof args, "--headless --video '%s' --out '%s' --models /nonexistent", fixture("viewer/clip_noidx.avi"), path);
    ck_assert_msg(sm_test_run("smartmirror", args, out, sizeof out) == 0, "%s", out);
    check_jsonl(path, 6, 10.0, "empty", true);
}
END_TEST

START_TEST(no_display_falls_back_to_headless)
{
    char out[8192], args[8192];
    snprintf(args, sizeof args, "--video '%s' --frames 2 --models /nonexistent", fixture("viewer/clip_420jpeg.y4m"));
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "%s", args);
    /* sm_test_run runs through the shell: clear the display variables for it */
    char wrapped[9000];
    snprintf(wrapped, sizeof wrapped, "%s", cmd);
    setenv("SM_SAVED_DISPLAY", getenv("DISPLAY") ? getenv("DISPLAY") : "", 1);
    unsetenv("DISPLAY");
    unsetenv("WAYLAND_DISPLAY");
    int rc = sm_test_run("smartmirror", wrapped, out, sizeof out);
    ck_assert_msg(rc == 0, "%s", out);
    ck_assert_msg(strstr(out, "no display") && strstr(out, "running headless") && strstr(out, "\"frame\":1"), "%s", out);
    snprintf(args, sizeof args, "--video '%s' --frames 2 --screenshot x.bmp", fixture("viewer/clip_420jpeg.y4m"));
    ck_assert_int_eq(sm_test_run("smartmirror", args, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "needs a display"), "%s", out);
}
END_TEST

START_TEST(sigterm_and_realtime)
{
    /* --realtime plays the 2.4 s clip at its own pace; SIGTERM after 0.6 s ends it cleanly */
    const char *dir = sm_test_tmpdir();
    char path[4096], cmd[16384];
    snprintf(path, sizeof path, "%s/rt.jsonl", dir);
    const char *bin = getenv("SM_BIN");
    snprintf(cmd, sizeof cmd,
             "'%s/smartmirror' --headless --realtime --video '%s' --out '%s' --models /nonexistent 2>/dev/null & pid=$!; sleep 0.6; "
             "kill -TERM $pid; wait $pid",
             bin && *bin ? bin : "build", fixture("viewer/e2e.y4m"), path);
    ck_assert_int_eq(system(cmd), 0);
    check_jsonl(path, -1, 10.0, "realtime", true);
    FILE *f = fopen(path, "r");
    int lines = 0, c;
    while ((c = fgetc(f)) != EOF)
        lines += c == '\n';
    fclose(f);
    ck_assert_msg(lines >= 1 && lines < 24, "%d lines: a realtime run stopped after 0.6 s has some, not all", lines);
}
END_TEST

/* ---- overlay ------------------------------------------------------------------------ */

static bool has_colour(const sm_canvas *c, int x0, int y0, int w, int h, int r, int g, int b, int tol)
{
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) {
            const uint8_t *p = c->px + (size_t)y * c->stride + (size_t)x * 3;
            if (abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol)
                return true;
        }
    return false;
}

START_TEST(font_covers_printable_ascii)
{
    for (int ch = 33; ch < 127; ch++) {
        const uint8_t *g = sm_font_glyph(ch);
        int ink = 0;
        for (int r = 0; r < SM_FONT_GLYPH_H; r++) {
            ck_assert_uint_lt(g[r], 32);
            ink += __builtin_popcount(g[r]);
        }
        ck_assert_msg(ink >= 2, "glyph '%c' is (nearly) empty", ch);
    }
    const uint8_t *sp = sm_font_glyph(' ');
    for (int r = 0; r < SM_FONT_GLYPH_H; r++)
        ck_assert_uint_eq(sp[r], 0);
    ck_assert_ptr_eq(sm_font_glyph(200), sm_font_glyph('?'));
    ck_assert_uint_eq(sm_font_glyph('H')[3], 0x1f); /* the bar of the H */
    ck_assert_uint_eq(sm_font_glyph('g')[7], 0x0e); /* a descender */
    ck_assert_int_eq(sm_font_text_width("abc", 2), 36);
}
END_TEST

START_TEST(overlay_draws_video_face_panels_banner)
{
    int W = getenv("SM_OVERLAY_W") ? atoi(getenv("SM_OVERLAY_W")) : 900, H = getenv("SM_OVERLAY_H") ? atoi(getenv("SM_OVERLAY_H")) : 600;
    sm_canvas c = {malloc((size_t)W * H * 3), W, H, (size_t)W * 3};
    sm_frame f = {0};
    sm_error err;
    ck_assert_int_eq(sm_frame_reserve(&f, 192, 144, &err), SM_OK);
    for (int y = 0; y < 144; y++)
        for (int x = 0; x < 192; x++) { /* left half blue, right half yellow */
            uint8_t *p = f.rgb + (y * 192 + x) * 3;
            p[0] = x < 96 ? 0 : 250;
            p[1] = x < 96 ? 0 : 250;
            p[2] = x < 96 ? 250 : 0;
        }
    sm_mirror_result *r = calloc(1, sizeof *r);
    fill_result(r);
    sm_overlay_state st = {.mirror = true, .mesh = true, .fps = 29.5, .source = "test"};
    sm_overlay_render(&c, &f, r, &st);
    int vx, vy, vw, vh;
    sm_overlay_video_rect(W, H, 0, &vx, &vy, &vw, &vh);
    ck_assert_int_gt(vw, W / 2);
    /* mirrored: yellow on the left of the video area, blue on the right */
    int cy = vy + vh / 2 + 40;
    const uint8_t *left = c.px + (size_t)cy * c.stride + (size_t)(vx + vw / 8) * 3;
    const uint8_t *right = c.px + (size_t)cy * c.stride + (size_t)(vx + vw * 7 / 8) * 3;
    ck_assert_msg(left[0] > 200 && left[2] < 50 && right[2] > 200 && right[0] < 50, "not mirrored");
    /* the red drowsiness banner on top, the green face box, the mesh */
    ck_assert(has_colour(&c, vx, vy, vw, 20, 235, 60, 55, 40));
    ck_assert(has_colour(&c, vx, vy + 40, vw, vh - 40, 80, 220, 120, 0));
    ck_assert(has_colour(&c, vx, vy + 40, vw, vh - 40, 90, 255, 200, 0));
    /* panels: title colour text in the right column */
    ck_assert(has_colour(&c, vx + vw, 0, W - vw, H, 120, 200, 255, 0));
    /* unmirrored and without alert: no red banner, blue on the left */
    r->fatigue.alert = false;
    st.mirror = false;
    sm_overlay_render(&c, &f, r, &st);
    left = c.px + (size_t)cy * c.stride + (size_t)(vx + vw / 8) * 3;
    ck_assert(left[2] > 200 && left[0] < 50);
    ck_assert(!has_colour(&c, vx, vy, vw, 20, 235, 60, 55, 40));
    /* the picture for people to look at */
    const char *dump = getenv("SM_OVERLAY_DUMP");
    if (dump && *dump) {
        st.mirror = true;
        st.help = true;
        r->fatigue.alert = true;
        sm_overlay_render(&c, &f, r, &st);
        ck_assert_int_eq(sm_image_save(dump, c.px, W, H, c.stride, &err), SM_OK);
    }
    /* nothing yet: still draws */
    sm_overlay_render(&c, NULL, NULL, &st);
    free(r);
    sm_frame_free(&f);
    free(c.px);
}
END_TEST

/* ---- window under Xvfb --------------------------------------------------------------- */

static uint8_t *read_bmp(const char *path, int *w, int *h)
{
    uint8_t *b;
    size_t n;
    sm_error err;
    ck_assert_int_eq(sm_file_read_all(path, 0, &b, &n, &err), SM_OK);
    ck_assert(n > 54 && b[0] == 'B' && b[1] == 'M');
    *w = b[18] | b[19] << 8 | b[20] << 16;
    *h = b[22] | b[23] << 8 | b[24] << 16;
    ck_assert_int_eq(b[28], 24);
    size_t row = ((size_t)*w * 3 + 3) & ~(size_t)3;
    ck_assert_uint_ge(n, 54 + row * *h);
    uint8_t *rgb = malloc((size_t)*w * *h * 3);
    for (int y = 0; y < *h; y++)
        for (int x = 0; x < *w; x++) {
            const uint8_t *s = b + 54 + (size_t)(*h - 1 - y) * row + x * 3;
            uint8_t *d = rgb + ((size_t)y * *w + x) * 3;
            d[0] = s[2];
            d[1] = s[1];
            d[2] = s[0];
        }
    free(b);
    return rgb;
}

/* Mean absolute difference between the screenshot's video area and source
 * frame k letterboxed (and mirrored) the way the window does it. */
static double video_match(const uint8_t *shot, int W, int H, const sm_frame *f, bool mirror)
{
    int vx, vy, vw, vh;
    sm_overlay_video_rect(W, H, 0, &vx, &vy, &vw, &vh);
    double s = fmin((double)vw / f->width, (double)vh / f->height);
    int dw = (int)(f->width * s), dh = (int)(f->height * s);
    int dx = vx + (vw - dw) / 2, dy = vy + (vh - dh) / 2;
    uint8_t *exp = malloc((size_t)dw * dh * 3);
    sm_image_resize_bilinear_u8(f->rgb, f->width, f->height, (size_t)f->width * 3, exp, dw, dh, (size_t)dw * 3, 3);
    if (mirror)
        sm_image_flip_h_u8(exp, (size_t)dw * 3, dw, dh, 3, exp, (size_t)dw * 3);
    double sum = 0;
    long n = 0;
    /* the middle band (banners sit at the top, hints at the bottom) */
    for (int y = dh / 4; y < dh * 3 / 4; y += 3)
        for (int x = 0; x < dw; x += 3)
            for (int c = 0; c < 3; c++, n++)
                sum += abs((int)shot[((size_t)(dy + y) * W + dx + x) * 3 + c] - (int)exp[((size_t)y * dw + x) * 3 + c]);
    free(exp);
    return sum / (double)n;
}

static void window_run(bool mirror)
{
    if (system("command -v xvfb-run >/dev/null 2>&1") != 0) {
        sm_test_skip("window_screenshot_under_xvfb", "xvfb-run is not installed (apt-get install -y xvfb)");
        return;
    }
    const char *clip = fixture("viewer/e2e.y4m");
    char shot[4096], cmd[16384];
    snprintf(shot, sizeof shot, "%s/shot.bmp", sm_test_tmpdir());
    const char *bin = getenv("SM_BIN");
    /* Under SANITIZE=1, SDL's X11 back end leaves allocations from libraries it
     * has dlclose()d by exit (unsymbolizable, so no suppression can name them):
     * leak checking is off for these window runs only; everything else,
     * including the overlay drawing in-process, is leak-checked. The display
     * numbers start apart from test_viewer_session's (170): tests/run-tests.sh
     * runs suites side by side, and two `xvfb-run -a` from the same start can
     * both pick the same free number. */
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" "
             "xvfb-run -a -n 140 -s '-screen 0 1280x800x24' '%s/smartmirror' --video '%s' --frames 10 --screenshot '%s' %s "
             ">/dev/null 2>&1",
             bin && *bin ? bin : "build", clip, shot, mirror ? "" : "--no-mirror");
    ck_assert_int_eq(system(cmd), 0);
    int W, H;
    uint8_t *px = read_bmp(shot, &W, &H);
    ck_assert_int_eq(W, 1280); /* the window's size */
    ck_assert_int_eq(H, 760);
    /* not blank */
    double mean = 0, var = 0;
    for (long i = 0; i < (long)W * H * 3; i += 7)
        mean += px[i];
    mean /= (double)((long)W * H * 3 / 7 + 1);
    for (long i = 0; i < (long)W * H * 3; i += 7)
        var += (px[i] - mean) * (px[i] - mean);
    var /= (double)((long)W * H * 3 / 7 + 1);
    ck_assert_msg(var > 500, "screenshot looks blank (variance %f)", var);
    /* the video area shows one of the clip's frames, mirrored as asked */
    sm_source *s;
    sm_error err;
    ck_assert_int_eq(sm_source_open_video(clip, 0, &s, &err), SM_OK);
    sm_frame f = {0};
    bool eof = false;
    double best = 1e9, best_flipped = 1e9;
    while (sm_source_read(s, &f, &eof, &err) == SM_OK && !eof) {
        best = fmin(best, video_match(px, W, H, &f, mirror));
        best_flipped = fmin(best_flipped, video_match(px, W, H, &f, !mirror));
    }
    sm_source_close(s);
    sm_frame_free(&f);
    ck_assert_msg(best < 2.0 && best_flipped > best + 5, "video area: best %.2f, other orientation %.2f", best,
                  best_flipped);
    /* the panels: heading colour present in the right column */
    int vx, vy, vw, vh;
    sm_overlay_video_rect(W, H, 0, &vx, &vy, &vw, &vh);
    sm_canvas c = {px, W, H, (size_t)W * 3};
    ck_assert(has_colour(&c, vx + vw, 0, W - vw, H / 2, 120, 200, 255, 0));
    free(px);
}

START_TEST(window_screenshot_under_xvfb)
{
    window_run(_i == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("viewer");
    TCase *tc = tcase_create("viewer");
    tcase_add_test(tc, cli_defaults_and_options);
    tcase_add_loop_test(tc, cli_rejects_bad_arguments, 0, (int)(sizeof bad_args / sizeof *bad_args));
    tcase_add_test(tc, program_help_and_errors);
    tcase_add_test(tc, json_schema_full_and_empty);
    tcase_add_test(tc, headless_video_every_frame_in_order);
    tcase_add_test(tc, no_display_falls_back_to_headless);
    tcase_add_test(tc, sigterm_and_realtime);
    tcase_add_test(tc, font_covers_printable_ascii);
    tcase_add_test(tc, overlay_draws_video_face_panels_banner);
    tcase_add_loop_test(tc, window_screenshot_under_xvfb, 0, 2);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}
