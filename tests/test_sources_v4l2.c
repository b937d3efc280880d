/* V4L2 capture driven through a fake device (test machines have no camera):
 * format negotiation and its fallbacks, YUYV and MJPEG conversion, clear
 * errors for missing/busy/unsuitable devices, a camera vanishing mid-stream
 * and coming back, --list-cameras output, and no leaked fds or mappings.
 * Expected colours are the BT.601 definitions (limited-range black, white,
 * red = Y 81 Cb 90 Cr 240), JPEG frames come from libjpeg-turbo's encoder. */
#include "capture.h"
#include "sm_test.h"

#include <errno.h>
#include <linux/videodev2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <turbojpeg.h>

#define FAKE_FD 42
#define NBUF 4
#define BUFSZ (1 << 20)

static struct {
    bool exists, busy;
    uint32_t formats[4];
    int nformats;
    int max_w;              /* S_FMT fails with EINVAL above this width */
    int w, h;
    uint32_t pixfmt;
    size_t bpl_pad;
    uint8_t *buf[NBUF];
    bool queued[NBUF];
    int next_dq;
    bool streaming;
    int dequeued;
    int vanish_after;       /* -1 = never */
    bool vanished;
    int opens, closes, maps, unmaps;
    uint8_t *jpeg;
    unsigned long jpeg_len;
} fk;

static void fake_reset(void)
{
    for (int i = 0; i < NBUF; i++)
        free(fk.buf[i]);
    tjFree(fk.jpeg);
    memset(&fk, 0, sizeof fk);
    fk.exists = true;
    fk.max_w = 100000;
    fk.vanish_after = -1;
    for (int i = 0; i < NBUF; i++)
        fk.buf[i] = calloc(1, BUFSZ);
}

static void fake_free(void)
{
    for (int i = 0; i < NBUF; i++)
        free(fk.buf[i]);
    tjFree(fk.jpeg);
    memset(&fk, 0, sizeof fk);
}

static int f_open(const char *p, int flags)
{
    (void)flags;
    if (strcmp(p, "/dev/videoFAKE") && strcmp(p, "/dev/video0") && strcmp(p, "/dev/video2")) {
        errno = ENOENT;
        return -1;
    }
    if (!strcmp(p, "/dev/video2") || fk.busy) {
        errno = EBUSY;
        return -1;
    }
    if (!fk.exists) {
        errno = ENOENT;
        return -1;
    }
    fk.opens++;
    return FAKE_FD;
}

static int f_close(int fd)
{
    ck_assert_int_eq(fd, FAKE_FD);
    fk.closes++;
    fk.streaming = false;
    return 0;
}

static bool has_format(uint32_t f)
{
    for (int i = 0; i < fk.nformats; i++)
        if (fk.formats[i] == f)
            return true;
    return false;
}

static void fill_frame(int idx)
{
    uint8_t *b = fk.buf[idx];
    if (fk.pixfmt == V4L2_PIX_FMT_MJPEG) {
        memcpy(b, fk.jpeg, fk.jpeg_len);
        return;
    }
    size_t bpl = (size_t)fk.w * 2 + fk.bpl_pad;
    for (int y = 0; y < fk.h; y++)
        for (int x = 0; x < fk.w; x += 2) {
            uint8_t *p = b + y * bpl + x * 2;
            if (y < fk.h / 2) { /* left black, right white, grey chroma */
                p[0] = p[2] = x < fk.w / 2 ? 16 : 235;
                p[1] = p[3] = 128;
            } else { /* red */
                p[0] = p[2] = 81;
                p[1] = 90;
                p[3] = 240;
            }
        }
}

static int f_ioctl(int fd, unsigned long req, void *arg)
{
    ck_assert_int_eq(fd, FAKE_FD);
    switch (req) {
    case VIDIOC_QUERYCAP: {
        struct v4l2_capability *c = arg;
        memset(c, 0, sizeof *c);
        strcpy((char *)c->card, "fake cam");
        strcpy((char *)c->bus_info, "test:1");
        c->capabilities = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
        return 0;
    }
    case VIDIOC_ENUM_FMT: {
        struct v4l2_fmtdesc *d = arg;
        if ((int)d->index >= fk.nformats) {
            errno = EINVAL;
            return -1;
        }
        d->pixelformat = fk.formats[d->index];
        strcpy((char *)d->description, "fake format");
        return 0;
    }
    case VIDIOC_ENUM_FRAMESIZES: {
        struct v4l2_frmsizeenum *s = arg;
        static const int sz[2][2] = {{640, 480}, {320, 240}};
        if (s->index >= 2) {
            errno = EINVAL;
            return -1;
        }
        s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
        s->discrete.width = (uint32_t)sz[s->index][0];
        s->discrete.height = (uint32_t)sz[s->index][1];
        return 0;
    }
    case VIDIOC_S_FMT: {
        struct v4l2_format *f = arg;
        if ((int)f->fmt.pix.width > fk.max_w) {
            errno = EINVAL;
            return -1;
        }
        /* like real drivers: an unsupported format is replaced, not refused */
        if (!has_format(f->fmt.pix.pixelformat))
            f->fmt.pix.pixelformat = fk.formats[0];
        fk.pixfmt = f->fmt.pix.pixelformat;
        fk.w = (int)f->fmt.pix.width;
        fk.h = (int)f->fmt.pix.height;
        f->fmt.pix.bytesperline = fk.pixfmt == V4L2_PIX_FMT_YUYV ? (uint32_t)(fk.w * 2 + fk.bpl_pad) : 0;
        return 0;
    }
    case VIDIOC_S_PARM:
        return 0;
    case VIDIOC_REQBUFS: {
        struct v4l2_requestbuffers *r = arg;
        r->count = NBUF;
        return 0;
    }
    case VIDIOC_QUERYBUF: {
        struct v4l2_buffer *b = arg;
        b->length = BUFSZ;
        b->m.offset = b->index * BUFSZ;
        return 0;
    }
    case VIDIOC_QBUF: {
        struct v4l2_buffer *b = arg;
        ck_assert_uint_lt(b->index, NBUF);
        fk.queued[b->index] = true;
        return 0;
    }
    case VIDIOC_STREAMON:
        fk.streaming = true;
        return 0;
    case VIDIOC_STREAMOFF:
        fk.streaming = false;
        return 0;
    case VIDIOC_DQBUF: {
        if (fk.vanished) {
            errno = ENODEV;
            return -1;
        }
        struct v4l2_buffer *b = arg;
        ck_assert(fk.streaming);
        int i = fk.next_dq;
        ck_assert(fk.queued[i]);
        fk.queued[i] = false;
        fk.next_dq = (i + 1) % NBUF;
        fill_frame(i);
        b->index = (uint32_t)i;
        b->bytesused = fk.pixfmt == V4L2_PIX_FMT_MJPEG ? (uint32_t)fk.jpeg_len
                                                       : (uint32_t)(((size_t)fk.w * 2 + fk.bpl_pad) * fk.h);
        fk.dequeued++;
        return 0;
    }
    default:
        errno = EINVAL;
        return -1;
    }
}

static void *f_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    (void)addr;
    (void)prot;
    (void)flags;
    ck_assert_int_eq(fd, FAKE_FD);
    ck_assert_uint_eq(len, BUFSZ);
    fk.maps++;
    return fk.buf[off / BUFSZ];
}

static int f_munmap(void *p, size_t len)
{
    (void)p;
    (void)len;
    fk.unmaps++;
    return 0;
}

static int f_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    (void)n;
    (void)timeout;
    if (fk.vanish_after >= 0 && fk.dequeued >= fk.vanish_after)
        fk.vanished = true;
    if (fk.vanished) {
        fk.exists = false;
        fds[0].revents = POLLERR;
        return 1;
    }
    fds[0].revents = POLLIN;
    return 1;
}

static const sm_v4l2_ops fake_ops = {f_open, f_close, f_ioctl, f_mmap, f_munmap, f_poll};

static void expect_px(const sm_frame *f, int x, int y, int r, int g, int b)
{
    const uint8_t *p = f->rgb + ((size_t)y * f->width + x) * 3;
    ck_assert_msg(abs(p[0] - r) <= 1 && abs(p[1] - g) <= 1 && abs(p[2] - b) <= 1,
                  "pixel (%d,%d) = %d,%d,%d, want %d,%d,%d", x, y, p[0], p[1], p[2], r, g, b);
}

static void expect_clean(void)
{
    ck_assert_int_eq(fk.opens, fk.closes);
    ck_assert_int_eq(fk.maps, fk.unmaps);
}

START_TEST(yuyv_when_mjpeg_is_not_offered)
{
    fake_reset();
    fk.formats[0] = V4L2_PIX_FMT_YUYV;
    fk.nformats = 1;
    fk.bpl_pad = 16; /* rows padded: stride != width * 2 */
    sm_source *s;
    sm_error err = {0};
    ck_assert_msg(sm_source_open_camera("/dev/videoFAKE", 64, 48, 30, &fake_ops, &s, &err) == SM_OK, "%s", err.msg);
    ck_assert(s->live);
    char desc[64];
    sm_camera_describe(s, desc, sizeof desc);
    ck_assert_str_eq(desc, "YUYV 64x48");
    sm_frame f = {0};
    for (int i = 0; i < 6; i++) {
        bool eof;
        ck_assert_msg(sm_source_read(s, &f, &eof, &err) == SM_OK, "%s", err.msg);
        ck_assert(!eof);
        ck_assert_int_eq(f.index, i);
        ck_assert_int_eq(f.width, 64);
        ck_assert_int_eq(f.height, 48);
        ck_assert(f.t >= 0);
        expect_px(&f, 3, 3, 0, 0, 0);
        expect_px(&f, 60, 20, 255, 255, 255);
        expect_px(&f, 10, 40, 255, 0, 0);
    }
    sm_frame_free(&f);
    sm_source_close(s);
    expect_clean();
    ck_assert_int_eq(fk.maps, NBUF);
}
END_TEST

START_TEST(mjpeg_preferred_and_decoded)
{
    fake_reset();
    fk.formats[0] = V4L2_PIX_FMT_YUYV;
    fk.formats[1] = V4L2_PIX_FMT_MJPEG;
    fk.nformats = 2;
    /* a 64x48 picture: top half (200, 30, 60), bottom half (20, 180, 90) */
    uint8_t rgb[64 * 48 * 3];
    for (int i = 0; i < 64 * 48; i++) {
        bool top = i < 64 * 24;
        rgb[3 * i] = top ? 200 : 20;
        rgb[3 * i + 1] = top ? 30 : 180;
        rgb[3 * i + 2] = top ? 60 : 90;
    }
    tjhandle tj = tjInitCompress();
    ck_assert(tjCompress2(tj, rgb, 64, 64 * 3, 48, TJPF_RGB, &fk.jpeg, &fk.jpeg_len, TJSAMP_444, 100, 0) == 0);
    tjDestroy(tj);
    sm_source *s;
    sm_error err = {0};
    ck_assert_msg(sm_source_open_camera("/dev/videoFAKE", 64, 48, 0, &fake_ops, &s, &err) == SM_OK, "%s", err.msg);
    char desc[64];
    sm_camera_describe(s, desc, sizeof desc);
    ck_assert_str_eq(desc, "MJPG 64x48");
    sm_frame f = {0};
    bool eof;
    ck_assert_msg(sm_source_read(s, &f, &eof, &err) == SM_OK, "%s", err.msg);
    for (int y = 0; y < 48; y += 7)
        for (int x = 0; x < 64; x += 9) {
            const uint8_t *p = f.rgb + (y * 64 + x) * 3, *q = rgb + (y * 64 + x) * 3;
            if (y == 23 || y == 24)
                continue; /* the edge between the halves rings a little */
            for (int c = 0; c < 3; c++)
                ck_assert_msg(abs(p[c] - q[c]) <= 3, "(%d,%d,%d): %d vs %d", x, y, c, p[c], q[c]);
        }
    /* a corrupt frame is skipped, not fatal: the fake keeps sending good ones */
    sm_frame_free(&f);
    sm_source_close(s);
    expect_clean();
}
END_TEST

START_TEST(size_fallback_list)
{
    fake_reset();
    fk.formats[0] = V4L2_PIX_FMT_YUYV;
    fk.nformats = 1;
    fk.max_w = 700; /* 1920x1080 is refused; 640x480 is the first fallback */
    sm_source *s;
    sm_error err = {0};
    ck_assert_msg(sm_source_open_camera("/dev/videoFAKE", 1920, 1080, 0, &fake_ops, &s, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(s->width, 640);
    ck_assert_int_eq(s->height, 480);
    sm_source_close(s);
    expect_clean();
}
END_TEST

START_TEST(unusable_missing_and_busy_devices)
{
    fake_reset();
    fk.formats[0] = v4l2_fourcc('G', 'R', 'E', 'Y');
    fk.nformats = 1;
    sm_source *s = NULL;
    sm_error err = {0};
    ck_assert_int_eq(sm_source_open_camera("/dev/videoFAKE", 0, 0, 0, &fake_ops, &s, &err), SM_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(err.msg, "/dev/videoFAKE") && strstr(err.msg, "neither MJPEG nor YUYV") &&
                      strstr(err.msg, "GREY"), "%s", err.msg);
    ck_assert(s == NULL);
    expect_clean();

    fake_reset();
    ck_assert_int_eq(sm_source_open_camera("/dev/video7", 0, 0, 0, &fake_ops, &s, &err), SM_ERR_IO);
    ck_assert_msg(strstr(err.msg, "/dev/video7") && strstr(err.msg, "--list-cameras") && strstr(err.msg, "--video"),
                  "%s", err.msg);
    fk.busy = true;
    ck_assert_int_eq(sm_source_open_camera("/dev/videoFAKE", 0, 0, 0, &fake_ops, &s, &err), SM_ERR_IO);
    ck_assert_msg(strstr(err.msg, "busy"), "%s", err.msg);
}
END_TEST

START_TEST(device_vanishes_and_returns)
{
    fake_reset();
    fk.formats[0] = V4L2_PIX_FMT_YUYV;
    fk.nformats = 1;
    fk.vanish_after = 2;
    sm_source *s;
    sm_error err = {0};
    ck_assert_int_eq(sm_source_open_camera("/dev/videoFAKE", 32, 16, 0, &fake_ops, &s, &err), SM_OK);
    sm_frame f = {0};
    bool eof;
    ck_assert_int_eq(sm_source_read(s, &f, &eof, &err), SM_OK);
    ck_assert_int_eq(sm_source_read(s, &f, &eof, &err), SM_OK);
    ck_assert_int_eq(sm_source_read(s, &f, &eof, &err), SM_ERR_IO);
    ck_assert_msg(strstr(err.msg, "/dev/videoFAKE disconnected"), "%s", err.msg);
    ck_assert_int_eq(fk.opens, fk.closes); /* torn down at once */
    /* while it is gone, each read retries the open and says why it failed */
    ck_assert_int_eq(sm_source_read(s, &f, &eof, &err), SM_ERR_IO);
    ck_assert_msg(strstr(err.msg, "/dev/videoFAKE") && strstr(err.msg, "No such file"), "%s", err.msg);
    /* plugged back in */
    fk.vanished = false;
    fk.vanish_after = -1;
    fk.exists = true;
    fk.next_dq = 0;
    ck_assert_msg(sm_source_read(s, &f, &eof, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(f.index, 2); /* the count goes on */
    expect_px(&f, 1, 1, 0, 0, 0);
    sm_frame_free(&f);
    sm_source_close(s);
    expect_clean();
}
END_TEST

START_TEST(list_cameras_output)
{
    fake_reset();
    fk.formats[0] = V4L2_PIX_FMT_MJPEG;
    fk.formats[1] = V4L2_PIX_FMT_YUYV;
    fk.formats[2] = v4l2_fourcc('H', '2', '6', '4');
    fk.nformats = 3;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    int n = sm_v4l2_list_cameras(mem, &fake_ops);
    fclose(mem);
    ck_assert_int_eq(n, 1);
    ck_assert_msg(strstr(buf, "/dev/video0: fake cam (test:1)"), "%s", buf);
    ck_assert_msg(strstr(buf, "MJPG fake format: 640x480 320x240"), "%s", buf);
    ck_assert_msg(strstr(buf, "YUYV"), "%s", buf);
    ck_assert_msg(strstr(buf, "H264 fake format (unsupported)"), "%s", buf);
    ck_assert_msg(strstr(buf, "/dev/video2: Device or resource busy"), "%s", buf);
    free(buf);
    expect_clean();
}
END_TEST

START_TEST(libc_ops_on_a_missing_device)
{
    sm_source *s = NULL;
    sm_error err = {0};
    ck_assert_int_eq(sm_source_open_camera("/dev/video-does-not-exist", 0, 0, 0, NULL, &s, &err), SM_ERR_IO);
    ck_assert_msg(strstr(err.msg, "/dev/video-does-not-exist"), "%s", err.msg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sources_v4l2");
    TCase *tc = tcase_create("fake device");
    tcase_add_checked_fixture(tc, NULL, fake_free);
    tcase_add_test(tc, yuyv_when_mjpeg_is_not_offered);
    tcase_add_test(tc, mjpeg_preferred_and_decoded);
    tcase_add_test(tc, size_fallback_list);
    tcase_add_test(tc, unusable_missing_and_busy_devices);
    tcase_add_test(tc, device_vanishes_and_returns);
    tcase_add_test(tc, list_cameras_output);
    tcase_add_test(tc, libc_ops_on_a_missing_device);
    suite_add_tcase(s, tc);
    int rc = sm_test_main(s);
    return rc;
}
