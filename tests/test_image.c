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
    float *srcf = malloc(37 * 23 * 3 * sizeof(float));
    for (int i = 0; i < 37 * 23 * 3; i++)
        srcf[i] = src[i];
    float *outf = malloc((size_t)w * h * 3 * sizeof(float));
    uint8_t *outu = malloc((size_t)w * h * 3);
    sm_image_resize_bilinear_f32(srcf, 37, 23, 37 * 3, outf, w, h, (size_t)w * 3, 3);
    sm_image_resize_bilinear_u8(src, 37, 23, 37 * 3, outu, w, h, (size_t)w * 3, 3);
    float maxd = 0;
    for (int i = 0; i < w * h * 3; i++) {
        float d = fabsf(outf[i] - ref[i]);
        maxd = d > maxd ? d : maxd;
        ck_assert_msg(abs((int)outu[i] - (int)lrintf(ref[i])) <= 1, "u8 %d: %d vs %f", i, outu[i], ref[i]);
    }
    ck_assert_msg(maxd <= 2e-3f, "resize %dx%d max abs diff %g", w, h, maxd);
    free(src); free(ref); free(srcf); free(outf); free(outu);
}
END_TEST

START_TEST(warp_matches_skimage)
{
    uint8_t *src = load("src_37x23.u8", 37 * 23 * 3);
    float *m = load("warp_m.f32", 6 * sizeof(float));
    float *ref = load("warp_32x28.f32", 32 * 28 * 3 * sizeof(float));
    float out[32 * 28 * 3];
    uint8_t outu[32 * 28 * 3];
    sm_image_warp_affine_u8_f32(src, 37, 23, 37 * 3, out, 32, 28, 32 * 3, 3, m, 1.0f, 0.0f);
    sm_image_warp_affine_u8(src, 37, 23, 37 * 3, outu, 32, 28, 32 * 3, 3, m);
    for (int i = 0; i < 32 * 28 * 3; i++) {
        ck_assert_msg(fabsf(out[i] - ref[i]) <= 2e-3f, "warp %d: %f vs %f", i, out[i], ref[i]);
        ck_assert(abs((int)outu[i] - (int)lrintf(ref[i])) <= 1);
    }
    free(src); free(m); free(ref);
}
END_TEST

START_TEST(rotated_rect_map_and_inverse)
{
    /* an unrotated rect equal to the source reproduces it; a rotation by pi
     * reproduces it flipped both ways */
    uint8_t *src = load("src_37x23.u8", 37 * 23 * 3);
    uint8_t out[37 * 23 * 3];
    float m[6], inv[6], back[6];
    sm_image_rotated_rect_map(18.0f, 11.0f, 37, 23, 0.0f, 37, 23, m);
    sm_image_warp_affine_u8(src, 37, 23, 37 * 3, out, 37, 23, 37 * 3, 3, m);
    ck_assert_int_eq(memcmp(out, src, sizeof out), 0);
    sm_image_rotated_rect_map(18.0f, 11.0f, 37, 23, (float)M_PI, 37, 23, m);
    sm_image_warp_affine_u8(src, 37, 23, 37 * 3, out, 37, 23, 37 * 3, 3, m);
    for (int y = 0; y < 23; y++)
        for (int x = 0; x < 37; x++)
            for (int c = 0; c < 3; c++)
                ck_assert_int_eq(out[(y * 37 + x) * 3 + c], src[((22 - y) * 37 + 36 - x) * 3 + c]);
    sm_image_rotated_rect_map(10.0f, 7.0f, 20, 30, 0.7f, 64, 64, m);
    ck_assert(sm_image_affine_invert(m, inv));
    ck_assert(sm_image_affine_invert(inv, back));
    for (int i = 0; i < 6; i++)
        ck_assert(fabsf(back[i] - m[i]) < 1e-4f * (1 + fabsf(m[i])));
    const float sing[6] = {1, 2, 0, 2, 4, 0};
    ck_assert(!sm_image_affine_invert(sing, inv));
    free(src);
}
END_TEST

START_TEST(crop_replicates_edges)
{
    uint8_t *src = load("src_37x23.u8", 37 * 23 * 3);
    uint8_t out[10 * 8 * 3];
    sm_image_crop_u8(src, 37, 23, 37 * 3, 3, 32, -3, 10, 8, out, 10 * 3);
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 10; x++) {
            int sx = 32 + x > 36 ? 36 : 32 + x, sy = y - 3 < 0 ? 0 : y - 3;
            ck_assert_int_eq(memcmp(out + (y * 10 + x) * 3, src + (sy * 37 + sx) * 3, 3), 0);
        }
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
    tcase_add_test(tc, rotated_rect_map_and_inverse);
    tcase_add_test(tc, crop_replicates_edges);
    tcase_add_test(tc, yuv_conversions);
    tcase_add_test(tc, swap_and_flip);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}
