"""Reference values for tests/test_fatigue_features.c.

An independent numpy transcription of seed/fatigue_module.py's formulas
(EAR, MAR, yawn flag, tilt, pitch ratio) and of the blink/PERCLOS/yawn rules
documented in app/fatigue_features.h, run on hand-built landmark sets and a
synthetic EAR series with uneven timestamps. Usage: gen_analysis_fatigue.py OUTDIR
"""
import math
import os
import sys

import numpy as np

RIGHT_EYE_EAR = [33, 160, 158, 133, 153, 144]
LEFT_EYE_EAR = [362, 385, 387, 263, 373, 380]
MOUTH_LEFT_CORNER, MOUTH_RIGHT_CORNER, MOUTH_UPPER_MID, MOUTH_LOWER_MID = 61, 291, 0, 17
NOSE_TIP, CHIN, LEFT_EYE_CORNER, RIGHT_EYE_CORNER = 1, 152, 263, 33


def euclid(p1, p2):
    return np.linalg.norm(p1 - p2)


def ear_of(lm, idx):
    p = [lm[i] for i in idx]
    return (euclid(p[1], p[5]) + euclid(p[2], p[4])) / (2.0 * euclid(p[0], p[3]) + 1e-6)


def feats_of(lm):
    lm = lm.astype(np.float64)
    le, re = ear_of(lm, LEFT_EYE_EAR), ear_of(lm, RIGHT_EYE_EAR)
    mar = euclid(lm[MOUTH_UPPER_MID], lm[MOUTH_LOWER_MID]) / (
        euclid(lm[MOUTH_LEFT_CORNER], lm[MOUTH_RIGHT_CORNER]) + 1e-6)
    l, r = lm[LEFT_EYE_CORNER], lm[RIGHT_EYE_CORNER]
    ang = math.degrees(math.atan2(r[1] - l[1], r[0] - l[0]))
    if ang < -90:
        ang += 180
    elif ang > 90:
        ang -= 180
    pitch = euclid(lm[NOSE_TIP], lm[CHIN]) / (euclid(l, r) + 1e-6)
    return [0.5 * (le + re), mar, int(mar > 0.6), ang, pitch, le, re]


def base_face(n):
    """A plausible frontal face (pixels): eyes, mouth, nose, chin where the
    mesh puts them; other points scattered over the face box."""
    rng = np.random.default_rng(7)
    lm = np.stack([rng.uniform(200, 440, n), rng.uniform(120, 420, n)], 1)
    def eye(idx, cx, cy, w, h):
        lm[idx[0]] = (cx - w / 2, cy)
        lm[idx[3]] = (cx + w / 2, cy)
        lm[idx[1]] = (cx - w / 6, cy - h)
        lm[idx[2]] = (cx + w / 6, cy - h)
        lm[idx[5]] = (cx - w / 6, cy + h)
        lm[idx[4]] = (cx + w / 6, cy + h)
    # image-left eye is the subject's right (33 outer corner on the left)
    eye(RIGHT_EYE_EAR, 270, 220, 44, 7)
    eye(LEFT_EYE_EAR, 370, 220, 44, 6)
    lm[MOUTH_LEFT_CORNER] = (285, 350); lm[MOUTH_RIGHT_CORNER] = (355, 350)
    lm[MOUTH_UPPER_MID] = (320, 340); lm[MOUTH_LOWER_MID] = (320, 362)
    lm[NOSE_TIP] = (320, 290); lm[CHIN] = (320, 420)
    return lm


def rotate(lm, deg, c=(320.0, 280.0)):
    a = math.radians(deg)
    R = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return (lm - c) @ R.T + c


def landmark_cases():
    cases = []
    f = base_face(478)
    cases.append(("frontal478", f))
    cases.append(("frontal468", base_face(468)))
    for deg in (-75.0, -30.0, 12.5, 45.0, 89.0):
        cases.append(("rot%+g" % deg, rotate(f, deg)))
    # upside down: atan2 lands beyond +-90 and must fold back
    cases.append(("rot170", rotate(f, 170.0)))
    cases.append(("rot-120", rotate(f, -120.0)))
    # a yawn and shut eyes
    y = f.copy()
    y[MOUTH_UPPER_MID] = (320, 320); y[MOUTH_LOWER_MID] = (320, 380)
    for idx in (RIGHT_EYE_EAR, LEFT_EYE_EAR):
        for k in (1, 2, 4, 5):
            y[idx[k], 1] = y[idx[0], 1] + (0.5 if k in (4, 5) else -0.5)
    cases.append(("yawn_closed", y))
    # degenerate: both eye corners on one point (the 1e-6 guards)
    d = f.copy()
    d[LEFT_EYE_CORNER] = d[RIGHT_EYE_CORNER]
    cases.append(("degenerate", d))
    rng = np.random.default_rng(11)
    for k in range(4):
        cases.append(("noisy%d" % k, f + rng.normal(0, 3, f.shape)))
    return [(n, lm.astype(np.float32)) for n, lm in cases]


# ---- time statistics, per app/fatigue_features.h ----
WINDOW, MAX_HOLD, RATIO, TMIN, TMAX, B0, ALPHA, MIN_RATE = 60.0, 1.0, 0.7, 0.10, 0.25, 0.28, 0.02, 5.0


def tracker(series):
    """series: list of (t, ear or None, yawn). Returns per-step expectations."""
    base, run, prev_yawn, blinks, yawns = B0, 0, 0, 0, 0
    samples, blink_times, t_first = [], [], None
    out = []
    for t, ear, yawn in series:
        thr = min(max(RATIO * base, TMIN), TMAX)
        closed = False
        if ear is not None:
            if t_first is None:
                t_first = t
            closed = ear < thr
            if closed:
                run += 1
                if run == 2:
                    blinks += 1
                    blink_times.append(t)
            else:
                run = 0
                base += ALPHA * (ear - base)
            if yawn and not prev_yawn:
                yawns += 1
            prev_yawn = yawn
            state = 1 if closed else 0
        else:
            run, prev_yawn, state = 0, 0, -1
        samples.append((t, state))
        lo = t - WINDOW
        closed_s = obs = 0.0
        for (ta, sa), (tb, _) in zip(samples[:-1], samples[1:]):
            if sa < 0:
                continue
            end = min(tb, ta + MAX_HOLD)
            start = max(ta, lo)
            if end > start:
                obs += end - start
                if sa == 1:
                    closed_s += end - start
        perclos = closed_s / obs if obs > 0 else 0.0
        bpm = 0.0
        if t_first is not None:
            w = min(t - t_first, WINDOW)
            if w >= MIN_RATE:
                bpm = sum(1 for b in blink_times if b > lo) * 60.0 / w
        out.append((int(closed), thr, perclos, obs, bpm, blinks, yawns))
    return out


def ear_series():
    """~150 s at an uneven ~25-35 fps: open eyes with blinks, a 3 s closure,
    a face-lost gap, yawns, drowsy stretch with long closures."""
    rng = np.random.default_rng(3)
    t, out = 0.0, []
    while t < 150.0:
        t += float(rng.uniform(0.022, 0.045))
        if rng.random() < 0.01:
            t += float(rng.uniform(0.5, 2.5))   # dropped frames / stall
        ear = 0.30 + 0.02 * float(rng.standard_normal())
        yawn = 0
        ph = t % 7.3
        if ph < 0.12 + 0.05 * (t > 90):
            ear = 0.06                     # blink (longer when drowsy)
        if 40.0 < t < 43.0 or (100 < t < 150 and (t % 10) < 4):
            ear = 0.08                     # closures
        if 20.0 < t < 24.0 or 120.0 < t < 124.0:
            yawn = 1 if (t % 2) < 1.4 else 0
        if 60.0 < t < 66.0:
            out.append((t, None, 0))       # face lost
            continue
        out.append((t, ear, yawn))
    return out


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "analysis_fatigue_landmarks.txt"), "w") as fh:
        cases = landmark_cases()
        fh.write("%d\n" % len(cases))
        for name, lm in cases:
            f = feats_of(lm)
            fh.write("%s %d\n" % (name, len(lm)))
            for x, y in lm:
                fh.write("%.9g %.9g\n" % (x, y))
            fh.write("%.17g %.17g %d %.17g %.17g %.17g %.17g\n" % tuple(f))
    s = ear_series()
    exp = tracker(s)
    with open(os.path.join(outdir, "analysis_fatigue_series.txt"), "w") as fh:
        fh.write("%d\n" % len(s))
        for (t, ear, yawn), e in zip(s, exp):
            fh.write("%.17g %d %.17g %d " % (t, ear is not None, ear if ear is not None else 0.0,
                                             yawn))
            fh.write("%d %.17g %.17g %.17g %.17g %d %d\n" % e)


if __name__ == "__main__":
    main()
