"""Reference outputs for engine/image (tests/test_image.c), made by skimage
(resize, warp, BT.601 limited-range YCbCr) and PIL (full-range JPEG YCbCr).
Raw little-endian files in OUTDIR/image/; the sizes are fixed here and in the test."""
import os
import sys

import numpy as np
from PIL import Image
from skimage import color, transform

out = os.path.join(sys.argv[1], "image")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261125)


def save(name, arr):
    arr.tofile(os.path.join(out, name))


# resize: 37x23 RGB source; pixel-centre bilinear with edge replication
src = rng.integers(0, 256, size=(23, 37, 3), dtype=np.uint8)
save("src_37x23.u8", src)
for (w, h) in [(61, 40), (17, 11), (37, 23), (5, 50)]:
    r = transform.resize(src.astype(np.float64), (h, w), order=1, mode="edge",
                         anti_aliasing=False, preserve_range=True)
    save("resize_%dx%d.f32" % (w, h), r.astype(np.float32))

# affine warp, inverse map dst -> src, partly outside the source
a = 0.4
m = np.array([[1.3 * np.cos(a), -1.1 * np.sin(a), 6.5],
              [1.3 * np.sin(a), 1.1 * np.cos(a), -4.25],
              [0, 0, 1]])
save("warp_m.f32", m[:2].astype(np.float32).reshape(-1))
r = transform.warp(src.astype(np.float64), transform.AffineTransform(matrix=m), order=1,
                   mode="edge", preserve_range=True, output_shape=(28, 32))
save("warp_32x28.f32", r.astype(np.float32))

# YUV -> RGB, limited range (skimage's ycbcr2rgb is BT.601 with Y in 16..235)
W, H = 16, 10
Y = rng.integers(0, 256, size=(H, W), dtype=np.uint8)
U = rng.integers(0, 256, size=(H // 2, W // 2), dtype=np.uint8)
V = rng.integers(0, 256, size=(H // 2, W // 2), dtype=np.uint8)
save("yuv_y.u8", Y)
save("yuv_u420.u8", U)
save("yuv_v420.u8", V)


def limited(y, u, v):
    ycc = np.stack([y, u, v], axis=-1).astype(np.float64)
    rgb = color.ycbcr2rgb(ycc) * 255.0
    return np.clip(np.floor(rgb + 0.5), 0, 255).astype(np.uint8)


up = lambda c, ry, rx: np.repeat(np.repeat(c, ry, axis=0), rx, axis=1)
save("rgb_i420_limited.u8", limited(Y, up(U, 2, 2), up(V, 2, 2)))
U422 = rng.integers(0, 256, size=(H, W // 2), dtype=np.uint8)
V422 = rng.integers(0, 256, size=(H, W // 2), dtype=np.uint8)
save("yuv_u422.u8", U422)
save("yuv_v422.u8", V422)
save("rgb_yuyv_limited.u8", limited(Y, up(U422, 1, 2), up(V422, 1, 2)))

# full range (JPEG) 4:4:4 through PIL's own converter
U444 = rng.integers(0, 256, size=(H, W), dtype=np.uint8)
V444 = rng.integers(0, 256, size=(H, W), dtype=np.uint8)
save("yuv_u444.u8", U444)
save("yuv_v444.u8", V444)
img = Image.fromarray(np.stack([Y, U444, V444], axis=-1), mode="YCbCr").convert("RGB")
save("rgb_444_full.u8", np.asarray(img, dtype=np.uint8))
print("image references written to", out)
