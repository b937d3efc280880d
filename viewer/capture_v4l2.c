/* V4L2 capture through an ops table (see capture.h for the policy). */
#include "capture.h"
#include "sm_image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CAM_BUFS 4

static int libc_open(const char *p, int flags) { return open(p, flags); }
static int libc_ioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do
        r = ioctl(fd, req, arg);
    while (r < 0 && errno == EINTR);
    return r;
}
const sm_v4l2_ops sm_v4l2_libc = {libc_open, close, libc_ioctl, mmap, munmap, poll};

typedef struct {
    const sm_v4l2_ops *ops;
    char dev[256];
    int fd;
    int req_w, req_h;
    double req_fps;
    uint32_t pixfmt;
    int w, h;
    size_t bpl;
    struct {
        void *p;
        size_t len;
    } buf[CAM_BUFS];
    int nbuf;
    bool streaming;
    double t0;
    int64_t next;
} cam;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fourcc_str(uint32_t f, char out[5])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)((f >> (8 * i)) & 0xff);
        out[i] = c >= 32 && c < 127 ? c : '?';
    }
    out[4] = '\0';
}

static void cam_stop(cam *c)
{
    if (c->fd < 0)
        return;
    if (c->streaming) {
        int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        c->ops->ioctl(c->fd, VIDIOC_STREAMOFF, &type);
        c->streaming = false;
    }
    for (int i = 0; i < c->nbuf; i++)
        if (c->buf[i].p && c->buf[i].p != MAP_FAILED)
            c->ops->munmap(c->buf[i].p, c->buf[i].len);
    c->nbuf = 0;
    c->ops->close(c->fd);
    c->fd = -1;
}

/* Lists the pixel formats a device offers, for the error message. */
static void list_formats(cam *c, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < 32; i++) {
        struct v4l2_fmtdesc fd;
        memset(&fd, 0, sizeof fd);
        fd.index = i;
        fd.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        if (c->ops->ioctl(c->fd, VIDIOC_ENUM_FMT, &fd) != 0)
            break;
        char cc[5];
        fourcc_str(fd.pixelformat, cc);
        int k = snprintf(out + n, cap - n, "%s%s", n ? ", " : "", cc);
        if (k < 0 || (size_t)k >= cap - n)
            break;
        n += (size_t)k;
    }
    if (!n)
        snprintf(out, cap, "none");
}

static sm_status cam_start(cam *c, sm_error *err)
{
    const sm_v4l2_ops *o = c->ops;
    c->fd = o->open(c->dev, O_RDWR | O_NONBLOCK);
    if (c->fd < 0) {
        int e = errno;
        const char *hint = e == ENOENT   ? "no such device; list cameras with --list-cameras, or use --video FILE / --images DIR"
                           : e == EBUSY  ? "the camera is busy: close the other program using it"
                           : e == EACCES ? "permission denied: add yourself to the 'video' group (then log in again)"
                                         : "check the cable and --list-cameras";
        return sm_error_set(err, SM_ERR_IO, "camera %s: %s (%s)", c->dev, strerror(e), hint);
    }
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof cap);
    if (o->ioctl(c->fd, VIDIOC_QUERYCAP, &cap) != 0) {
        int e = errno;
        cam_stop(c);
        return sm_error_set(err, SM_ERR_IO, "camera %s: not a V4L2 device (%s)", c->dev, strerror(e));
    }
    uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
        cam_stop(c);
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "camera %s: not a streaming video capture device "
                            "(try another /dev/videoN: --list-cameras)", c->dev);
    }

    /* negotiation: requested size first, then the fallbacks; MJPEG before YUYV */
    int sizes[4][2] = {{c->req_w > 0 ? c->req_w : 640, c->req_h > 0 ? c->req_h : 480}, {640, 480}, {1280, 720}, {320, 240}};
    static const uint32_t fmts[2] = {V4L2_PIX_FMT_MJPEG, V4L2_PIX_FMT_YUYV};
    bool ok = false;
    for (int s = 0; s < 4 && !ok; s++) {
        for (int k = 0; k < 2 && !ok; k++) {
            struct v4l2_format f;
            memset(&f, 0, sizeof f);
            f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
            f.fmt.pix.width = (uint32_t)sizes[s][0];
            f.fmt.pix.height = (uint32_t)sizes[s][1];
            f.fmt.pix.pixelformat = fmts[k];
            f.fmt.pix.field = V4L2_FIELD_ANY;
            if (o->ioctl(c->fd, VIDIOC_S_FMT, &f) != 0 || f.fmt.pix.pixelformat != fmts[k])
                continue;
            int w = (int)f.fmt.pix.width, h = (int)f.fmt.pix.height;
            if (w <= 0 || h <= 0 || w > SM_SOURCE_MAX_DIM || h > SM_SOURCE_MAX_DIM || (fmts[k] == V4L2_PIX_FMT_YUYV && (w & 1)))
                continue;
            size_t bpl = f.fmt.pix.bytesperline;
            if (fmts[k] == V4L2_PIX_FMT_YUYV && bpl < (size_t)w * 2)
                bpl = (size_t)w * 2;
            c->pixfmt = fmts[k];
            c->w = w;
            c->h = h;
            c->bpl = bpl;
            ok = true;
        }
    }
    if (!ok) {
        char have[200];
        list_formats(c, have, sizeof have);
        cam_stop(c);
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "camera %s: offers neither MJPEG nor YUYV at any usable size "
                            "(formats: %s)", c->dev, have);
    }
    if (c->req_fps > 0) {
        struct v4l2_streamparm sp;
        memset(&sp, 0, sizeof sp);
        sp.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        sp.parm.capture.timeperframe.numerator = 1000;
        sp.parm.capture.timeperframe.denominator = (uint32_t)(c->req_fps * 1000.0 + 0.5);
        o->ioctl(c->fd, VIDIOC_S_PARM, &sp); /* best effort: many cameras fix the rate */
    }

    struct v4l2_requestbuffers rb;
    memset(&rb, 0, sizeof rb);
    rb.count = CAM_BUFS;
    rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    rb.memory = V4L2_MEMORY_MMAP;
    if (o->ioctl(c->fd, VIDIOC_REQBUFS, &rb) != 0 || rb.count < 1) {
        int e = errno;
        cam_stop(c);
        return sm_error_set(err, SM_ERR_IO, "camera %s: cannot get capture buffers (%s); is it busy?", c->dev,
                            strerror(e));
    }
    int n = rb.count > CAM_BUFS ? CAM_BUFS : (int)rb.count;
    for (int i = 0; i < n; i++) {
        struct v4l2_buffer b;
        memset(&b, 0, sizeof b);
        b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        b.memory = V4L2_MEMORY_MMAP;
        b.index = (uint32_t)i;
        if (o->ioctl(c->fd, VIDIOC_QUERYBUF, &b) != 0 || b.length == 0) {
            cam_stop(c);
            return sm_error_set(err, SM_ERR_IO, "camera %s: buffer %d query failed", c->dev, i);
        }
        void *p = o->mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, (off_t)b.m.offset);
        if (p == MAP_FAILED) {
            cam_stop(c);
            return sm_error_set(err, SM_ERR_IO, "camera %s: cannot map buffer %d", c->dev, i);
        }
        c->buf[i].p = p;
        c->buf[i].len = b.length;
        c->nbuf = i + 1;
        if (o->ioctl(c->fd, VIDIOC_QBUF, &b) != 0) {
            cam_stop(c);
            return sm_error_set(err, SM_ERR_IO, "camera %s: cannot queue buffer %d", c->dev, i);
        }
    }
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (o->ioctl(c->fd, VIDIOC_STREAMON, &type) != 0) {
        int e = errno;
        cam_stop(c);
        return sm_error_set(err, SM_ERR_IO, "camera %s: cannot start streaming (%s)", c->dev, strerror(e));
    }
    c->streaming = true;
    return SM_OK;
}

static sm_status cam_read(sm_source *s, sm_frame *f, bool *eof, sm_error *err)
{
    cam *c = s->impl;
    (void)eof;
    if (c->fd < 0) {
        sm_status st = cam_start(c, err);
        if (st != SM_OK)
            return st;
        s->width = c->w;
        s->height = c->h;
    }
    for (int tries = 0; tries < 8; tries++) {
        struct pollfd pfd = {c->fd, POLLIN, 0};
        int r = c->ops->poll(&pfd, 1, 2000);
        if (r < 0 && errno == EINTR)
            return sm_error_set(err, SM_ERR_IO, "camera %s: interrupted", c->dev);
        if (r == 0)
            return sm_error_set(err, SM_ERR_IO, "camera %s: no frame for 2 s", c->dev);
        if (r < 0 || (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))) {
            cam_stop(c);
            return sm_error_set(err, SM_ERR_IO, "camera %s disconnected", c->dev);
        }
        struct v4l2_buffer b;
        memset(&b, 0, sizeof b);
        b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        b.memory = V4L2_MEMORY_MMAP;
        if (c->ops->ioctl(c->fd, VIDIOC_DQBUF, &b) != 0) {
            int e = errno;
            if (e == EAGAIN)
                continue;
            cam_stop(c);
            return sm_error_set(err, SM_ERR_IO, "camera %s disconnected (%s)", c->dev, strerror(e));
        }
        if (b.index >= (uint32_t)c->nbuf || b.bytesused > c->buf[b.index].len) {
            cam_stop(c);
            return sm_error_set(err, SM_ERR_FORMAT, "camera %s: driver returned a bad buffer (index %u, %u bytes)",
                                c->dev, b.index, b.bytesused);
        }
        const uint8_t *data = c->buf[b.index].p;
        sm_status st;
        sm_error derr = {0};
        if (c->pixfmt == V4L2_PIX_FMT_MJPEG) {
            char what[300];
            snprintf(what, sizeof what, "camera %s frame %lld", c->dev, (long long)c->next);
            st = sm_jpeg_decode(data, b.bytesused, what, f, &derr);
        } else if (b.bytesused < c->bpl * (size_t)(c->h - 1) + (size_t)c->w * 2) {
            st = sm_error_set(&derr, SM_ERR_FORMAT, "camera %s: short YUYV frame (%u bytes)", c->dev, b.bytesused);
        } else if ((st = sm_frame_reserve(f, c->w, c->h, &derr)) == SM_OK) {
            sm_image_yuyv_to_rgb(data, c->bpl, c->w, c->h, f->rgb, (size_t)c->w * 3, false);
        }
        if (c->ops->ioctl(c->fd, VIDIOC_QBUF, &b) != 0) {
            cam_stop(c);
            return sm_error_set(err, SM_ERR_IO, "camera %s disconnected", c->dev);
        }
        if (st != SM_OK) {
            /* webcams send the odd broken frame: skip it, but not forever */
            if (tries == 7) {
                *err = derr;
                return st;
            }
            continue;
        }
        double t = mono_s();
        if (c->next == 0)
            c->t0 = t;
        f->index = c->next++;
        f->t = t - c->t0;
        return SM_OK;
    }
    return sm_error_set(err, SM_ERR_IO, "camera %s: no usable frame", c->dev);
}

static void cam_close(sm_source *s)
{
    cam *c = s->impl;
    if (!c)
        return;
    cam_stop(c);
    free(c);
}

static const sm_source_ops cam_ops = {cam_read, cam_close};

sm_status sm_source_open_camera(const char *dev, int w, int h, double fps, const sm_v4l2_ops *ops,
                                sm_source **out, sm_error *err)
{
    *out = NULL;
    sm_source *s = calloc(1, sizeof *s);
    cam *c = calloc(1, sizeof *c);
    if (!s || !c) {
        free(s);
        free(c);
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    }
    c->ops = ops ? ops : &sm_v4l2_libc;
    c->fd = -1;
    c->req_w = w;
    c->req_h = h;
    c->req_fps = fps;
    snprintf(c->dev, sizeof c->dev, "%s", dev);
    s->ops = &cam_ops;
    s->impl = c;
    s->live = true;
    s->fps = fps;
    snprintf(s->name, sizeof s->name, "%s", dev);
    sm_status st = cam_start(c, err);
    if (st != SM_OK) {
        sm_source_close(s);
        return st;
    }
    s->width = c->w;
    s->height = c->h;
    *out = s;
    return SM_OK;
}

void sm_camera_describe(const sm_source *s, char *buf, size_t cap)
{
    const cam *c = s->impl;
    char cc[5];
    fourcc_str(c->pixfmt, cc);
    snprintf(buf, cap, "%s %dx%d", cc, c->w, c->h);
}

int sm_v4l2_list_cameras(FILE *out, const sm_v4l2_ops *ops)
{
    if (!ops)
        ops = &sm_v4l2_libc;
    int found = 0;
    for (int i = 0; i < 64; i++) {
        char dev[32];
        snprintf(dev, sizeof dev, "/dev/video%d", i);
        int fd = ops->open(dev, O_RDWR | O_NONBLOCK);
        if (fd < 0) {
            if (errno == EBUSY || errno == EACCES)
                fprintf(out, "%s: %s\n", dev, strerror(errno));
            continue;
        }
        struct v4l2_capability cap;
        memset(&cap, 0, sizeof cap);
        if (ops->ioctl(fd, VIDIOC_QUERYCAP, &cap) == 0) {
            uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
            if (caps & V4L2_CAP_VIDEO_CAPTURE) {
                found++;
                fprintf(out, "%s: %.32s (%.32s)\n", dev, (const char *)cap.card, (const char *)cap.bus_info);
                for (uint32_t k = 0; k < 32; k++) {
                    struct v4l2_fmtdesc fd2;
                    memset(&fd2, 0, sizeof fd2);
                    fd2.index = k;
                    fd2.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
                    if (ops->ioctl(fd, VIDIOC_ENUM_FMT, &fd2) != 0)
                        break;
                    char cc[5];
                    fourcc_str(fd2.pixelformat, cc);
                    fprintf(out, "  %s %.32s%s:", cc, (const char *)fd2.description,
                            fd2.pixelformat == V4L2_PIX_FMT_MJPEG || fd2.pixelformat == V4L2_PIX_FMT_YUYV ? "" : " (unsupported)");
                    for (uint32_t j = 0; j < 64; j++) {
                        struct v4l2_frmsizeenum fs;
                        memset(&fs, 0, sizeof fs);
                        fs.index = j;
                        fs.pixel_format = fd2.pixelformat;
                        if (ops->ioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) != 0)
                            break;
                        if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
                            fprintf(out, " %ux%u", fs.discrete.width, fs.discrete.height);
                        } else {
                            fprintf(out, " %ux%u..%ux%u", fs.stepwise.min_width, fs.stepwise.min_height,
                                    fs.stepwise.max_width, fs.stepwise.max_height);
                            break;
                        }
                    }
                    fprintf(out, "\n");
                }
            }
        }
        ops->close(fd);
    }
    return found;
}
