/* The per-frame pipeline (app/pipeline.c) and the smartmirror headless run
 * on real faces. Fixtures: tests/gen/gen_pipeline.py (clips from Debian's
 * astronaut photo, app.py's crop transcribed in numpy, the JSON checker),
 * tests/gen/gen_face_models.sh (the MediaPipe models, `make models`),
 * tests/gen/gen_seed_refs.py (a PyTorch NovelEmotionModel checkpoint), and the
 * user's best_model.pth from shared/ when present. Tests needing models that
 * are absent print "skipped". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emotion_effnet.h"
#include "npy.h"
#include "pipeline.h"
#include "rppg_pos.h"
#include "rppg_ultralight.h"
#include "sm_kernels.h"
#include "sm_test.h"
#include "source_y4m.h"

static const char *fixture(const char *rel)
{
    const char *p = sm_test_fixture(rel);
    ck_assert_msg(p != NULL, "fixture %s missing (tests/gen/gen_pipeline.py)", rel);
    static char buf[4][4096];
    static int k;
    char *o = buf[k++ & 3];
    snprintf(o, 4096, "%s", p);
    return o;
}

/* $SM_FIXTURES/face with both default face models, or NULL after a skip line. */
static const char *face_dir(const char *test)
{
    const char *d = sm_test_fixture("face/face_detection_short_range.smw");
    const char *m = sm_test_fixture("face/face_landmark_with_attention.smw");
    if (!d || !m) {
        sm_test_skip(test, "face models not in $SM_FIXTURES/face (gen_face_models.sh: npm or network missing)");
        return NULL;
    }
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s", d);
    *strrchr(dir, '/') = '\0';
    return dir;
}

static char *face_model(const char *dir, const char *name)
{
    static char buf[2][4200];
    static int k;
    char *o = buf[k++ & 1];
    snprintf(o, 4200, "%s/%s", dir, name);
    return o;
}

static const char *python(void)
{
    const char *p = getenv("SM_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

/* Converts a checkpoint with smw-convert into a temp dir; "" on failure (msg). */
static const char *convert(const char *src, const char *name, char *msg, size_t cap)
{
    static char out[2][4200];
    static int k;
    char *o = out[k++ & 1];
    sm_test_convert(src, name, o, sizeof out[0], msg, cap);
    return o;
}

static sm_source *open_clip(const char *rel)
{
    sm_source *src;
    sm_error err = {0};
    ck_assert_msg(sm_source_open_y4m(fixture(rel), 0, &src, &err) == SM_OK, "%s", err.msg);
    return src;
}

static bool next_frame(sm_source *src, sm_frame *f)
{
    bool eof = false;
    sm_error err = {0};
    ck_assert_msg(sm_source_read(src, f, &eof, &err) == SM_OK, "%s", err.msg);
    return !eof;
}

static sm_pipeline *make(const sm_pipeline_config *c)
{
    sm_pipeline *p;
    sm_error err = {0};
    ck_assert_msg(sm_pipeline_init(&p, c, &err) == SM_OK, "%s", err.msg);
    return p;
}

static void process(sm_pipeline *p, const sm_frame *f, sm_mirror_result *r)
{
    sm_error err = {0};
    ck_assert_msg(sm_pipeline_process(p, f->rgb, f->width, f->height, (size_t)f->width * 3, f->index, f->t, r,
                                      &err) == SM_OK,
                  "%s", err.msg);
}

/* ---- app.py's crop --------------------------------------------------------------------- */

START_TEST(crop_box_matches_app_py)
{
    FILE *f = fopen(fixture("pipeline/crop_boxes.txt"), "r");
    ck_assert(f != NULL);
    int cases = 0;
    ck_assert_int_eq(fscanf(f, "%d", &cases), 1);
    float *pts = malloc(478 * 2 * sizeof(float));
    int none = 0;
    for (int c = 0; c < cases; c++) {
        int w, h, n;
        ck_assert_int_eq(fscanf(f, "%d %d %d", &w, &h, &n), 3);
        ck_assert(n <= 478);
        for (int i = 0; i < n; i++)
            ck_assert_int_eq(fscanf(f, "%f %f", &pts[2 * i], &pts[2 * i + 1]), 2);
        char word[32];
        int want[4], box[4];
        ck_assert_int_eq(fscanf(f, "%31s", word), 1);
        bool got = sm_pipeline_emotion_box(pts, n, 2, w, h, box);
        if (!strcmp(word, "none")) {
            ck_assert_msg(!got, "case %d: app.py gives None, we give %d %d %d %d", c, box[0], box[1], box[2], box[3]);
            none++;
            continue;
        }
        want[0] = atoi(word);
        ck_assert_int_eq(fscanf(f, "%d %d %d", &want[1], &want[2], &want[3]), 3);
        ck_assert_msg(got, "case %d: app.py gives a box, we give none", c);
        for (int k = 0; k < 4; k++)
            ck_assert_msg(box[k] == want[k], "case %d: box[%d] %d, app.py %d", c, k, box[k], want[k]);
    }
    ck_assert_msg(none > 0 && none < cases, "the cases should cover both outcomes (%d none)", none);
    free(pts);
    fclose(f);
    /* non-finite points never give a box */
    float bad[4] = {1, 2, NAN, 3};
    int box[4];
    ck_assert(!sm_pipeline_emotion_box(bad, 2, 2, 64, 64, box));
}
END_TEST

/* ---- every model optional -------------------------------------------------------------- */

START_TEST(missing_models_are_notes)
{
    sm_pipeline_config c = {
        .face_detector = "/nonexistent/d.smw",
        .face_mesh = "/nonexistent/m.smw",
        .emotion = "/nonexistent/e.smw",
        .fatigue_mlp = "/nonexistent/f.smw",
        .rppg = "/nonexistent/r.smw",
        .advisor = true,
        .qtable = "",
        .threads = 1,
    };
    sm_pipeline *p = make(&c);
    const char *n = sm_pipeline_notes(p);
    ck_assert_msg(strstr(n, "face:") && strstr(n, "emotion:") && strstr(n, "fatigue MLP:") && strstr(n, "rppg:") &&
                      strstr(n, "/nonexistent/e.smw"),
                  "%s", n);
    sm_pipeline_info info = sm_pipeline_get_info(p);
    ck_assert(!info.face && !info.emotion && !info.fatigue_mlp && !info.rppg_net && info.advisor);
    ck_assert_str_eq(info.emotion_precision, "");
    sm_frame f = {0};
    sm_error err = {0};
    ck_assert_int_eq(sm_frame_reserve(&f, 64, 48, &err), SM_OK);
    memset(f.rgb, 128, 64 * 48 * 3);
    sm_mirror_result *r = malloc(sizeof *r);
    process(p, &f, r);
    ck_assert(!r->face.valid && !r->fatigue.available && !r->emotion.available && !r->heart.available_net);
    ck_assert(r->advisor.valid); /* app.py acts on the first frame */
    /* bad arguments are errors, not crashes */
    ck_assert_int_eq(sm_pipeline_process(p, NULL, 64, 48, 192, 0, 0, r, &err), SM_ERR_ARG);
    ck_assert_int_eq(sm_pipeline_process(p, f.rgb, 64, 48, 100, 0, 0, r, &err), SM_ERR_ARG);
    ck_assert_int_eq(sm_pipeline_process(p, f.rgb, 64, 48, 192, 0, NAN, r, &err), SM_ERR_ARG);
    sm_pipeline_free(p);
    sm_pipeline_free(NULL);
    /* files that exist but are not the model: a note naming the file, the panel off */
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/garbage.smw", sm_test_tmpdir());
    FILE *g = fopen(bad, "w");
    ck_assert(g != NULL);
    fputs("not a weight file\n", g);
    fclose(g);
    c.emotion = c.fatigue_mlp = c.rppg = bad;
    p = make(&c);
    n = sm_pipeline_notes(p);
    ck_assert_msg(strstr(n, "emotion: ") && strstr(n, "fatigue MLP: ") && strstr(n, "rppg: ") && strstr(n, bad), "%s", n);
    info = sm_pipeline_get_info(p);
    ck_assert(!info.emotion && !info.fatigue_mlp && !info.rppg_net);
    process(p, &f, r);
    sm_pipeline_free(p);
    c.threads = -1;
    ck_assert_int_eq(sm_pipeline_init(&p, &c, &err), SM_ERR_ARG);
    free(r);
    sm_frame_free(&f);
}
END_TEST

/* ---- heart rate through the real face tracker ----------------------------------------- */

START_TEST(pos_on_tracked_face_within_3_bpm)
{
    const char *dir = face_dir("pos_on_tracked_face_within_3_bpm");
    if (!dir)
        return;
    double bpm_true = 0;
    int n_frames = 0, fps = 0;
    FILE *f = fopen(fixture("pipeline/pulse.txt"), "r");
    ck_assert(f && fscanf(f, "%d %d %lf", &n_frames, &fps, &bpm_true) == 3);
    fclose(f);
    sm_pipeline_config c = {
        .face_detector = face_model(dir, "face_detection_short_range.smw"),
        .face_mesh = face_model(dir, "face_landmark_with_attention.smw"),
        .threads = 2,
    };
    sm_pipeline *p = make(&c);
    sm_source *src = open_clip("pipeline/pulse.y4m");
    sm_frame fr = {0};
    sm_mirror_result *r = malloc(sizeof *r);
    int faces = 0, n = 0;
    while (next_frame(src, &fr)) {
        process(p, &fr, r);
        faces += r->face.valid;
        n++;
    }
    ck_assert_int_eq(n, n_frames);
    ck_assert_msg(faces >= n - 2, "face in %d of %d frames", faces, n);
    ck_assert_int_eq(r->face.n_landmarks, 478);
    ck_assert_msg(r->heart.valid_pos, "POS not valid after %d frames (%.2f s of signal)", n, r->heart.pos_signal_s);
    ck_assert_msg(fabs(r->heart.bpm_pos - bpm_true) <= 3.0, "POS %.2f BPM, true %.1f (quality %.1f dB)",
                  r->heart.bpm_pos, bpm_true, r->heart.quality_db);
    ck_assert_msg(r->heart.valid_stress && !strcmp(r->heart.stress_source, "pos"), "stress from POS");
    printf("pipeline POS: %.2f BPM for %.1f, %.1f dB, %d/%d faces\n", r->heart.bpm_pos, bpm_true,
           r->heart.quality_db, faces, n);
    sm_source_close(src);
    sm_frame_free(&fr);
    sm_pipeline_free(p);
    free(r);
}
END_TEST

/* ---- the face models' thread count ------------------------------------------------------ */

/* face_threads 0 measures 1 thread against the pool and keeps the faster (the
 * choice agrees with the medians it reports); 1 and 2 force it; the landmarks
 * are the same bits whichever runs. Never a timing assertion. */
START_TEST(face_threads_calibrated)
{
    const char *dir = face_dir("face_threads_calibrated");
    if (!dir)
        return;
    sm_pipeline_config c = {
        .face_detector = face_model(dir, "face_detection_short_range.smw"),
        .face_mesh = face_model(dir, "face_landmark.smw"),
        .threads = 2,
    };
    sm_pipeline *p = make(&c);
    sm_pipeline_info info = sm_pipeline_get_info(p);
    ck_assert(info.face_ms_1 > 0 && info.face_ms_pool > 0);
    ck_assert_uint_eq(info.face_threads, info.face_ms_pool < info.face_ms_1 ? 2 : 1);
    printf("pipeline face calibration: 1 thread %.3f ms, 2 threads %.3f ms: %zu\n", info.face_ms_1,
           info.face_ms_pool, info.face_threads);
    sm_pipeline_free(p);

    sm_pipeline *q[2];
    for (int k = 0; k < 2; k++) {
        c.face_threads = k + 1;
        q[k] = make(&c);
        info = sm_pipeline_get_info(q[k]);
        ck_assert_uint_eq(info.face_threads, (size_t)k + 1);
        ck_assert(info.face_ms_1 == 0 && info.face_ms_pool == 0); /* forced: no calibration */
    }
    sm_source *src = open_clip("pipeline/pan.y4m");
    sm_frame fr = {0};
    sm_mirror_result *r = malloc(2 * sizeof *r);
    int faces = 0;
    for (int i = 0; i < 6 && next_frame(src, &fr); i++) {
        process(q[0], &fr, &r[0]);
        process(q[1], &fr, &r[1]);
        ck_assert_int_eq(r[0].face.valid, r[1].face.valid);
        ck_assert_msg(!memcmp(r[0].face.landmarks, r[1].face.landmarks, sizeof r[0].face.landmarks),
                      "frame %d: landmarks differ between 1 and 2 face threads", i);
        faces += r[0].face.valid;
    }
    ck_assert_int_gt(faces, 0);
    sm_source_close(src);
    sm_frame_free(&fr);
    sm_pipeline_free(q[0]);
    sm_pipeline_free(q[1]);
    free(r);

    /* one analysis thread: nothing to choose */
    c.threads = 1;
    c.face_threads = 0;
    p = make(&c);
    info = sm_pipeline_get_info(p);
    ck_assert_uint_eq(info.face_threads, 1);
    ck_assert(info.face_ms_1 == 0);
    sm_pipeline_free(p);
    /* out of range is refused */
    sm_error err = {0};
    c.face_threads = -1;
    ck_assert_int_eq(sm_pipeline_init(&p, &c, &err), SM_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "face threads -1"));
}
END_TEST

/* ---- UltraLightNet: the ring in the pipeline == smw-run on the same 180 frames -------- */

START_TEST(ultralight_ring_equals_smw_run)
{
    const char *pth = sm_test_shared("seed/checkpoints/best_model.pth");
    if (!pth) {
        sm_test_skip("ultralight_ring_equals_smw_run", "shared/seed/checkpoints/best_model.pth not found");
        return;
    }
    char msg[4096];
    const char *smw = convert(pth, "ultralight_rppg.smw", msg, sizeof msg);
    ck_assert_msg(smw[0], "smw-convert: %s", msg);
    sm_pipeline_config c = {.rppg = smw, .threads = 2};
    sm_pipeline *p = make(&c);
    ck_assert(sm_pipeline_get_info(p).rppg_net);
    sm_source *src = open_clip("pipeline/pulse.y4m");
    sm_frame fr = {0};
    sm_mirror_result *r = malloc(sizeof *r);
    const size_t S = 36, T = 180;
    float *nchw = malloc(T * 3 * S * S * sizeof(float)), one[36 * 36 * 3];
    size_t i = 0;
    for (; i < T && next_frame(src, &fr); i++) {
        process(p, &fr, r);
        ck_assert_msg(r->heart.valid_net == (i + 1 == T), "frame %zu: reading %d", i, r->heart.valid_net);
        /* the seed's preprocessing (tested against cv2's rule in test_pos), NCHW for smw-run */
        sm_rppg_preprocess(fr.rgb, fr.width, fr.height, (size_t)fr.width * 3, one);
        for (size_t c3 = 0; c3 < 3; c3++)
            for (size_t k = 0; k < S * S; k++)
                nchw[(i * 3 + c3) * S * S + k] = one[k * 3 + c3];
    }
    ck_assert_uint_eq(i, T);
    ck_assert_str_eq(r->heart.stress_source, "net");
    float ours = r->heart.bpm_net;

    const char *dir = sm_test_tmpdir();
    char in[4200], args[9000];
    snprintf(in, sizeof in, "%s/frames.npy", dir);
    uint64_t dims[5] = {1, T, 3, S, S};
    sm_error err = {0};
    ck_assert_msg(sm_npy_save(in, SM_DTYPE_F32, 5, dims, nchw, &err) == SM_OK, "%s", err.msg);
    snprintf(args, sizeof args, "'%s' --input '%s' --out-dir '%s'", smw, in, dir);
    ck_assert_msg(sm_test_run("smw-run", args, msg, sizeof msg) == 0, "smw-run: %s", msg);
    char out[4200];
    snprintf(out, sizeof out, "%s/bpm.npy", dir);
    sm_npy ref;
    ck_assert_msg(sm_npy_load(out, &ref, &err) == SM_OK, "%s", err.msg);
    float want = ((const float *)ref.data)[0];
    ck_assert_msg(fabsf(ours - want) <= 1e-4f * fabsf(want) + 1e-4f, "pipeline %.6f BPM, smw-run %.6f", ours, want);
    printf("pipeline UltraLightNet: %.4f BPM, smw-run %.4f\n", ours, want);
    /* the next reading comes 10 frames later, as app.py's */
    float first = ours;
    int readings = 0;
    for (int k = 0; k < 10 && next_frame(src, &fr); k++) {
        process(p, &fr, r);
        readings += r->heart.bpm_net != first;
    }
    ck_assert_msg(readings <= 1, "a new reading at most once in 10 frames");
    sm_npy_free(&ref);
    free(nchw);
    sm_source_close(src);
    sm_frame_free(&fr);
    sm_pipeline_free(p);
    free(r);
}
END_TEST

/* ---- emotion in the pipeline == sm_emotion_run on the same crop ----------------------- */

START_TEST(emotion_matches_direct_run)
{
    const char *dir = face_dir("emotion_matches_direct_run");
    if (!dir)
        return;
    const char *pth = sm_test_fixture("emotion_ref/emotion_rand.pth");
    ck_assert_msg(pth != NULL, "fixture emotion_ref/emotion_rand.pth missing (tests/gen/gen_seed_refs.py)");
    char msg[4096];
    const char *smw = convert(pth, "emotion.smw", msg, sizeof msg);
    ck_assert_msg(smw[0], "smw-convert: %s", msg);

    sm_pipeline_config c = {
        .face_detector = face_model(dir, "face_detection_short_range.smw"),
        .face_mesh = face_model(dir, "face_landmark_with_attention.smw"),
        .emotion = smw,
        .threads = 2,
        .emotion_hz = 10,
    };
    sm_pipeline *p = make(&c);
    ck_assert(sm_pipeline_get_info(p).emotion);
    /* NovelEmotionModel has no trained weights to judge BF16 by: the process-wide
     * precision, FP32 unless the user chose */
    ck_assert_str_eq(sm_pipeline_get_info(p).emotion_precision, sm_precision_name(sm_precision_active()));
    sm_source *src = open_clip("pipeline/pan.y4m");
    sm_frame f0 = {0}, fr = {0};
    sm_mirror_result *r = malloc(sizeof *r);
    ck_assert(next_frame(src, &f0));
    process(p, &f0, r);
    ck_assert(r->face.valid && r->emotion.available && r->emotion.valid);
    sm_emotion_output *mine = malloc(sizeof *mine), *direct = malloc(sizeof *direct);
    int box[4], want_box[4];
    int64_t from = -1;
    ck_assert(sm_pipeline_last_emotion(p, mine, box, &from));
    ck_assert_int_eq(from, 0);
    ck_assert(sm_pipeline_emotion_box(&r->face.landmarks[0][0], r->face.n_landmarks, 3, f0.width, f0.height,
                                      want_box));
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(box[k], want_box[k]);

    /* the model alone, on its own, on that crop */
    sm_emotion *m;
    sm_error err = {0};
    ck_assert_msg(sm_emotion_load_file(smw, NULL, &m, &err) == SM_OK, "%s", err.msg);
    ck_assert_msg(sm_emotion_run_rgb8(m, f0.rgb, f0.width, f0.height, (size_t)f0.width * 3, box, direct, &err) ==
                      SM_OK,
                  "%s", err.msg);
    ck_assert_int_eq(mine->n_classes, direct->n_classes);
    ck_assert_int_eq(r->emotion.n_labels, direct->n_classes);
    for (int k = 0; k < direct->n_classes; k++) {
        ck_assert_msg(fabsf(mine->probs[k] - direct->probs[k]) <= 1e-5f, "prob %d: %g vs %g", k, mine->probs[k],
                      direct->probs[k]);
        /* one result so far: the smoothed probabilities are that result */
        ck_assert_msg(fabsf(r->emotion.probs[k] - direct->probs[k]) <= 1e-5f, "smoothed %d", k);
        ck_assert_str_eq(r->emotion.labels[k], sm_emotion_label(m, k));
    }
    ck_assert(fabsf(r->emotion.valence - direct->valence) <= 1e-5f);

    /* rate: 10 Hz on a 30 fps clip = frames 0, 3, 6 */
    for (int i = 1; i <= 3; i++) {
        ck_assert(next_frame(src, &fr));
        process(p, &fr, r);
        ck_assert(sm_pipeline_last_emotion(p, NULL, NULL, &from));
        ck_assert_msg(from == (i < 3 ? 0 : 3), "after frame %d the last emotion is from frame %lld", i,
                      (long long)from);
        ck_assert_msg((r->ms.emotion > 0) == (i == 3), "frame %d: emotion ms %g", i, r->ms.emotion);
        ck_assert(r->emotion.valid && fabsf(r->emotion.valence) > 0); /* the last result stays shown */
    }
    sm_pipeline_free(p);

    /* live mode: the worker runs the crop; its result reaches the fusion on a
     * later frame and equals the synchronous one */
    c.live = true;
    p = make(&c);
    sm_pipeline_info info = sm_pipeline_get_info(p);
    ck_assert_uint_eq(info.threads + info.emotion_threads, 2);
    process(p, &f0, r);
    sm_pipeline_drain(p);
    ck_assert(sm_pipeline_last_emotion(p, mine, box, &from));
    ck_assert_int_eq(from, 0);
    process(p, &fr, r);
    ck_assert(r->emotion.valid);
    for (int k = 0; k < direct->n_classes; k++)
        ck_assert_msg(fabsf(mine->probs[k] - direct->probs[k]) <= 1e-5f, "live prob %d: %g vs %g", k,
                      mine->probs[k], direct->probs[k]);
    sm_pipeline_free(p);

    sm_emotion_free(m);
    free(mine);
    free(direct);
    sm_source_close(src);
    sm_frame_free(&f0);
    sm_frame_free(&fr);
    free(r);
}
END_TEST

/* ---- headless end to end -------------------------------------------------------------- */

static void run_checker(const char *jsonl, int n, const char *mode, const char *extra)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "'%s' '%s' '%s' %d %s %s 2>&1", python(), fixture("pipeline/check_e2e.py"), jsonl, n,
             mode, extra);
    char out[4096];
    int st = sm_test_shell(cmd, out, sizeof out);
    ck_assert_msg(st == 0, "check of %s failed:\n%s", jsonl, out);
    printf("%s", out);
}

/* The file with every "ms" object removed (timings differ between runs). */
/* The JSON lines without the timings and the wall clock. */
static char *without_ms(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert(f != NULL);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1), *o = malloc((size_t)len + 1);
    ck_assert(fread(s, 1, (size_t)len, f) == (size_t)len);
    s[len] = '\0';
    fclose(f);
    size_t j = 0;
    for (long i = 0; i < len;) {
        if (!strncmp(s + i, ",\"ms\":{", 7)) {
            while (i < len && s[i] != '}')
                i++;
            i++;
            continue;
        }
        if (!strncmp(s + i, ",\"wall\":", 8)) { /* the wall clock differs between runs too */
            i += 8;
            while (i < len && s[i] != ',')
                i++;
            continue;
        }
        o[j++] = s[i++];
    }
    o[j] = '\0';
    free(s);
    return o;
}

START_TEST(headless_end_to_end_real_face)
{
    const char *dir = face_dir("headless_end_to_end_real_face");
    if (!dir)
        return;
    int n = 0, fps = 0, dx = 0, dy = 0;
    FILE *f = fopen(fixture("pipeline/pan.txt"), "r");
    ck_assert(f && fscanf(f, "%d %d %d %d", &n, &fps, &dx, &dy) == 4);
    fclose(f);
    const char *tmp = sm_test_tmpdir();
    char out[8192], args[16384], a[4200], b[4200], extra[64];
    snprintf(a, sizeof a, "%s/a.jsonl", tmp);
    snprintf(b, sizeof b, "%s/b.jsonl", tmp);
    /* the Q-table in the temp dir, never the user's home (both ways of saying so) */
    setenv("XDG_STATE_HOME", tmp, 1);
    snprintf(args, sizeof args, "--headless --video '%s' --models '%s' --qtable '%s/q.txt' --threads 2 --out '%s'",
             fixture("pipeline/pan.y4m"), dir, tmp, a);
    ck_assert_msg(sm_test_run("smartmirror", args, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "face 478") && strstr(out, "emotion.smw missing"), "%s", out);
    /* with --threads 2 the start-up measurement picks 1 thread or the pool for the
     * face networks, and the line says which */
    ck_assert_msg(strstr(out, "face 478 on 1 thread,") || strstr(out, "face 478 on the pool,"), "%s", out);
    if (access(face_model(dir, "emotion_fer.smw"), R_OK) == 0) {
        /* the startup line names the emotion model's precision: the per-model
         * default (FP32 here; BF16 where the CPU has avx512_bf16, then both runs
         * below are BF16 and still the same bits: no fan-out splits a sum) */
        char want[128];
        snprintf(want, sizeof want, "emotion face-api FaceExpressionNet %s,",
                 sm_precision_name(sm_precision_choose(sm_precision_user(), true, sm_precision_native())));
        ck_assert_msg(strstr(out, want), "'%s' not in %s", want, out);
    }
    snprintf(extra, sizeof extra, "%d %d", dx, dy);
    run_checker(a, n, "face", extra);
    /* a file is analysed frame by frame, in order: the same input gives the same JSON */
    snprintf(args, sizeof args, "--headless --video '%s' --models '%s' --qtable '%s/q.txt' --threads 1 --out '%s'",
             fixture("pipeline/pan.y4m"), dir, tmp, b);
    ck_assert_msg(sm_test_run("smartmirror", args, out, sizeof out) == 0, "%s", out);
    char *ja = without_ms(a), *jb = without_ms(b);
    ck_assert_msg(!strcmp(ja, jb), "two runs on the same clip differ");
    free(ja);
    free(jb);
}
END_TEST

START_TEST(headless_without_face_models)
{
    const char *tmp = sm_test_tmpdir();
    char out[8192], args[16384], a[4200];
    snprintf(a, sizeof a, "%s/a.jsonl", tmp);
    setenv("XDG_STATE_HOME", tmp, 1);
    snprintf(args, sizeof args, "--headless --video '%s' --models /nonexistent --qtable '%s/q.txt' --out '%s'",
             fixture("pipeline/pan.y4m"), tmp, a);
    ck_assert_msg(sm_test_run("smartmirror", args, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "/nonexistent/face_detection_short_range.smw missing") &&
                      strstr(out, "make models"),
                  "%s", out);
    run_checker(a, 24, "noface", "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("pipeline");
    tcase_set_timeout(tc, SM_TEST_UNDER_ASAN ? 900 : 300);
    tcase_add_test(tc, crop_box_matches_app_py);
    tcase_add_test(tc, missing_models_are_notes);
    tcase_add_test(tc, headless_without_face_models);
    tcase_add_test(tc, headless_end_to_end_real_face);
    tcase_add_test(tc, pos_on_tracked_face_within_3_bpm);
    tcase_add_test(tc, face_threads_calibrated);
    tcase_add_test(tc, ultralight_ring_equals_smw_run);
    tcase_add_test(tc, emotion_matches_direct_run);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}
