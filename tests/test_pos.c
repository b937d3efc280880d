/* POS heart rate: synthetic RGB traces of known rate with noise, illumination
 * drift and uneven timestamps; a synthetic video built from a real face photo
 * (tests/gen/gen_analysis_pos.py) with a pulse of known rate, motion and
 * sensor noise; the skin-polygon rasteriser; the UltraLightNet frame ring and
 * its preprocessing against a numpy transcription of cv2.resize INTER_LINEAR. */
#include "rppg_pos.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Next frame time: ~30 fps with jitter, a slower 24 fps stretch, and rare stalls. */
static double next_t(double t)
{
    double dt = (t > 7.0 && t < 11.0) ? 1.0 / 24.0 : 1.0 / 30.0;
    dt *= 1.0 + sm_test_uniform(-0.3f, 0.3f);
    if (sm_test_uniform(0.0f, 1.0f) < 0.01f)
        dt += 0.15;
    return t + dt;
}

static void trace_sample(double t, double bpm, double amp, double noise, double out[3])
{
    const double base[3] = {170.0, 120.0, 100.0};
    double drift = 1.0 + 0.06 * sin(2 * M_PI * 0.04 * t) + 0.003 * t; /* lighting */
    double pulse = amp * sin(2 * M_PI * bpm / 60.0 * t + 0.7);
    for (int c = 0; c < 3; c++)
        out[c] = base[c] * drift * (1.0 + sm_test_pbv[c] * pulse) + base[c] * noise * sm_test_gauss();
}

static void run_trace(double bpm, double amp, double noise, double seconds, sm_pos_reading *r)
{
    sm_pos *pos;
    ck_assert_int_eq(sm_pos_init(&pos, NULL), SM_OK);
    double t = 100.0; /* an arbitrary clock origin */
    while (t < 100.0 + seconds) {
        double rgb[3];
        trace_sample(t, bpm, amp, noise, rgb);
        sm_pos_push_rgb(pos, t, rgb);
        t = next_t(t);
    }
    sm_pos_estimate(pos, r);
    sm_pos_free(pos);
}

static const double rates[] = {60, 75, 90, 120, 150};

START_TEST(known_rates_from_traces)
{
    sm_test_seed(1000 + (uint64_t)_i);
    double bpm = rates[_i];
    sm_pos_reading r;
    run_trace(bpm, 0.004, 0.002, 20.0, &r);
    ck_assert(r.valid);
    ck_assert_msg(fabs(r.bpm - bpm) <= 2.0, "true %.1f BPM, POS %.2f BPM (q %.1f dB)", bpm, r.bpm,
                  r.quality_db);
    printf("POS trace %.0f BPM -> %.2f BPM, quality %.1f dB\n", bpm, r.bpm, r.quality_db);
}
END_TEST

START_TEST(quality_separates_signal_from_noise)
{
    sm_test_seed(77);
    sm_pos_reading clean, noisy;
    run_trace(72.0, 0.004, 0.0005, 15.0, &clean);
    run_trace(72.0, 0.0, 0.002, 15.0, &noisy);
    ck_assert(clean.valid && noisy.valid);
    ck_assert_msg(clean.quality_db > noisy.quality_db + 6.0, "clean %.1f dB, noise %.1f dB",
                  clean.quality_db, noisy.quality_db);
    printf("quality: pulse %.1f dB, pure noise %.1f dB\n", clean.quality_db, noisy.quality_db);
}
END_TEST

START_TEST(needs_five_seconds_and_restarts)
{
    sm_test_seed(5);
    sm_pos *pos;
    ck_assert_int_eq(sm_pos_init(&pos, NULL), SM_OK);
    sm_pos_reading r;
    sm_pos_estimate(pos, &r);
    ck_assert(!r.valid);
    double t = 0, rgb[3];
    for (; t < 4.8; t += 1.0 / 30) {
        trace_sample(t, 90, 0.004, 0.001, rgb);
        sm_pos_push_rgb(pos, t, rgb);
    }
    sm_pos_estimate(pos, &r);
    ck_assert(!r.valid);
    ck_assert(r.signal_s > 4.5);
    for (; t < 12.0; t += 1.0 / 30) {
        trace_sample(t, 90, 0.004, 0.001, rgb);
        sm_pos_push_rgb(pos, t, rgb);
    }
    sm_pos_estimate(pos, &r);
    ck_assert(r.valid && fabs(r.bpm - 90) <= 2.0);

    /* face lost: no reading until 5 s of new signal, then the new rate */
    sm_pos_lost(pos);
    sm_pos_estimate(pos, &r);
    ck_assert(!r.valid);
    double t0 = t;
    for (; t < t0 + 4.0; t += 1.0 / 30) {
        trace_sample(t, 120, 0.004, 0.001, rgb);
        sm_pos_push_rgb(pos, t, rgb);
    }
    sm_pos_estimate(pos, &r);
    ck_assert(!r.valid);
    for (; t < t0 + 9.0; t += 1.0 / 30) {
        trace_sample(t, 120, 0.004, 0.001, rgb);
        sm_pos_push_rgb(pos, t, rgb);
    }
    sm_pos_estimate(pos, &r);
    ck_assert_msg(r.valid && fabs(r.bpm - 120) <= 2.0, "after loss %.2f", r.bpm);

    /* a 1 s stall restarts; so does a jump of the mean colour (motion) */
    t += 1.0;
    trace_sample(t, 120, 0.004, 0.001, rgb);
    sm_pos_push_rgb(pos, t, rgb);
    sm_pos_estimate(pos, &r);
    ck_assert(!r.valid && r.signal_s == 0.0);
    for (t += 1.0 / 30; t < t0 + 17.0; t += 1.0 / 30) {
        trace_sample(t, 120, 0.004, 0.001, rgb);
        sm_pos_push_rgb(pos, t, rgb);
    }
    sm_pos_estimate(pos, &r);
    ck_assert(r.valid);
    trace_sample(t, 120, 0.004, 0.001, rgb);
    rgb[1] *= 1.3;
    sm_pos_push_rgb(pos, t, rgb);
    sm_pos_estimate(pos, &r);
    ck_assert(!r.valid);
    /* garbage in is a face loss, not a crash */
    double bad[3] = {NAN, 1, 1};
    sm_pos_push_rgb(pos, t + 0.03, bad);
    sm_pos_estimate(pos, &r);
    ck_assert(!r.valid);
    sm_pos_free(pos);
    sm_pos_free(NULL);
}
END_TEST

/* ---- pixel level ---------------------------------------------------------------- */

typedef struct {
    int w, h, n_skin;
    uint8_t *rgb, *mask;
    float lm[478 * 2];
} face_fixture;

static void *read_fixture(const char *name, size_t want)
{
    const char *p = sm_test_fixture(name);
    ck_assert_msg(p != NULL, "fixture %s missing (tests/gen/gen_analysis_pos.py)", name);
    uint8_t *buf;
    size_t len;
    sm_error err;
    ck_assert_msg(sm_file_read_all(p, 0, &buf, &len, &err) == SM_OK, "%s", err.msg);
    ck_assert_msg(len == want, "%s: %zu bytes, want %zu", name, len, want);
    return buf;
}

static void load_face(face_fixture *f)
{
    const char *p = sm_test_fixture("analysis_pos_face.txt");
    ck_assert_msg(p != NULL, "fixture missing (tests/gen/gen_analysis_pos.py)");
    FILE *fh = fopen(p, "r");
    ck_assert_ptr_nonnull(fh);
    ck_assert_int_eq(fscanf(fh, "%d %d %d", &f->w, &f->h, &f->n_skin), 3);
    for (int i = 0; i < 478; i++)
        ck_assert_int_eq(fscanf(fh, "%f %f", &f->lm[2 * i], &f->lm[2 * i + 1]), 2);
    fclose(fh);
    f->rgb = read_fixture("analysis_pos_face.rgb", (size_t)f->w * f->h * 3);
    f->mask = read_fixture("analysis_pos_face.mask", (size_t)f->w * f->h);
}

/* One frame: the photo shifted by (dx, dy) whole pixels (edges clamped), skin
 * pixels modulated by the pulse, global lighting, sensor noise, 8-bit. */
static void render(const face_fixture *f, uint8_t *out, int dx, int dy, double pulse,
                   double light)
{
    for (int y = 0; y < f->h; y++) {
        int sy = y - dy < 0 ? 0 : (y - dy >= f->h ? f->h - 1 : y - dy);
        for (int x = 0; x < f->w; x++) {
            int sx = x - dx < 0 ? 0 : (x - dx >= f->w ? f->w - 1 : x - dx);
            size_t si = (size_t)sy * f->w + sx;
            for (int c = 0; c < 3; c++) {
                double v = f->rgb[3 * si + c] * light;
                if (f->mask[si])
                    v *= 1.0 + sm_test_pbv[c] * pulse;
                v += 2.0 * sm_test_gauss();
                v = floor(v + 0.5);
                out[3 * ((size_t)y * f->w + x) + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
}

static const double video_rates[] = {66, 84, 108};

/* SM_TEST_QUICK (emulators): the middle rate only; the rate sweeps of the
 * estimator itself run on traces in known_rates_from_traces. */
START_TEST(synthetic_video_from_photo)
{
    if (sm_test_quick() && _i != 1)
        return;
    face_fixture f;
    load_face(&f);
    sm_test_seed(4242 + (uint64_t)_i);
    double bpm = video_rates[_i];
    uint8_t *frame = malloc((size_t)f.w * f.h * 3);
    sm_pos *pos;
    ck_assert_int_eq(sm_pos_init(&pos, NULL), SM_OK);

    /* the polygons land on skin: mostly skin pixels by the generator's map */
    double m[3];
    size_t npx = sm_pos_skin_mean(f.rgb, f.w, f.h, (size_t)f.w * 3, f.lm, 478, 2, m);
    ck_assert_msg(npx > 400, "only %zu skin pixels in the polygons", npx);
    ck_assert(m[0] > m[1] && m[1] > m[2]);

    double t = 0;
    float lm[478 * 2];
    while (t < 15.0) {
        int dx = (int)lround(2.0 * sin(2 * M_PI * 0.23 * t));
        int dy = (int)lround(1.5 * sin(2 * M_PI * 0.17 * t + 1.0));
        double light = 1.0 + 0.04 * sin(2 * M_PI * 0.05 * t);
        render(&f, frame, dx, dy, 0.008 * sin(2 * M_PI * bpm / 60.0 * t), light);
        for (int i = 0; i < 478; i++) {
            lm[2 * i] = f.lm[2 * i] + dx + sm_test_uniform(-0.4f, 0.4f);
            lm[2 * i + 1] = f.lm[2 * i + 1] + dy + sm_test_uniform(-0.4f, 0.4f);
        }
        sm_pos_push_frame(pos, t, frame, f.w, f.h, (size_t)f.w * 3, lm, 478, 2);
        t = next_t(t);
    }
    sm_pos_reading r;
    sm_pos_estimate(pos, &r);
    ck_assert(r.valid);
    ck_assert_msg(fabs(r.bpm - bpm) <= 3.0, "video %.0f BPM -> POS %.2f BPM", bpm, r.bpm);
    printf("POS video %.0f BPM -> %.2f BPM, quality %.1f dB\n", bpm, r.bpm, r.quality_db);
    sm_pos_free(pos);
    free(frame);
    free(f.rgb);
    free(f.mask);
}
END_TEST

static void count_px(void *ctx, int x, int y)
{
    int *c = ctx;
    c[0]++;
    c[1] += x;
    c[2] += y;
}

START_TEST(polygon_rasterizer)
{
    /* axis-aligned 10x4 rectangle at pixel edges: exactly 40 pixels */
    const double rect[8] = {2, 3, 12, 3, 12, 7, 2, 7};
    int c[3] = {0, 0, 0};
    sm_polygon_rasterize(rect, 4, 100, 100, count_px, c);
    ck_assert_int_eq(c[0], 40);
    ck_assert_int_eq(c[1], 4 * (2 + 11) * 10 / 2);
    /* triangle area ~ pixel count; clipped at the frame border */
    const double tri[6] = {5, 5, 85, 35, 35, 105};
    int d[3] = {0, 0, 0};
    sm_polygon_rasterize(tri, 3, 1000, 1000, count_px, d);
    double area = 0.5 * fabs(80.0 * 100.0 - 30.0 * 30.0);
    ck_assert_msg(fabs(d[0] - area) < 0.02 * area, "%d px vs area %.1f", d[0], area);
    int e[3] = {0, 0, 0};
    sm_polygon_rasterize(tri, 3, 30, 30, count_px, e);
    ck_assert(e[0] > 0 && e[0] <= 900 && e[0] < d[0]);
    /* wild coordinates are clipped, never converted out of range */
    const double far[8] = {-1e30, -1e30, 1e30, -1e30, 1e30, 1e30, -1e30, 1e30};
    int h[3] = {0, 0, 0};
    sm_polygon_rasterize(far, 4, 20, 10, count_px, h);
    ck_assert_int_eq(h[0], 200);
    const double off[6] = {1e30, 1e30, 2e30, 1e30, 1e30, 3e30};
    const double left[6] = {-1e30, 2, -2e30, 5, -1e30, 8};
    int k[3] = {0, 0, 0};
    sm_polygon_rasterize(off, 3, 20, 10, count_px, k);
    sm_polygon_rasterize(left, 3, 20, 10, count_px, k);
    ck_assert_int_eq(k[0], 0);
    /* a non-finite vertex or too few vertices: nothing */
    const double bad[6] = {0, 0, NAN, 5, 5, 5};
    int g[3] = {0, 0, 0};
    sm_polygon_rasterize(bad, 3, 30, 30, count_px, g);
    sm_polygon_rasterize(rect, 2, 30, 30, count_px, g);
    ck_assert_int_eq(g[0], 0);
}
END_TEST

START_TEST(net_preprocessing_matches_cv2_transcription)
{
    const char *p = sm_test_fixture("analysis_rppg_pre.txt");
    ck_assert_msg(p != NULL, "fixture missing (tests/gen/gen_analysis_pos.py)");
    FILE *fh = fopen(p, "r");
    int w, h;
    ck_assert_int_eq(fscanf(fh, "%d %d", &w, &h), 2);
    fclose(fh);
    uint8_t *in = read_fixture("analysis_rppg_pre_in.rgb", (size_t)w * h * 3);
    float *ref = read_fixture("analysis_rppg_pre_ref.f32", 36 * 36 * 3 * sizeof(float));
    float out[36 * 36 * 3];
    sm_rppg_preprocess(in, w, h, (size_t)w * 3, out);
    int off = 0;
    for (int i = 0; i < 36 * 36 * 3; i++) {
        float d = fabsf(out[i] - ref[i]);
        ck_assert_msg(d <= 1.0f / 255.0f + 1e-6f, "element %d: %g vs %g", i, out[i], ref[i]);
        off += d > 1e-6f;
    }
    ck_assert_msg(off < 20, "%d elements off by one level", off);
    free(in);
    free(ref);
}
END_TEST

START_TEST(net_ring_schedule)
{
    sm_rppg_frames *b;
    ck_assert_int_eq(sm_rppg_frames_init(&b, NULL), SM_OK);
    /* 4x2 frames whose colour encodes the frame number */
    uint8_t px[4 * 2 * 3];
    int due = 0, first_due = -1;
    for (int n = 1; n <= 400; n++) {
        memset(px, n & 0xff, sizeof px);
        bool d = sm_rppg_frames_push(b, px, 4, 2, 12);
        ck_assert_int_eq(sm_rppg_frames_count(b), n < 180 ? n : 180);
        if (d) {
            due++;
            if (first_due < 0)
                first_due = n;
            ck_assert_int_eq(n % 10, 0);
        }
    }
    ck_assert_int_eq(first_due, 180);
    ck_assert_int_eq(due, (400 - 180) / 10 + 1);
    const float *fr = sm_rppg_frames_ordered(b);
    for (int i = 0; i < 180; i++) {
        int n = 400 - 179 + i;
        ck_assert(fabsf(fr[(size_t)i * 36 * 36 * 3 + 7] - (float)(n & 0xff) / 255.0f) < 1e-6f);
    }
    sm_rppg_frames_reset(b);
    ck_assert_int_eq(sm_rppg_frames_count(b), 0);
    sm_rppg_frames_free(b);
    sm_rppg_frames_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pos");
    TCase *tc = tcase_create("pos");
    tcase_add_loop_test(tc, known_rates_from_traces, 0, 5);
    tcase_add_test(tc, quality_separates_signal_from_noise);
    tcase_add_test(tc, needs_five_seconds_and_restarts);
    tcase_add_loop_test(tc, synthetic_video_from_photo, 0, 3);
    tcase_add_test(tc, polygon_rasterizer);
    tcase_add_test(tc, net_preprocessing_matches_cv2_transcription);
    tcase_add_test(tc, net_ring_schedule);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}
