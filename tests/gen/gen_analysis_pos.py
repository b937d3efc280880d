"""Fixtures for tests/test_pos.c.

1. A real face photo (Debian's scikit-image astronaut.png, Eileen Collins) cropped
   around the face, as raw RGB, with hand-placed FaceMesh landmark positions for
   the vertices of the POS skin polygons (indices as in app/rppg_pos.h; all
   other landmarks at the nose) and a skin map (face ellipse and a colour rule)
   that tells the test where to put the pulse. The test builds the video itself.
2. The seed's UltraLightNet preprocessing (app.py extract_rppg_frame: centre
   square crop, cv2.resize INTER_LINEAR to 36x36, /255) transcribed in numpy
   (half-pixel centres, border clamp, rounding to uint8) on a non-square frame.
Usage: gen_analysis_pos.py OUTDIR
"""
import os
import sys

import numpy as np

PHOTO = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
X0, Y0, W, H = 146, 40, 160, 160

# hand-placed on the photo (full-image pixel coordinates)
POINTS = {
    # forehead, between hairline and brows
    10: (225, 81), 338: (238, 81), 297: (250, 83), 299: (252, 87), 296: (246, 89), 336: (236, 89),
    9: (225, 89), 107: (214, 89), 66: (204, 89), 69: (198, 87), 67: (200, 83), 109: (212, 81),
    # subject's right cheek (image left)
    117: (190, 113), 118: (199, 113), 101: (208, 116), 36: (211, 127), 205: (206, 137),
    187: (194, 137), 123: (187, 126),
    # subject's left cheek (image right)
    346: (262, 113), 347: (253, 113), 330: (244, 116), 266: (241, 127), 425: (246, 137),
    411: (258, 137), 352: (265, 126),
}


def load_photo():
    from skimage import io
    return io.imread(PHOTO)[:, :, :3].astype(np.uint8)


def cv2_linear_resize(img, out_w, out_h):
    """cv2.resize(..., INTER_LINEAR) on uint8, up to its fixed-point rounding."""
    h, w = img.shape[:2]
    def coords(n_out, n_in):
        s = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        k = np.floor(s).astype(int)
        f = s - k
        f[k < 0] = 0.0
        k[k < 0] = 0
        hi = k >= n_in - 1
        f[hi] = 0.0
        k[hi] = n_in - 1
        return k, np.minimum(k + 1, n_in - 1), f
    y0, y1, fy = coords(out_h, h)
    x0, x1, fx = coords(out_w, w)
    im = img.astype(np.float64)
    top = im[y0][:, x0] * (1 - fx)[None, :, None] + im[y0][:, x1] * fx[None, :, None]
    bot = im[y1][:, x0] * (1 - fx)[None, :, None] + im[y1][:, x1] * fx[None, :, None]
    v = top * (1 - fy)[:, None, None] + bot * fy[:, None, None]
    return np.floor(v + 0.5).astype(np.uint8)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    photo = load_photo()
    crop = np.ascontiguousarray(photo[Y0:Y0 + H, X0:X0 + W])
    crop.tofile(os.path.join(out, "analysis_pos_face.rgb"))
    yy, xx = np.mgrid[0:H, 0:W]
    ell = ((xx + X0 - 226) / 42.0) ** 2 + ((yy + Y0 - 118) / 62.0) ** 2 <= 1.0
    r, g, b = [crop[:, :, c].astype(int) for c in range(3)]
    skin = ell & (r > 95) & (r > g) & (g > b) & (r - b > 15)
    skin.astype(np.uint8).tofile(os.path.join(out, "analysis_pos_face.mask"))
    lm = np.tile(np.array([226.0 - X0, 125.0 - Y0]), (478, 1))
    for i, (x, y) in POINTS.items():
        lm[i] = (x - X0, y - Y0)
    with open(os.path.join(out, "analysis_pos_face.txt"), "w") as fh:
        fh.write("%d %d %d\n" % (W, H, int(skin.sum())))
        for x, y in lm:
            fh.write("%.3f %.3f\n" % (x, y))

    # UltraLightNet preprocessing on a 250x170 (non-square, landscape) frame
    frame = np.ascontiguousarray(photo[30:200, 100:350])
    frame.tofile(os.path.join(out, "analysis_rppg_pre_in.rgb"))
    hh, ww = frame.shape[:2]
    size = min(hh, ww)
    y, x = (hh - size) // 2, (ww - size) // 2
    ref = cv2_linear_resize(frame[y:y + size, x:x + size], 36, 36).astype(np.float32) / 255.0
    ref.tofile(os.path.join(out, "analysis_rppg_pre_ref.f32"))
    with open(os.path.join(out, "analysis_rppg_pre.txt"), "w") as fh:
        fh.write("%d %d\n" % (ww, hh))


if __name__ == "__main__":
    main()
