"""Fixtures for test_pipeline (app/pipeline.c, the per-frame analysis).

OUTDIR/pipeline/
  pan.y4m        a real face photo (Debian's scikit-image astronaut.png, public
                 domain) in a 320x240 window that pans so the face moves right by
                 PAN_DX and down by PAN_DY pixels per frame, 30 fps, 4:4:4
  pan.txt        frames, fps, pan per frame
  pulse.y4m      the same photo with a pulsatile skin-colour modulation at
                 PULSE_BPM (Wang et al.'s pulse direction, strongest in green) on
                 the skin pixels (face ellipse and a colour rule), a small head
                 motion (integer shifts of up to 2 px, 0.25 Hz) and sensor noise
                 (Gaussian, sigma 1.5 levels, seeded), 30 fps, 4:4:4
  pulse.txt      frames, fps, bpm
  crop_boxes.txt app.py crop_face_from_landmarks (expand 1.0) transcribed in
                 numpy on seeded random landmark sets (some partly or wholly out
                 of the frame): per case "w h n" then n lines "x y" (float32
                 values, written with %.9g) then "x1 y1 x2 y2" or "none"
  check_e2e.py   the JSON-lines checker for the headless end-to-end run:
                 python3 check_e2e.py FILE.jsonl N MODE [PAN_DX PAN_DY]
                 MODE "face": every line parses, keys and types as documented
                 (viewer/json.h), a face in most frames, landmark centroid shift
                 = the known pan, EAR/MAR plausible; MODE "noface": face,
                 fatigue, emotion, heart and advisor are null.
"""
import os
import sys

import numpy as np
from skimage import io

PHOTO = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
W, H = 320, 240
FPS = 30
PAN_N, PAN_DX, PAN_DY = 24, 2, 1
PULSE_N, PULSE_BPM = 200, 72.0


def write_y4m(path, frames, fps):
    """RGB frames -> Y4M 4:4:4 (BT.601 limited range, as the reader expects)."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        h, w = frames[0].shape[:2]
        f.write(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C444\n" % (w, h, fps))
        for fr in frames:
            rgb = fr.astype(np.float64)
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
            cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
            cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
            f.write(b"FRAME\n")
            for p in (y, cb, cr):
                f.write(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes())
    os.replace(tmp, path)


def crop_face_from_landmarks(w, h, landmarks, expand_ratio=1.0):
    """seed/app.py, on the frame size only (returns the box, not the pixels)."""
    xs = landmarks[:, 0]
    ys = landmarks[:, 1]
    x_min = max(int(xs.min()), 0)
    x_max = min(int(xs.max()), w - 1)
    y_min = max(int(ys.min()), 0)
    y_max = min(int(ys.max()), h - 1)
    cx = (x_min + x_max) // 2
    cy = (y_min + y_max) // 2
    box_w = x_max - x_min
    box_h = y_max - y_min
    size = int(max(box_w, box_h) * expand_ratio)
    x1 = max(cx - size // 2, 0)
    y1 = max(cy - size // 2, 0)
    x2 = min(cx + size // 2, w)
    y2 = min(cy + size // 2, h)
    if x2 <= x1 or y2 <= y1:
        return None
    return x1, y1, x2, y2


CHECKER = r'''
import json, sys
path, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(path).read().splitlines()
assert len(lines) == n, 'lines: %d, want %d' % (len(lines), n)
num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
numn = lambda v: v is None or num(v)
objs = [json.loads(l) for l in lines]
for i, o in enumerate(objs):
    assert list(o) == ['frame', 't', 'wall', 'face', 'fatigue', 'emotion', 'heart', 'advisor', 'ms'], list(o)
    assert o['frame'] == i and num(o['t'])
    assert all(num(v) for v in o['ms'].values()) and o['ms']['total'] >= 0
    if mode == 'noface':
        for k in ('face', 'fatigue', 'emotion', 'heart', 'advisor'):
            assert o[k] is None, (i, k, o[k])
if mode == 'noface':
    print('noface ok: %d lines' % n)
    sys.exit(0)
dx, dy = float(sys.argv[4]), float(sys.argv[5])
faces = [o for o in objs if o['face'] is not None]
assert len(faces) >= 0.8 * n, 'face in %d of %d frames' % (len(faces), n)
for o in faces:
    f = o['face']
    assert 0.5 <= f['score'] <= 1 and len(f['box']) == 4 and all(num(v) for v in f['box'])
    assert len(f['landmarks']) == 478 and all(len(p) == 3 and all(num(v) for v in p) for p in f['landmarks'])
    fa = o['fatigue']
    assert fa is not None
    assert list(fa) == ['ear', 'mar', 'yawn', 'tilt_deg', 'pitch_ratio', 'p_drowsy', 'estimator', 'perclos',
                        'blinks_per_min', 'yawns', 'alert', 'rules', 'level', 'state', 'eyes', 'closed_s',
                        'microsleeps', 'long_closures', 'nods', 'blink_ms', 'calibrated', 'calib_remaining_s',
                        'ear_open', 'ear_closed_thresh', 'mar_rest', 'mar_yawn_thresh'], list(fa)
    # the default rules (issue 14): open eyes on the photo are never a closure or an alert
    assert fa['rules'] == 'wellness' and fa['eyes'] == 'open' and not fa['alert'] and fa['microsleeps'] == 0, fa
    assert isinstance(fa['yawn'], bool) and isinstance(fa['alert'], bool) and isinstance(fa['yawns'], int)
    assert fa['estimator'] in ('mlp', 'rules')
    # open eyes, a smile (no yawn) on the photo: the refined mesh gives EAR 0.2-0.4
    assert 0.12 < fa['ear'] < 0.45, fa['ear']
    assert 0.0 <= fa['mar'] < 0.6 and not fa['yawn'], fa['mar']
    assert -30 < fa['tilt_deg'] < 30 and 0.5 < fa['pitch_ratio'] < 3, (fa['tilt_deg'], fa['pitch_ratio'])
    assert 0 <= fa['p_drowsy'] <= 1 and 0 <= fa['perclos'] <= 1
    a = o['advisor']
    assert a is None or (isinstance(a['action'], int) and isinstance(a['action_text'], str) and numn(a['reward']))
    h = o['heart']
    assert h is None or all(numn(h[k]) for k in ('bpm_pos', 'quality_db', 'bpm_net', 'stress'))
    e = o['emotion']
    assert e is None or (len(e['gate']) == 2 and abs(sum(e['probs'].values()) - 1) < 1e-4)
def centroid(o):
    lm = o['face']['landmarks']
    return sum(p[0] for p in lm) / len(lm), sum(p[1] for p in lm) / len(lm)
a, b = faces[0], faces[-1]
(x0, y0), (x1, y1) = centroid(a), centroid(b)
k = b['frame'] - a['frame']
ex, ey = dx * k, dy * k
assert abs((x1 - x0) - ex) < 3 and abs((y1 - y0) - ey) < 3, ((x1 - x0, y1 - y0), (ex, ey))
# frame to frame the landmarks follow the pan too (median of the steps)
steps = sorted((centroid(q)[0] - centroid(p)[0]) for p, q in zip(faces, faces[1:]) if q['frame'] == p['frame'] + 1)
med = steps[len(steps) // 2]
assert abs(med - dx) < 1.0, (med, dx)
print('face ok: %d/%d frames with a face, centroid moved (%.2f, %.2f) for (%.0f, %.0f), ear %.3f mar %.3f'
      % (len(faces), n, x1 - x0, y1 - y0, ex, ey, faces[0]['fatigue']['ear'], faces[0]['fatigue']['mar']))
'''


def main():
    out = os.path.join(sys.argv[1], "pipeline")
    os.makedirs(out, exist_ok=True)
    photo = io.imread(PHOTO)[:, :, :3].astype(np.uint8)

    # ---- pan: the face moves right/down by (PAN_DX, PAN_DY) px per frame
    x0, y0 = 106, 30  # the window starts with the face (about x 226, y 118) left of centre
    frames = []
    for i in range(PAN_N):
        x, y = x0 - PAN_DX * i, y0 - PAN_DY * i
        frames.append(photo[y:y + H, x:x + W])
    write_y4m(os.path.join(out, "pan.y4m"), frames, FPS)
    with open(os.path.join(out, "pan.txt"), "w") as f:
        f.write("%d %d %d %d\n" % (PAN_N, FPS, PAN_DX, PAN_DY))

    # ---- pulse: skin modulation at a known rate, head motion, noise
    rng = np.random.default_rng(20261125)
    px, py = 66, 10
    big = photo.astype(np.float64)
    yy, xx = np.mgrid[0:big.shape[0], 0:big.shape[1]]
    ell = ((xx - 226) / 42.0) ** 2 + ((yy - 118) / 62.0) ** 2 <= 1.0
    r, g, b = big[..., 0], big[..., 1], big[..., 2]
    skin = ell & (r > 95) & (r > g) & (g > b) & (r - b > 15)
    pulse_dir = np.array([0.33, 0.77, 0.53])  # relative pulsatile strength per channel
    frames = []
    f0 = PULSE_BPM / 60.0
    for i in range(PULSE_N):
        t = i / FPS
        m = 1.0 + 0.012 * np.sin(2 * np.pi * f0 * t) * pulse_dir
        img = big.copy()
        img[skin] *= m
        sx = int(round(2 * np.sin(2 * np.pi * 0.25 * t)))
        sy = int(round(1 * np.sin(2 * np.pi * 0.17 * t + 1.0)))
        fr = img[py - sy:py - sy + H, px - sx:px - sx + W]
        fr = fr + rng.normal(0, 1.5, fr.shape)
        frames.append(np.clip(np.rint(fr), 0, 255).astype(np.uint8))
    write_y4m(os.path.join(out, "pulse.y4m"), frames, FPS)
    with open(os.path.join(out, "pulse.txt"), "w") as f:
        f.write("%d %d %.6f\n" % (PULSE_N, FPS, PULSE_BPM))

    # ---- emotion crop boxes (app.py crop_face_from_landmarks)
    lines = []
    for case in range(40):
        w, h = [(640, 480), (320, 240), (97, 61)][case % 3]
        n = 478 if case % 2 == 0 else 468
        cx, cy = rng.uniform(-0.3, 1.3) * w, rng.uniform(-0.3, 1.3) * h
        s = rng.uniform(2, 0.8 * max(w, h))
        pts = np.stack([cx + rng.uniform(-0.5, 0.5, n) * s,
                        cy + rng.uniform(-0.6, 0.6, n) * s], axis=1).astype(np.float32)
        if case == 0:  # the whole frame and beyond
            pts[0] = (-5.5, -3.25)
            pts[1] = (w + 10.0, h + 10.0)
        if case == 1:  # degenerate: all points on one pixel
            pts[:] = (w / 2.0, h / 2.0)
        box = crop_face_from_landmarks(w, h, pts.astype(np.float64))
        lines.append("%d %d %d" % (w, h, n))
        lines.extend("%.9g %.9g" % (float(x), float(y)) for x, y in pts)
        lines.append("none" if box is None else "%d %d %d %d" % box)
    with open(os.path.join(out, "crop_boxes.txt"), "w") as f:
        f.write("%d\n" % 40)
        f.write("\n".join(lines) + "\n")

    with open(os.path.join(out, "check_e2e.py"), "w") as f:
        f.write(CHECKER)
    print("pipeline fixtures: pan.y4m (%d frames), pulse.y4m (%d frames, %.0f BPM), 40 crop cases"
          % (PAN_N, PULSE_N, PULSE_BPM))


if __name__ == "__main__":
    main()
