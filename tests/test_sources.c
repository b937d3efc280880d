/* Source readers: Y4M variants, MJPEG AVI, image directories (JPEG + PNG),
 * against frames decoded independently by tests/gen/gen_viewer_sources.py
 * (skimage's BT.601 ycbcr2rgb, PIL's JPEG/PNG decoders); the handcrafted broken
 * files in tests/fixtures/sources-bad; and our PNG/BMP writers read back by PIL. */
#include "source_avi.h"
#include "source_open.h"
#include "source_y4m.h"
#include "sm_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint8_t *load_rgb(const char *rel, size_t *len)
{
    const char *p = sm_test_fixture(rel);
    ck_assert_msg(p != NULL, "fixture %s missing (tests/gen/gen_viewer_sources.py)", rel);
    uint8_t *buf;
    sm_error err;
    ck_assert_int_eq(sm_file_read_all(p, 0, &buf, len, &err), SM_OK);
    return buf;
}

/* Reads every frame; compares with the expected RGB stream within tol. */
static void check_frames(sm_source *s, const char *ref_rel, int n_expected, int w, int h, double fps, int tol)
{
    size_t len;
    uint8_t *ref = load_rgb(ref_rel, &len);
    ck_assert_uint_eq(len, (size_t)n_expected * w * h * 3);
    sm_frame f = {0};
    int n = 0;
    for (;;) {
        bool eof;
        sm_error err = {0};
        ck_assert_msg(sm_source_read(s, &f, &eof, &err) == SM_OK, "%s frame %d: %s", ref_rel, n, err.msg);
        if (eof)
            break;
        ck_assert_int_lt(n, n_expected);
        ck_assert_int_eq(f.width, w);
        ck_assert_int_eq(f.height, h);
        ck_assert_int_eq(f.index, n);
        ck_assert_msg(f.t > n / fps - 1e-9 && f.t < n / fps + 1e-9, "t %f for frame %d", f.t, n);
        const uint8_t *r = ref + (size_t)n * w * h * 3;
        int maxd = 0;
        for (size_t i = 0; i < (size_t)w * h * 3; i++) {
            int d = abs((int)f.rgb[i] - (int)r[i]);
            maxd = d > maxd ? d : maxd;
        }
        ck_assert_msg(maxd <= tol, "%s frame %d: max diff %d > %d", ref_rel, n, maxd, tol);
        n++;
    }
    ck_assert_int_eq(n, n_expected);
    bool eof;
    sm_error err;
    ck_assert_int_eq(sm_source_read(s, &f, &eof, &err), SM_OK); /* stays at the end */
    ck_assert(eof);
    sm_frame_free(&f);
    free(ref);
}

static const struct {
    const char *file;
    int n, w, h, tol;
} y4m_cases[] = {
    {"clip_420jpeg.y4m", 5, 64, 48, 1},   {"clip_420mpeg2.y4m", 5, 64, 48, 1}, {"clip_420odd.y4m", 3, 31, 17, 1},
    {"clip_420default.y4m", 2, 16, 8, 1}, {"clip_444.y4m", 5, 64, 48, 1},      {"clip_mono.y4m", 5, 64, 48, 1},
};

/* The generated fixture rel's bytes (malloc'ed); the test fails when it is unreadable. */
static uint8_t *fixture_bytes(const char *rel, size_t *n)
{
    uint8_t *buf = NULL;
    sm_error err;
    const char *path = sm_test_fixture(rel);
    ck_assert_msg(path && sm_file_read_all(path, 0, &buf, n, &err) == SM_OK, "fixture %s unreadable", rel);
    return buf;
}

static void write_bytes(const char *path, const void *buf, size_t n)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_msg(fp && fwrite(buf, 1, n, fp) == n, "cannot write %s", path);
    fclose(fp);
}

START_TEST(y4m_variants)
{
    char rel[128], ref[128];
    snprintf(rel, sizeof rel, "viewer/%s", y4m_cases[_i].file);
    snprintf(ref, sizeof ref, "viewer/%s.rgb", y4m_cases[_i].file);
    const char *p = sm_test_fixture(rel);
    ck_assert(p != NULL);
    sm_source *s;
    sm_error err = {0};
    ck_assert_msg(sm_source_open_video(p, 0, &s, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(s->width, y4m_cases[_i].w);
    ck_assert(!s->live);
    ck_assert(s->fps == 10.0);
    check_frames(s, ref, y4m_cases[_i].n, y4m_cases[_i].w, y4m_cases[_i].h, 10.0, y4m_cases[_i].tol);
    sm_source_close(s);
}
END_TEST

START_TEST(y4m_fps_override)
{
    sm_source *s;
    sm_error err = {0};
    ck_assert_int_eq(sm_source_open_y4m(sm_test_fixture("viewer/clip_420jpeg.y4m"), 4.0, &s, &err), SM_OK);
    check_frames(s, "viewer/clip_420jpeg.y4m.rgb", 5, 64, 48, 4.0, 1);
    sm_source_close(s);
}
END_TEST

START_TEST(avi_mjpeg)
{
    const char *files[2] = {"viewer/clip.avi", "viewer/clip_noidx.avi"};
    sm_source *s;
    sm_error err = {0};
    ck_assert_msg(sm_source_open_video(sm_test_fixture(files[_i]), 0, &s, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(s->width, 80);
    ck_assert_int_eq(s->height, 60);
    /* PIL and libjpeg-turbo share the islow IDCT and fancy upsampling */
    check_frames(s, "viewer/clip_avi.rgb", 6, 80, 60, 10.0, 2);
    sm_source_close(s);
}
END_TEST

START_TEST(image_directory)
{
    const char *dir = sm_test_fixture("viewer/images");
    ck_assert(dir != NULL);
    sm_source *s;
    sm_error err = {0};
    ck_assert_msg(sm_source_open_images(dir, 5.0, &s, &err) == SM_OK, "%s", err.msg);
    check_frames(s, "viewer/images.rgb", 6, 40, 30, 5.0, 2);
    sm_source_close(s);
    /* the PNGs (frames 1-4) are lossless: exact */
    size_t len;
    uint8_t *ref = load_rgb("viewer/images.rgb", &len);
    const char *names[4] = {"01.png", "02.png", "03.png", "04.png"};
    for (int i = 0; i < 4; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        uint8_t *buf;
        size_t n;
        ck_assert_int_eq(sm_file_read_all(p, 0, &buf, &n, &err), SM_OK);
        sm_frame f = {0};
        ck_assert_msg(sm_png_decode(buf, n, p, &f, &err) == SM_OK, "%s", err.msg);
        ck_assert_int_eq(memcmp(f.rgb, ref + (size_t)(i + 1) * 40 * 30 * 3, 40 * 30 * 3), 0);
        sm_frame_free(&f);
        free(buf);
    }
    free(ref);
    /* an empty directory and a missing one */
    const char *tmp = sm_test_tmpdir();
    ck_assert_int_eq(sm_source_open_images(tmp, 0, &s, &err), SM_ERR_IO);
    ck_assert_msg(strstr(err.msg, "no .jpg") != NULL, "%s", err.msg);
    ck_assert_int_eq(sm_source_open_images("/nonexistent/dir", 0, &s, &err), SM_ERR_IO);
    ck_assert(strstr(err.msg, "/nonexistent/dir") != NULL);
}
END_TEST

static const struct {
    const char *file, *expect;
} bad[] = {
    {"y4m_empty.y4m", "empty"},
    {"y4m_bad_magic.y4m", "not a Y4M"},
    {"y4m_no_newline.y4m", "bad Y4M header"},
    {"y4m_zero_size.y4m", "outside 1..8192"},
    {"y4m_absurd_size.y4m", "outside 1..8192"},
    {"y4m_negative.y4m", "outside 1..8192"},
    {"y4m_no_height.y4m", "lacks the H"},
    {"y4m_bad_number.y4m", "bad width"},
    {"y4m_bad_rate.y4m", "frame-rate"},
    {"y4m_bad_interlace.y4m", "interlace"},
    {"y4m_10bit.y4m", "not supported"},
    {"y4m_unknown_tag.y4m", "unknown header tag"},
    {"y4m_bad_frame_header.y4m", "expected a FRAME"},
    {"y4m_long_header.y4m", "bad Y4M header"},
    {"avi_not_riff.avi", "not an AVI"},
    {"avi_short.avi", "too short"},
    {"avi_truncated.avi", "truncated"},
    {"avi_zero_size.avi", "outside 1..8192"},
    {"avi_absurd_size.avi", "outside 1..8192"},
    {"avi_int32min_height.avi", "outside 1..8192"},
    {"avi_not_mjpeg.avi", "not MJPEG"},
    {"avi_no_movi.avi", "no movi"},
    {"avi_no_hdrl.avi", "hdrl"},
    {"avi_chunk_past_end.avi", "runs past"},
    {"avi_bad_jpeg.avi", "JPEG"},
    {"avi_not_jpeg.avi", "not a JPEG"},
    {"png_bad_signature.png", "not a PNG"},
    {"png_bad_crc.png", "CRC"},
    {"png_truncated.png", "truncated"},
    {"png_zero_size.png", "outside 1..8192"},
    {"png_absurd_size.png", "outside 1..8192"},
    {"png_interlaced.png", "interlaced"},
    {"png_16bit.png", "bit depth 16"},
    {"png_palette.png", "palette"},
    {"png_bad_zlib.png", "inflate"},
    {"png_short_data.png", "too short"},
    {"png_bad_filter.png", "filter type"},
    {"png_bad_adler.png", "Adler"},
    {"png_no_iend.png", "truncated"},
    {"jpeg_truncated.jpg", "JPEG"},
    {"jpeg_garbage.jpg", "JPEG"},
    {"jpeg_not_jpeg.jpg", "not a JPEG"},
};

START_TEST(rejects_bad_file)
{
    const char *path = sm_test_committedf("sources-bad/%s", bad[_i].file);
    const char *ext = strrchr(path, '.');
    sm_error err = {0};
    sm_status st;
    if (!strcmp(ext, ".png") || !strcmp(ext, ".jpg")) {
        uint8_t *buf;
        size_t n;
        ck_assert_int_eq(sm_file_read_all(path, 0, &buf, &n, &err), SM_OK);
        sm_frame f = {0};
        st = !strcmp(ext, ".png") ? sm_png_decode(buf, n, path, &f, &err) : sm_jpeg_decode(buf, n, path, &f, &err);
        sm_frame_free(&f);
        free(buf);
    } else {
        sm_source *s = NULL;
        st = !strcmp(ext, ".y4m") ? sm_source_open_y4m(path, 0, &s, &err) : sm_source_open_avi(path, 0, &s, &err);
        if (st == SM_OK) {
            sm_frame f = {0};
            bool eof = false;
            for (int i = 0; i < 100 && st == SM_OK && !eof; i++)
                st = sm_source_read(s, &f, &eof, &err);
            sm_frame_free(&f);
            sm_source_close(s);
        }
    }
    ck_assert_msg(st != SM_OK, "%s was accepted", bad[_i].file);
    ck_assert_msg(strstr(err.msg, bad[_i].expect) != NULL, "%s: message '%s' lacks '%s'", bad[_i].file, err.msg,
                  bad[_i].expect);
    ck_assert_msg(strstr(err.msg, bad[_i].file) != NULL, "%s: message '%s' does not name the file", bad[_i].file,
                  err.msg);
}
END_TEST

START_TEST(every_prefix_of_a_good_file_is_handled)
{
    /* truncating a real file anywhere gives an error or fewer frames, never a crash */
    const char *files[3] = {"viewer/clip_420odd.y4m", "viewer/clip_noidx.avi", "viewer/images/02.png"};
    size_t n;
    sm_error err;
    uint8_t *buf = fixture_bytes(files[_i], &n);
    const char *path = sm_test_tmpfile("cut");
    size_t step = n / 97 + 1;
    for (size_t k = 0; k < n; k += step) {
        if (_i == 2) {
            sm_frame f = {0};
            ck_assert_int_ne(sm_png_decode(buf, k, "cut.png", &f, &err), SM_OK);
            sm_frame_free(&f);
            continue;
        }
        write_bytes(path, buf, k);
        sm_source *s = NULL;
        if ((_i == 0 ? sm_source_open_y4m(path, 0, &s, &err) : sm_source_open_avi(path, 0, &s, &err)) != SM_OK)
            continue;
        sm_frame f = {0};
        bool eof = false;
        int frames = 0;
        while (sm_source_read(s, &f, &eof, &err) == SM_OK && !eof)
            frames++;
        ck_assert_int_le(frames, _i == 0 ? 3 : 6);
        sm_frame_free(&f);
        sm_source_close(s);
    }
    remove(path);
    free(buf);
}
END_TEST

START_TEST(video_dispatch_without_ffmpeg)
{
    const char *tmp = sm_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/movie.mp4", tmp);
    FILE *fp = fopen(path, "wb");
    static const char mp4[] = "\0\0\0\x18" "ftypmp42 not really";
    fwrite(mp4, 1, sizeof mp4 - 1, fp);
    fclose(fp);
    sm_source *s = NULL;
    sm_error err = {0};
    sm_status st = sm_source_open_video(path, 0, &s, &err);
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0) {
        ck_assert_int_eq(st, SM_ERR_UNSUPPORTED);
        ck_assert_msg(strstr(err.msg, "ffmpeg is not installed") != NULL, "%s", err.msg);
    } else {
        sm_test_skip("video_dispatch_without_ffmpeg", "ffmpeg is installed here");
        sm_source_close(s);
    }
    ck_assert_int_eq(sm_source_open_video("/nonexistent.y4m", 0, &s, &err), SM_ERR_IO);
    ck_assert(strstr(err.msg, "/nonexistent.y4m") != NULL);
}
END_TEST

START_TEST(png_and_bmp_writers_read_back_by_pil)
{
    enum { W = 37, H = 13 };
    uint8_t rgb[W * H * 3];
    sm_test_seed(7);
    for (size_t i = 0; i < sizeof rgb; i++)
        rgb[i] = (uint8_t)sm_test_uniform(0, 256);
    const char *tmp = sm_test_tmpdir();
    char png[4096], bmp[4096], raw[4096];
    snprintf(png, sizeof png, "%s/a.png", tmp);
    snprintf(bmp, sizeof bmp, "%s/a.bmp", tmp);
    snprintf(raw, sizeof raw, "%s/a.rgb", tmp);
    sm_error err;
    ck_assert_int_eq(sm_image_save(png, rgb, W, H, W * 3, &err), SM_OK);
    ck_assert_int_eq(sm_image_save(bmp, rgb, W, H, W * 3, &err), SM_OK);
    ck_assert_int_eq(sm_image_save("x.gif", rgb, W, H, W * 3, &err), SM_ERR_ARG);
    FILE *fp = fopen(raw, "wb");
    fwrite(rgb, 1, sizeof rgb, fp);
    fclose(fp);
    /* our decoder */
    uint8_t *buf;
    size_t n;
    ck_assert_int_eq(sm_file_read_all(png, 0, &buf, &n, &err), SM_OK);
    sm_frame f = {0};
    ck_assert_int_eq(sm_png_decode(buf, n, png, &f, &err), SM_OK);
    ck_assert_int_eq(memcmp(f.rgb, rgb, sizeof rgb), 0);
    sm_frame_free(&f);
    free(buf);
    /* an independent reader */
    const char *py = getenv("SM_PYTHON");
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "'%s' -c \"import sys, numpy as np; from PIL import Image; r=np.fromfile('%s',np.uint8).reshape(%d,%d,3); "
             "ok=all((np.asarray(Image.open(p).convert('RGB'))==r).all() for p in ('%s','%s')); sys.exit(0 if ok else 3)\"",
             py && *py ? py : "/usr/bin/python3", raw, H, W, png, bmp);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST


START_TEST(ffmpeg_pipe_with_a_stand_in)
{
    /* A stand-in `ffmpeg` on PATH that prints a Y4M stream: checks the command
     * line we run and that the pipe is read like a file. */
    const char *dir = sm_test_tmpdir();
    char script[4096], movie[4096], path[8192];
    snprintf(script, sizeof script, "%s/ffmpeg", dir);
    snprintf(movie, sizeof movie, "%s/it's a movie.mp4", dir);
    FILE *fp = fopen(movie, "w");
    fputs("not really", fp);
    fclose(fp);
    fp = fopen(script, "w");
    fprintf(fp, "#!/bin/sh\n"
                "[ \"$1 $2 $3 $4\" = \"-nostdin -loglevel error -i\" ] || exit 3\n"
                "[ -f \"$5\" ] || exit 4\n"
                "[ \"$6 $7 $8 $9 ${10}\" = \"-f yuv4mpegpipe -pix_fmt yuv420p -\" ] || exit 5\n"
                "cat '%s'\n", sm_test_fixture("viewer/clip_420jpeg.y4m"));
    fclose(fp);
    chmod(script, 0755);
    const char *old = getenv("PATH");
    snprintf(path, sizeof path, "%s:%s", dir, old ? old : "/usr/bin:/bin");
    setenv("PATH", path, 1);
    sm_source *s;
    sm_error err = {0};
    ck_assert_msg(sm_source_open_video(movie, 0, &s, &err) == SM_OK, "%s", err.msg);
    check_frames(s, "viewer/clip_420jpeg.y4m.rgb", 5, 64, 48, 10.0, 1);
    sm_source_close(s);
    /* ffmpeg failing (prints nothing) gives a clear error */
    fp = fopen(script, "w");
    fputs("#!/bin/sh\nexit 1\n", fp);
    fclose(fp);
    ck_assert_int_ne(sm_source_open_video(movie, 0, &s, &err), SM_OK);
    ck_assert_msg(strstr(err.msg, "ffmpeg could not decode it") && strstr(err.msg, "movie.mp4"), "%s", err.msg);
    setenv("PATH", old ? old : "/usr/bin:/bin", 1);
}
END_TEST

START_TEST(mutated_headers_never_crash)
{
    /* flip bytes in the headers of good files: errors or frames, never a crash (ASan) */
    const char *files[4] = {"viewer/clip_420mpeg2.y4m", "viewer/clip.avi", "viewer/images/01.png", "viewer/images/04.png"};
    size_t n;
    sm_error err;
    uint8_t *buf = fixture_bytes(files[_i], &n);
    const char *path = sm_test_tmpfile("m");
    sm_test_seed(1000 + (uint64_t)_i);
    uint8_t *m = malloc(n);
    size_t span = n < 400 ? n : 400;
    for (int round = 0; round < 150; round++) {
        memcpy(m, buf, n);
        for (int k = 0; k < 3; k++)
            m[(size_t)sm_test_uniform(0, (float)span) % span] = (uint8_t)sm_test_uniform(0, 256);
        sm_frame f = {0};
        bool eof = false;
        if (_i >= 2) {
            (void)sm_png_decode(m, n, "m.png", &f, &err);
        } else {
            write_bytes(path, m, n);
            sm_source *s = NULL;
            if ((_i == 0 ? sm_source_open_y4m(path, 0, &s, &err) : sm_source_open_avi(path, 0, &s, &err)) == SM_OK) {
                for (int i = 0; i < 10 && sm_source_read(s, &f, &eof, &err) == SM_OK && !eof; i++)
                    ;
                sm_source_close(s);
            }
        }
        sm_frame_free(&f);
    }
    free(m);
    free(buf);
    remove(path);
}
END_TEST

/* ---- truncated tails (issue 18) -------------------------------------------- */

/* Every frame of path via the registry, as one RGB stream; *truncated gets the
 * source's warning. Returns the frame count. */
static int read_all_frames(const char *path, uint8_t **rgb, size_t *bytes, char *truncated, size_t cap)
{
    sm_source *s = NULL;
    sm_error err = {0};
    ck_assert_msg(sm_source_open_video(path, 0, &s, &err) == SM_OK, "%s", err.msg);
    sm_frame f = {0};
    int n = 0;
    *rgb = NULL;
    *bytes = 0;
    for (;;) {
        bool eof;
        ck_assert_msg(sm_source_read(s, &f, &eof, &err) == SM_OK, "%s frame %d: %s", path, n, err.msg);
        if (eof)
            break;
        ck_assert_int_eq(f.index, n);
        size_t fb = (size_t)f.width * f.height * 3;
        *rgb = realloc(*rgb, *bytes + fb);
        memcpy(*rgb + *bytes, f.rgb, fb);
        *bytes += fb;
        n++;
    }
    bool eof = false;
    ck_assert_int_eq(sm_source_read(s, &f, &eof, &err), SM_OK); /* stays at the end */
    ck_assert(eof);
    snprintf(truncated, cap, "%s", s->truncated);
    sm_frame_free(&f);
    sm_source_close(s);
    return n;
}

/* Offset of the n-th (0-based) occurrence of a 4-byte tag, or -1. */
static long find_tag(const uint8_t *p, size_t len, const char *tag, int nth)
{
    for (size_t i = 0; i + 4 <= len; i++)
        if (!memcmp(p + i, tag, 4) && nth-- == 0)
            return (long)i;
    return -1;
}

START_TEST(truncated_tail_plays_the_frames_before)
{
    /* 0: Y4M cut mid-frame 3; 1: Y4M cut inside the 4th FRAME header;
     * 2: AVI cut inside the last frame's chunk; 3: AVI whose last frame is a
     * broken JPEG (its bytes after the SOI marker zeroed, as a recorder killed
     * before writing them leaves it) */
    const char *src = _i < 2 ? "viewer/clip_420jpeg.y4m" : "viewer/clip_noidx.avi";
    const int whole = _i < 2 ? 5 : 6, kept = _i < 2 ? 3 : 5;
    size_t n;
    uint8_t *buf = fixture_bytes(src, &n);
    uint8_t *ref;
    size_t ref_bytes;
    char warn[SM_ERROR_MAX];
    ck_assert_int_eq(read_all_frames(sm_test_fixture(src), &ref, &ref_bytes, warn, sizeof warn), whole);
    ck_assert_str_eq(warn, "");
    size_t cut = n;
    if (_i == 0) {
        cut = (size_t)find_tag(buf, n, "FRAM", 3) + 6 + 100; /* 100 bytes into frame 3's planes */
    } else if (_i == 1) {
        cut = (size_t)find_tag(buf, n, "FRAM", 3) + 3;
    } else {
        long last = find_tag(buf, n, "00dc", whole - 1);
        ck_assert_int_gt(last, 0);
        if (_i == 2)
            cut = (size_t)last + 8 + 200;
        else
            memset(buf + last + 8 + 2, 0, (size_t)(buf[last + 4] | buf[last + 5] << 8) - 2);
    }
    const char *ext = _i < 2 ? "y4m" : "avi";
    char path[4096];
    snprintf(path, sizeof path, "%s/cut.%s", sm_test_tmpdir(), ext);
    write_bytes(path, buf, cut);
    uint8_t *got;
    size_t got_bytes;
    ck_assert_int_eq(read_all_frames(path, &got, &got_bytes, warn, sizeof warn), kept);
    /* the frames before the cut are the untouched file's frames, bit for bit */
    ck_assert_uint_eq(got_bytes, ref_bytes / whole * kept);
    ck_assert(memcmp(got, ref, got_bytes) == 0);
    char expect[4200];
    snprintf(expect, sizeof expect, "%s: truncated after frame %d; stopping", path, kept - 1);
    ck_assert_msg(strstr(warn, expect) == warn, "warning '%s' lacks '%s'", warn, expect);
    free(got);
    free(ref);
    free(buf);
}
END_TEST

START_TEST(truncated_inside_the_first_frame_is_an_error)
{
    size_t n;
    uint8_t *buf = fixture_bytes("viewer/clip_420jpeg.y4m", &n);
    char path[4096];
    snprintf(path, sizeof path, "%s/first.y4m", sm_test_tmpdir());
    write_bytes(path, buf, (size_t)find_tag(buf, n, "FRAM", 0) + 6 + 10);
    sm_source *s = NULL;
    sm_error err = {0};
    ck_assert_int_eq(sm_source_open_video(path, 0, &s, &err), SM_OK);
    sm_frame f = {0};
    bool eof = false;
    ck_assert_int_eq(sm_source_read(s, &f, &eof, &err), SM_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "first frame"), "%s", err.msg);
    sm_frame_free(&f);
    sm_source_close(s);
    free(buf);
}
END_TEST

/* ---- AVI of another codec: through ffmpeg (issue 18) ------------------------ */

/* clip_noidx.avi relabelled DIVX (strh handler and strf compression): what a
 * DivX AVI looks like to the container reader. */
static void make_divx_label(const char *path)
{
    size_t n;
    uint8_t *buf = fixture_bytes("viewer/clip_noidx.avi", &n);
    int changed = 0;
    for (long at; (at = find_tag(buf, n, "MJPG", 0)) >= 0; changed++)
        memcpy(buf + at, "DIVX", 4);
    ck_assert_int_eq(changed, 2);
    write_bytes(path, buf, n);
    free(buf);
}

START_TEST(non_mjpeg_avi_goes_to_ffmpeg)
{
    const char *dir = sm_test_tmpdir();
    char movie[4096], script[8300], path[8192];
    snprintf(movie, sizeof movie, "%s/divx.avi", dir);
    make_divx_label(movie);
    const char *old = getenv("PATH");
    char *saved = strdup(old ? old : "/usr/bin:/bin");
    /* no ffmpeg at all: the error names the codec and says ffmpeg is needed */
    snprintf(path, sizeof path, "%s/empty-bin", dir);
    mkdir(path, 0755);
    setenv("PATH", path, 1);
    sm_source *s = NULL;
    sm_error err = {0};
    ck_assert_int_eq(sm_source_open_video(movie, 0, &s, &err), SM_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, movie) && strstr(err.msg, "'DIVX'") && strstr(err.msg, "ffmpeg is needed"), "%s",
                  err.msg);
    /* a stand-in ffmpeg (CI has none): the AVI is handed to it like an MP4 */
    snprintf(script, sizeof script, "%s/ffmpeg", path);
    FILE *fp = fopen(script, "w");
    fprintf(fp, "#!/bin/sh\n[ \"$5\" = '%s' ] || exit 4\ncat '%s'\n", movie, sm_test_fixture("viewer/clip_420jpeg.y4m"));
    fclose(fp);
    chmod(script, 0755);
    snprintf(path, sizeof path, "%s/empty-bin:%s", dir, saved);
    setenv("PATH", path, 1);
    ck_assert_msg(sm_source_open_video(movie, 0, &s, &err) == SM_OK, "%s", err.msg);
    check_frames(s, "viewer/clip_420jpeg.y4m.rgb", 5, 64, 48, 10.0, 1);
    sm_source_close(s);
    unlink(script);
    setenv("PATH", saved, 1);
    free(saved);
}
END_TEST

START_TEST(real_divx_avi_through_real_ffmpeg)
{
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0) {
        sm_test_skip("real_divx_avi_through_real_ffmpeg", "ffmpeg is not installed");
        return;
    }
    char movie[4096], cmd[9000];
    snprintf(movie, sizeof movie, "%s/real_divx.avi", sm_test_tmpdir());
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -loglevel error -y -i '%s' -c:v mpeg4 -vtag DIVX -q:v 2 '%s'",
             sm_test_fixture("viewer/clip_420jpeg.y4m"), movie);
    ck_assert_int_eq(system(cmd), 0);
    sm_source *s = NULL;
    sm_error err = {0};
    ck_assert_msg(sm_source_open_video(movie, 0, &s, &err) == SM_OK, "%s", err.msg);
    /* MPEG-4 part 2 on 64x48 is lossy (27 levels measured at worst): a wrong
     * decode or frame order is off by far more */
    check_frames(s, "viewer/clip_420jpeg.y4m.rgb", 5, 64, 48, 10.0, 48);
    sm_source_close(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sources");
    TCase *tc = tcase_create("readers");
    tcase_add_loop_test(tc, y4m_variants, 0, (int)(sizeof y4m_cases / sizeof *y4m_cases));
    tcase_add_test(tc, y4m_fps_override);
    tcase_add_loop_test(tc, avi_mjpeg, 0, 2);
    tcase_add_test(tc, image_directory);
    tcase_add_loop_test(tc, rejects_bad_file, 0, (int)(sizeof bad / sizeof *bad));
    tcase_add_loop_test(tc, every_prefix_of_a_good_file_is_handled, 0, 3);
    tcase_add_test(tc, video_dispatch_without_ffmpeg);
    tcase_add_loop_test(tc, truncated_tail_plays_the_frames_before, 0, 4);
    tcase_add_test(tc, truncated_inside_the_first_frame_is_an_error);
    tcase_add_test(tc, non_mjpeg_avi_goes_to_ffmpeg);
    tcase_add_test(tc, real_divx_avi_through_real_ffmpeg);
    tcase_add_test(tc, png_and_bmp_writers_read_back_by_pil);
    tcase_add_test(tc, ffmpeg_pipe_with_a_stand_in);
    tcase_add_loop_test(tc, mutated_headers_never_crash, 0, 4);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}
