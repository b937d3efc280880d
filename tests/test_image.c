/* engine/image against independent references made by tests/gen/gen_viewer_image_ref.py
 * (skimage resize/warp, skimage BT.601 ycbcr2rgb, PIL full-range YCbCr). */
#include "sm_image.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *load(const char *name, size_t bytes)
{
    char rel[256];
    snprintf(rel, sizeof rel, "image/%s", name);
    const char *p = sm_test_fixture(rel);
    ck_assert_msg(p != NULL, "fixture %s missing (run tests/gen/gen_viewer_image_ref.py)", rel);
    FILE *f = fopen(p, "rb");
    ck_assert(f != NULL);
    void *buf = malloc(bytes);
    ck_assert_uint_eq(fread(buf, 1, bytes, f), bytes);
    ck_assert_int_eq(fgetc(f), EOF);
    fclose(f);
    return buf;
}

static const int resize_sizes[4][2] = {{61, 40}, {17, 11}, {37, 23}, {5, 50}};

START_TEST(resize_matches_skimage)
{
    int w = resize_sizes[_i][0], h = resize_sizes[_i][1];
    uint8_t *src = load("src_37x23.u8", 37 * 23 * 3);
    char name[64];
    snprintf(name, sizeof name, "resize_%dx%d.f32", w, h);
    float *ref = load(name, (size_t)w * h * 3 * sizeof(float));
    float *outf = malloc((size_t)w * h * 3 * sizeof(float));
    uint8_t *outu = malloc((size_t)w * h * 3);
    sm_image_resize_bilinear_u8(src, 37, 23, 37 * 3, outu, w, h, (size_t)w * 3, 3);
    const float mean[3] = {0.25f, 0.5f, 0.0f}, std[3] = {0.5f, 2.0f, 1.0f};
    sm_image_resize_bilinear_u8_norm(src, 37, 23, 37 * 3, outf, w, h, (size_t)w * 3, 3, mean, std);
    for (int i = 0; i < w * h * 3; i++) {
        ck_assert_msg(abs((int)outu[i] - (int)lrintf(ref[i])) <= 1, "u8 %d: %d vs %f", i, outu[i], ref[i]);
        /* the float path rounds skimage's value to 8 bits, half up, as cv2 returns uint8 */
        float level = floorf(ref[i] + 0.5f), want = (level / 255.0f - mean[i % 3]) / std[i % 3];
        ck_assert_msg(fabsf(outf[i] - want) <= 1.0f / 255.0f / std[i % 3] + 1e-6f, "norm %d: %f vs %f", i, outf[i],
                      want);
        ck_assert_msg(outf[i] == want || fabsf(ref[i] - level) > 0.49f, "norm %d off a level away from a tie: %f", i,
                      ref[i]);
    }
    free(src); free(ref); free(outf); free(outu);
}
END_TEST

START_TEST(warp_matches_skimage)
{
    uint8_t *src = load("src_37x23.u8", 37 * 23 * 3);
    float *mf = load("warp_m.f32", 6 * sizeof(float));
    float *ref = load("warp_32x28.f32", 32 * 28 * 3 * sizeof(float));
    double m[6];
    for (int i = 0; i < 6; i++)
        m[i] = mf[i];
    float out[32 * 28 * 3];
    sm_image_warp_affine_u8_f32(src, 37, 23, 37 * 3, out, 32, 28, 32 * 3, 3, m, 1.0, 0.0, NULL);
    for (int i = 0; i < 32 * 28 * 3; i++)
        ck_assert_msg(fabsf(out[i] - ref[i]) <= 2e-3f, "warp %d: %f vs %f", i, out[i], ref[i]);
    free(src); free(mf); free(ref);
}
END_TEST

START_TEST(rotated_rect_map_and_border)
{
    /* an unrotated rect equal to the source reproduces it; a rotation by pi
     * reproduces it flipped both ways */
    uint8_t *src = load("src_37x23.u8", 37 * 23 * 3);
    float out[37 * 23 * 3];
    double m[6];
    sm_image_rotated_rect_map(18.0, 11.0, 37, 23, 0.0, 37, 23, m);
    sm_image_warp_affine_u8_f32(src, 37, 23, 37 * 3, out, 37, 23, 37 * 3, 3, m, 1.0, 0.0, NULL);
    for (int i = 0; i < 37 * 23 * 3; i++)
        ck_assert_msg(fabsf(out[i] - src[i]) < 1e-9f, "identity %d: %f vs %d", i, out[i], src[i]);
    sm_image_rotated_rect_map(18.0, 11.0, 37, 23, M_PI, 37, 23, m);
    sm_image_warp_affine_u8_f32(src, 37, 23, 37 * 3, out, 37, 23, 37 * 3, 3, m, 1.0, 0.0, NULL);
    for (int y = 0; y < 23; y++)
        for (int x = 0; x < 37; x++)
            for (int c = 0; c < 3; c++)
                ck_assert(fabsf(out[(y * 37 + x) * 3 + c] - src[((22 - y) * 37 + 36 - x) * 3 + c]) < 1e-6f);
    /* a constant border: a 41-wide square over the 37x23 image, 2 px of border
     * left and right, 9 above and below; the edge sample itself is inside */
    float sq[41 * 41 * 3];
    const float border = -7.0f;
    sm_image_rotated_rect_map(18.0, 11.0, 41, 41, 0.0, 41, 41, m);
    sm_image_warp_affine_u8_f32(src, 37, 23, 37 * 3, sq, 41, 41, 41 * 3, 3, m, 2.0, 1.0, &border);
    for (int y = 0; y < 41; y++)
        for (int x = 0; x < 41; x++) {
            int sx = x - 2, sy = y - 9;
            bool in = sx >= 0 && sx < 37 && sy >= 0 && sy < 23;
            for (int c = 0; c < 3; c++)
                ck_assert(sq[(y * 41 + x) * 3 + c] == (in ? src[(sy * 37 + sx) * 3 + c] * 2.0f + 1.0f : border));
        }
    /* any point, NaN and infinities included, samples an edge pixel */
    double px[3];
    const double pts[][2] = {{NAN, 3}, {INFINITY, -INFINITY}, {-1e300, 1e300}, {36.0, 22.0}};
    for (size_t k = 0; k < sizeof pts / sizeof *pts; k++) {
        sm_image_sample_bilinear_u8(src, 37, 23, 37 * 3, 3, pts[k][0], pts[k][1], px);
        for (int c = 0; c < 3; c++)
            ck_assert(px[c] >= 0.0 && px[c] <= 255.0);
    }
    ck_assert(px[0] == src[(22 * 37 + 36) * 3]);
    free(src);
}
END_TEST

static void expect_close(const uint8_t *got, const uint8_t *ref, size_t n, int tol, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(abs((int)got[i] - (int)ref[i]) <= tol, "%s byte %zu: %d vs %d", what, i, got[i], ref[i]);
}

START_TEST(yuv_conversions)
{
    enum { W = 16, H = 10 };
    uint8_t *y = load("yuv_y.u8", W * H), *u = load("yuv_u420.u8", W * H / 4),
            *v = load("yuv_v420.u8", W * H / 4);
    uint8_t *ref = load("rgb_i420_limited.u8", W * H * 3);
    uint8_t rgb[W * H * 3], nv[W * H / 2], yuyv[W * H * 2];
    sm_image_i420_to_rgb(y, W, u, W / 2, v, W / 2, W, H, rgb, W * 3, false);
    expect_close(rgb, ref, sizeof rgb, 1, "i420");
    for (int i = 0; i < W * H / 4; i++) {
        nv[2 * i] = u[i];
        nv[2 * i + 1] = v[i];
    }
    memset(rgb, 0, sizeof rgb);
    sm_image_nv12_to_rgb(y, W, nv, W, W, H, rgb, W * 3, false);
    expect_close(rgb, ref, sizeof rgb, 1, "nv12");
    free(u); free(v); free(ref);

    u = load("yuv_u422.u8", W * H / 2);
    v = load("yuv_v422.u8", W * H / 2);
    ref = load("rgb_yuyv_limited.u8", W * H * 3);
    for (int r = 0; r < H; r++)
        for (int p = 0; p < W / 2; p++) {
            uint8_t *o = yuyv + r * W * 2 + p * 4;
            o[0] = y[r * W + 2 * p];
            o[1] = u[r * W / 2 + p];
            o[2] = y[r * W + 2 * p + 1];
            o[3] = v[r * W / 2 + p];
        }
    sm_image_yuyv_to_rgb(yuyv, W * 2, W, H, rgb, W * 3, false);
    expect_close(rgb, ref, sizeof rgb, 1, "yuyv");
    free(u); free(v); free(ref);

    u = load("yuv_u444.u8", W * H);
    v = load("yuv_v444.u8", W * H);
    ref = load("rgb_444_full.u8", W * H * 3);
    sm_image_yuv444_to_rgb(y, u, v, W, W, H, rgb, W * 3, true);
    expect_close(rgb, ref, sizeof rgb, 1, "444 full");
    free(u); free(v); free(ref); free(y);
}
END_TEST

START_TEST(swap_and_flip)
{
    uint8_t px[5 * 2 * 3], out[5 * 2 * 3];
    for (int i = 0; i < 30; i++)
        px[i] = (uint8_t)(i * 7);
    sm_image_swap_rb(px, 15, 5, 2, out, 15);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(out[3 * i], px[3 * i + 2]);
        ck_assert_int_eq(out[3 * i + 1], px[3 * i + 1]);
        ck_assert_int_eq(out[3 * i + 2], px[3 * i]);
    }
    sm_image_swap_rb(out, 15, 5, 2, out, 15);
    ck_assert_int_eq(memcmp(out, px, 30), 0);
    sm_image_flip_h_u8(px, 15, 5, 2, 3, out, 15);
    for (int r = 0; r < 2; r++)
        for (int x = 0; x < 5; x++)
            ck_assert_int_eq(memcmp(out + r * 15 + x * 3, px + r * 15 + (4 - x) * 3, 3), 0);
    sm_image_flip_h_u8(out, 15, 5, 2, 3, out, 15);
    ck_assert_int_eq(memcmp(out, px, 30), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("ops");
    tcase_add_loop_test(tc, resize_matches_skimage, 0, 4);
    tcase_add_test(tc, warp_matches_skimage);
    tcase_add_test(tc, rotated_rect_map_and_border);
    tcase_add_test(tc, yuv_conversions);
    tcase_add_test(tc, swap_and_flip);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}
