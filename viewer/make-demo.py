#!/usr/bin/env python3
"""Writes the demo clip `make run` plays when there is no camera.

A real, public-domain face photo (Debian's scikit-image astronaut.png: NASA's
portrait of Eileen Collins, public domain) made into a 20 s, 15 frames/s,
320x240 Y4M clip (C420jpeg, ~34 MB): the head sways by a few pixels and the
skin carries a faint pulse whose rate drifts between 62 and 84 per minute,
so the face, heart-rate and stress panels and the history plots move. It is
not an evaluation clip: nothing in the tests judges a model on it.

usage: make-demo.py OUT.y4m [PHOTO.png]
"""
import sys

import numpy as np

PHOTO = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
W, H, FPS, SECONDS = 320, 240, 15, 20


def load_photo(path):
    try:
        from skimage import io
        return io.imread(path)[..., :3]
    except ImportError:
        import imageio
        return imageio.imread(path)[..., :3]


def write_frame(f, rgb):
    """Full-range BT.601 (JPEG) YCbCr, chroma averaged over 2x2 blocks."""
    x = rgb.astype(np.float64)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    sub = lambda c: c.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3))
    f.write(b"FRAME\n")
    for plane in (y, sub(cb), sub(cr)):
        f.write(np.clip(np.rint(plane), 0, 255).astype(np.uint8).tobytes())


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    photo = load_photo(sys.argv[2] if len(sys.argv) == 3 else PHOTO).astype(np.float64)
    rng = np.random.default_rng(16)
    yy, xx = np.mgrid[0:photo.shape[0], 0:photo.shape[1]]
    face = ((xx - 226) / 42.0) ** 2 + ((yy - 118) / 62.0) ** 2 <= 1.0
    r, g, b = photo[..., 0], photo[..., 1], photo[..., 2]
    skin = face & (r > 95) & (r > g) & (g > b) & (r - b > 15)
    pulse_dir = np.array([0.33, 0.77, 0.53])  # the pulse is strongest in green
    n = FPS * SECONDS
    phase = 0.0
    with open(sys.argv[1] + ".tmp", "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n" % (W, H, FPS))
        for i in range(n):
            t = i / FPS
            bpm = 73 + 11 * np.sin(2 * np.pi * t / SECONDS)
            phase += 2 * np.pi * bpm / 60.0 / FPS
            img = photo.copy()
            img[skin] *= 1.0 + 0.012 * np.sin(phase) * pulse_dir
            sx = int(round(4 * np.sin(2 * np.pi * 0.11 * t)))
            sy = int(round(2 * np.sin(2 * np.pi * 0.07 * t + 1.0)))
            x0, y0 = 226 - W // 2 + sx, 130 - H // 2 + sy
            fr = img[y0:y0 + H, x0:x0 + W] + rng.normal(0, 1.0, (H, W, 3))
            write_frame(f, fr)
    import os
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    print("make-demo: wrote %s (%d frames, %dx%d, %d fps)" % (sys.argv[1], n, W, H, FPS))


if __name__ == "__main__":
    main()
