"""The live-pipeline benchmark's clip (bench/pipeline.sh): a 640x480 Y4M of a real face.

python3 clip.py OUT.y4m SECONDS FPS

The photo is Debian's scikit-image astronaut.png (public domain, 512x512), scaled
by 1.5 so that a 640x480 window holds the face at a webcam-like size (about
130x190 px). The window pans slowly (sinusoids of 8 s and 11 s, integer pixel
steps, the face always inside), the skin pixels carry a 72 BPM pulse (Wang et
al.'s pulse direction, strongest in green) so that the heart-rate path has a
signal, and seeded Gaussian sensor noise (sigma 1.5 levels) is added. 4:2:0
(C420jpeg), BT.601 limited range, as a webcam's MJPEG decodes to. The file is
written to OUT.tmp and renamed, so a cut-short run leaves no half clip.
"""
import os
import sys

import numpy as np
from skimage import io, transform

PHOTO = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
W, H = 640, 480
SCALE = 1.5
BPM = 72.0


def main():
    out, seconds, fps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    n = max(1, int(round(seconds * fps)))
    photo = io.imread(PHOTO)[:, :, :3]
    big = transform.rescale(photo, SCALE, order=1, channel_axis=2, anti_aliasing=False,
                            preserve_range=True).astype(np.float32)
    bh, bw = big.shape[:2]
    # The face of the 512x512 photo is about an ellipse at (226, 118), radii 42 x 62.
    yy, xx = np.mgrid[0:bh, 0:bw]
    ell = ((xx - 226 * SCALE) / (42 * SCALE)) ** 2 + ((yy - 118 * SCALE) / (62 * SCALE)) ** 2 <= 1.0
    r, g, b = big[..., 0], big[..., 1], big[..., 2]
    skin = ell & (r > 95) & (r > g) & (g > b) & (r - b > 15)
    pulse_dir = np.array([0.33, 0.77, 0.53], np.float32)
    rng = np.random.default_rng(20261125)
    mx, my = bw - W, bh - H  # 128, 288: the window's room
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n" % (W, H, fps))
        for i in range(n):
            t = i / fps
            x0 = int(round(mx / 2 + 0.45 * mx * np.sin(2 * np.pi * t / 8.0)))
            y0 = int(round(40 + 30 * np.sin(2 * np.pi * t / 11.0 + 1.0)))
            fr = big[y0:y0 + H, x0:x0 + W].copy()
            m = 1.0 + 0.012 * np.sin(2 * np.pi * BPM / 60.0 * t) * pulse_dir
            sk = skin[y0:y0 + H, x0:x0 + W]
            fr[sk] *= m
            fr += rng.normal(0, 1.5, fr.shape).astype(np.float32)
            fr = np.clip(np.rint(fr), 0, 255)
            rr, gg, bb = fr[..., 0], fr[..., 1], fr[..., 2]
            y = 16 + (65.481 * rr + 128.553 * gg + 24.966 * bb) / 255
            cb = 128 + (-37.797 * rr - 74.203 * gg + 112.0 * bb) / 255
            cr = 128 + (112.0 * rr - 93.786 * gg - 18.214 * bb) / 255
            # 4:2:0: the mean of each 2x2 block
            cb = cb.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3))
            cr = cr.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3))
            f.write(b"FRAME\n")
            for p in (y, cb, cr):
                f.write(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes())
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
