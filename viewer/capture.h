/*
 * capture.h: V4L2 cameras. Every system call goes through an sm_v4l2_ops
 * table: sm_v4l2_libc points at the C library; the tests point it at a fake
 * device (tests/test_sources_v4l2.c) since test machines have no camera.
 *
 * Negotiation: the requested size (default 640x480) is tried with MJPEG, then
 * YUYV; then the fallback sizes 640x480, 1280x720, 320x240 (and whatever the
 * driver answers with). MJPEG frames are decoded with libjpeg-turbo, YUYV with
 * sm_image_yuyv_to_rgb (BT.601 limited range). Streaming uses 4 mmap buffers.
 *
 * A camera that disappears mid-run (ENODEV, EIO, poll error) makes read()
 * fail with a message; each later read() tries to reopen the device, so the
 * caller shows a banner and simply calls read() again once a second.
 */
#ifndef SM_VIEWER_CAPTURE_H
#define SM_VIEWER_CAPTURE_H

#include "source.h"

#include <poll.h>
#include <sys/types.h>

typedef struct {
    int (*open)(const char *path, int flags);
    int (*close)(int fd);
    int (*ioctl)(int fd, unsigned long req, void *arg);
    void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
    int (*munmap)(void *addr, size_t len);
    int (*poll)(struct pollfd *fds, nfds_t n, int timeout_ms);
} sm_v4l2_ops;

extern const sm_v4l2_ops sm_v4l2_libc;

/* w, h, fps 0 = defaults (640x480, driver's rate). ops NULL = sm_v4l2_libc. */
sm_status sm_source_open_camera(const char *dev, int w, int h, double fps, const sm_v4l2_ops *ops,
                                sm_source **out, sm_error *err);
/* Prints every /dev/videoN that is a capture device, with formats and sizes.
 * Returns how many capture devices were found. */
int sm_v4l2_list_cameras(FILE *out, const sm_v4l2_ops *ops);
/* The format/size the camera runs at (for messages and tests). */
void sm_camera_describe(const sm_source *s, char *buf, size_t cap);

#endif
