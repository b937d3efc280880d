"""Fixtures for the viewer's source readers and the end-to-end runs, made from
Debian's public-domain astronaut photo (python3-skimage) with small motion.

OUTDIR/viewer/
  clip_420jpeg.y4m, clip_420mpeg2.y4m (interlace tag, frame headers with
  parameters), clip_444.y4m, clip_mono.y4m ... + *.rgb: the expected RGB frames
  (skimage's BT.601 ycbcr2rgb of the same planes, chroma replicated), concatenated
  clip.avi (MJPEG, idx1), clip_noidx.avi (no idx1, 'rec ' lists, audio + JUNK
  chunks) + clip_avi.rgb: PIL's decode of the same JPEGs
  images/: 00.jpg 01.png (filters 0-4, own zlib+struct writer) 02.png (RGBA)
           03.png (grey) 04.png (PIL, compressed) 05.jpg + notes.txt (ignored)
           images.rgb: expected frames in name order
  e2e.y4m: 24 frames 192x144 at 10 fps for the headless/window runs
"""
import io
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image
from skimage import color, data

out = os.path.join(sys.argv[1], "viewer")
os.makedirs(os.path.join(out, "images"), exist_ok=True)
astro = data.astronaut()  # 512x512x3 uint8


def frames(n, w, h, step=3):
    """n crops of the photo, panning slowly (small motion), resized to w x h."""
    res = []
    for i in range(n):
        x0, y0 = 60 + i * step, 20 + i * step // 2
        crop = astro[y0:y0 + 360, x0:x0 + 360]
        res.append(np.asarray(Image.fromarray(crop).resize((w, h), Image.BILINEAR)))
    return res


def to_ycbcr(rgb):
    return np.clip(np.round(color.rgb2ycbcr(rgb)), 0, 255).astype(np.uint8)


def ycc_to_rgb(y, u, v):
    ycc = np.stack([y, u, v], axis=-1).astype(np.float64)
    return np.clip(np.floor(color.ycbcr2rgb(ycc) * 255.0 + 0.5), 0, 255).astype(np.uint8)


def write_y4m(name, imgs, cs, header_extra="", frame_params=""):
    h, w = imgs[0].shape[:2]
    expected = []
    with open(os.path.join(out, name), "wb") as f:
        f.write(("YUV4MPEG2 W%d H%d F10:1 %sA1:1%s\n" % (w, h, header_extra,
                 "" if cs is None else " C" + cs)).encode())
        for i, im in enumerate(imgs):
            ycc = to_ycbcr(im)
            Y = ycc[..., 0]
            if cs == "mono":
                planes = [Y]
                U = V = np.full_like(Y, 128)
            elif cs == "444":
                U, V = ycc[..., 1], ycc[..., 2]
                planes = [Y, U, V]
            else:  # 4:2:0: average each 2x2 block (odd edges padded by replication)
                hp, wp = (h + 1) // 2 * 2, (w + 1) // 2 * 2
                pad = np.pad(ycc.astype(np.float64), ((0, hp - h), (0, wp - w), (0, 0)), mode="edge")
                sub = pad.reshape(hp // 2, 2, wp // 2, 2, 3).mean(axis=(1, 3))
                Us = np.round(sub[..., 1]).astype(np.uint8)
                Vs = np.round(sub[..., 2]).astype(np.uint8)
                planes = [Y, Us, Vs]
                U = np.repeat(np.repeat(Us, 2, 0), 2, 1)[:h, :w]
                V = np.repeat(np.repeat(Vs, 2, 0), 2, 1)[:h, :w]
            fp = frame_params(i) if callable(frame_params) else frame_params
            f.write(b"FRAME" + fp.encode() + b"\n")
            for p in planes:
                f.write(np.ascontiguousarray(p).tobytes())
            expected.append(ycc_to_rgb(Y, U, V))
    np.concatenate([e.reshape(-1) for e in expected]).tofile(os.path.join(out, name + ".rgb"))


small = frames(5, 64, 48)
write_y4m("clip_420jpeg.y4m", small, "420jpeg")
write_y4m("clip_420mpeg2.y4m", small, "420mpeg2", header_extra="It ",
          frame_params=lambda i: " Ib XTEST=%d" % i if i % 2 else "")
write_y4m("clip_420odd.y4m", frames(3, 31, 17), "420paldv", header_extra="Ip X123=abc ")
write_y4m("clip_420default.y4m", frames(2, 16, 8), None)
write_y4m("clip_444.y4m", small, "444", header_extra="Im ", frame_params=" Ip")
write_y4m("clip_mono.y4m", small, "mono")
write_y4m("e2e.y4m", frames(24, 192, 144, step=2), "420jpeg")
os.remove(os.path.join(out, "e2e.y4m.rgb"))  # not needed: the e2e runs check the schema


# ---- MJPEG AVI written by hand ------------------------------------------------
def chunk(fourcc, payload):
    pad = b"\0" if len(payload) & 1 else b""
    return fourcc + struct.pack("<I", len(payload)) + payload + pad


def lst(kind, payload):
    return chunk(b"LIST", kind + payload)


def write_avi(name, jpegs, w, h, idx=True, rec=False, extra=False):
    avih = struct.pack("<IIIIIIIIII", 100000, 0, 0, 0x10 if idx else 0, len(jpegs), 0,
                       2 if extra else 1, 0, w, h) + b"\0" * 16
    strh = (b"vids" + b"MJPG" + struct.pack("<IHHIIIIIIIIhhhh", 0, 0, 0, 0, 1, 10, 0,
                                            len(jpegs), 0, 0xffffffff, 0, 0, 0, w, h))
    strf = struct.pack("<IiiHH4sIiiII", 40, w, h, 1, 24, b"MJPG", w * h * 3, 0, 0, 0, 0)
    strl = lst(b"strl", chunk(b"strh", strh) + chunk(b"strf", strf))
    if extra:
        ash = b"auds" + b"\0" * 52
        strl += lst(b"strl", chunk(b"strh", ash) + chunk(b"strf", b"\0" * 18))
    hdrl = lst(b"hdrl", chunk(b"avih", avih) + strl)
    body = b""
    index = b""
    for i, j in enumerate(jpegs):
        c = chunk(b"00dc", j)
        if extra:
            c = chunk(b"01wb", b"\x01\x02\x03") + chunk(b"JUNK", b"\0" * 7) + c
        if rec:
            c = lst(b"rec ", c)
        index += b"00dc" + struct.pack("<III", 0x10, 4 + len(body), len(j))
        body += c
    movi = lst(b"movi", body)
    riff = b"AVI " + hdrl + (chunk(b"JUNK", b"\0" * 10) if extra else b"") + movi
    if idx:
        riff += chunk(b"idx1", index)
    with open(os.path.join(out, name), "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(riff)) + riff)


def jpeg_bytes(im, q=90, sub=2):
    b = io.BytesIO()
    Image.fromarray(im).save(b, format="JPEG", quality=q, subsampling=sub)
    return b.getvalue()


avi_imgs = frames(6, 80, 60)
jpegs = [jpeg_bytes(im) for im in avi_imgs]
write_avi("clip.avi", jpegs, 80, 60, idx=True)
write_avi("clip_noidx.avi", jpegs, 80, 60, idx=False, rec=True, extra=True)
np.concatenate([np.asarray(Image.open(io.BytesIO(j)).convert("RGB")).reshape(-1) for j in jpegs]) \
    .tofile(os.path.join(out, "clip_avi.rgb"))


# ---- images: JPEG + PNG (our own writer with every filter type, and PIL's) ------
def png_filter_rows(raw, bpp):
    """Applies filter type (row % 5) to each row; returns the filtered stream."""
    h, rowlen = raw.shape
    outb = bytearray()
    prev = np.zeros(rowlen, dtype=np.int32)
    for y in range(h):
        cur = raw[y].astype(np.int32)
        left = np.concatenate([np.zeros(bpp, np.int32), cur[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int32), prev[:-bpp]])
        ft = y % 5
        if ft == 0:
            f = cur
        elif ft == 1:
            f = cur - left
        elif ft == 2:
            f = cur - prev
        elif ft == 3:
            f = cur - (left + prev) // 2
        else:
            p = left + prev - upleft
            pa, pb, pc = np.abs(p - left), np.abs(p - prev), np.abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
            f = cur - pred
        outb.append(ft)
        outb += (f & 0xff).astype(np.uint8).tobytes()
        prev = cur
    return bytes(outb)


def write_png(path, arr, ctype, level=6):
    h, w = arr.shape[:2]
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = arr.reshape(h, w * ch)
    data_ = zlib.compress(png_filter_rows(raw, ch), level)

    def ck(t, p):
        return struct.pack(">I", len(p)) + t + p + struct.pack(">I", zlib.crc32(t + p) & 0xffffffff)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + ck(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0))
                + ck(b"tEXt", b"Comment\0smartmirror test") + ck(b"IDAT", data_[:10])
                + ck(b"IDAT", data_[10:]) + ck(b"IEND", b""))


imgs = frames(6, 40, 30)
expected = []
d = os.path.join(out, "images")
for fn in os.listdir(d):
    os.remove(os.path.join(d, fn))
j = jpeg_bytes(imgs[0])
open(os.path.join(d, "00.jpg"), "wb").write(j)
expected.append(np.asarray(Image.open(io.BytesIO(j)).convert("RGB")))
write_png(os.path.join(d, "01.png"), imgs[1], 2, level=9)
expected.append(imgs[1])
rgba = np.concatenate([imgs[2], np.full(imgs[2].shape[:2] + (1,), 200, np.uint8)], axis=2)
write_png(os.path.join(d, "02.png"), rgba, 6, level=0)
expected.append(imgs[2])
grey = (imgs[3].astype(np.uint32).sum(axis=2) // 3).astype(np.uint8)
write_png(os.path.join(d, "03.png"), grey, 0, level=1)
expected.append(np.repeat(grey[..., None], 3, axis=2))
Image.fromarray(imgs[4]).save(os.path.join(d, "04.png"), optimize=True)
expected.append(imgs[4])
j = jpeg_bytes(imgs[5], q=75, sub=0)
open(os.path.join(d, "05.JPEG"), "wb").write(j)
expected.append(np.asarray(Image.open(io.BytesIO(j)).convert("RGB")))
open(os.path.join(d, "notes.txt"), "w").write("not an image\n")
np.concatenate([e.reshape(-1) for e in expected]).tofile(os.path.join(out, "images.rgb"))
print("viewer source fixtures written to", out)
