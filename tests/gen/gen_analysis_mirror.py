"""Reference sequence for tests/test_mirror.c: app.py's main loop transcribed
(emotion smoothing over 10, positivity, fatigue fusion, P(drowsy) mean of 10,
drowsy streak and alert, UltraLightNet every 10th frame once 180 are buffered,
calculate_stress_score averaged over 10, the RLAgent schedule), fed with
scripted per-frame model outputs: features, 8 emotion probabilities (app.py
label order), a stand-in logistic "MLP" and a scripted network BPM list.
Also a calculate_stress_score table. Usage: gen_analysis_mirror.py OUTDIR
"""
import math
import os
import random
import sys
from collections import deque

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_analysis_advisor import RLAgent, Schedule  # noqa: E402

EMOTION_CLASSES = ["neutral", "happy", "sad", "angry", "surprise", "disgust", "fear", "tired"]
MLP_W = [8.0, -3.0, -1.5, -0.02, 0.5]
MLP_B = -1.0


def mlp_p1(x):
    """the test's stand-in for the MLP: P(non-drowsy) = logistic(w.x + b)"""
    z = MLP_B + sum(w * v for w, v in zip(MLP_W, x))
    return 1.0 / (1.0 + math.exp(-z))


def calculate_stress_score(bpm, prediction_error=0.0):  # app.py, transcribed
    if bpm < 60:
        hr_stress = 0.2
    elif bpm <= 80:
        hr_stress = (bpm - 60) / 60.0
    elif bpm <= 100:
        hr_stress = 0.33 + (bpm - 80) / 40.0
    else:
        hr_stress = 0.83 + min((bpm - 100) / 100.0, 0.17)
    confidence_penalty = min(prediction_error / 20.0, 0.15)
    return float(np.clip((hr_stress + confidence_penalty) * 100.0, 0.0, 100.0))


def f32(x):
    return float(np.float32(x))


def script(rng):
    """per frame: (t, face, feats or None, probs or None)"""
    frames = []
    t = 0.0
    for i in range(3000):
        t += rng.uniform(0.08, 0.12)
        phase = (i // 150) % 6
        face = not (900 <= i < 960) and not (i < 3)
        if not face:
            frames.append((t, False, None, None))
            continue
        p = np.full(8, 0.02)
        if phase == 0:      # calm, neutral
            p[0] = 0.86
            ear, mar = 0.30, 0.20
        elif phase == 1:    # laughing: open mouth that is not a yawn
            p[1] = 0.8; p[4] = 0.06
            ear, mar = 0.26, 0.70
        elif phase == 2:    # drowsy and tired
            p[7] = 0.7; p[2] = 0.16
            ear, mar = 0.12, 0.65
        elif phase == 3:    # undecided: no label above 0.5
            p[:] = 1 / 8.0; p[3] = 0.2; p[5] = 0.05
            ear, mar = 0.22, 0.40
        elif phase == 4:    # eyes open but the estimator says drowsy
            p[6] = 0.6; p[2] = 0.24
            ear, mar = 0.24, 0.30
        else:               # surprised, eyes wide
            p[4] = 0.75; p[1] = 0.11
            ear, mar = 0.34, 0.45
        p = np.abs(p + rng.normal(0, 0.01, 8))
        p = p / p.sum()
        ear = ear + rng.normal(0, 0.01)
        mar = max(0.0, mar + rng.normal(0, 0.02))
        feats = [f32(ear), f32(mar), int(f32(mar) > 0.6), f32(rng.normal(0, 5)),
                 f32(1.1 + rng.normal(0, 0.05))]
        frames.append((t, True, feats, [f32(v) for v in p]))
    return frames


def run(frames, bpms, out):
    prob_history = deque(maxlen=10)
    emotion_history = deque(maxlen=10)
    stress_history = deque(maxlen=10)
    streak = 0
    sched = Schedule(RLAgent(num_actions=3))
    last_action, last_reward, has_action, has_reward = 0, 0.0, 0, 0
    last_bpm = None
    n_calls = 0
    for frame_idx, (t, face, feats, probs) in enumerate(frames, start=1):
        if frame_idx >= 180 and frame_idx % 10 == 0:
            last_bpm = bpms[n_calls]
            n_calls += 1
            stress_history.append(calculate_stress_score(last_bpm))
        avg_stress = sum(stress_history) / len(stress_history) if stress_history else 50.0
        if face and probs is not None:
            emotion_history.append(np.array(probs, dtype=np.float64))
        label, conf, shown = None, 0.0, -1
        if emotion_history:
            avg = np.mean(emotion_history, axis=0)
            idx = int(np.argmax(avg))
            label, conf = EMOTION_CLASSES[idx], float(avg[idx])
            shown = idx if conf >= 0.5 else -1
            pos = float(avg[1] + avg[4])
        else:
            pos = 0.0
        if feats is not None:
            f = list(feats)
            if label is not None and label.lower() == "happy":
                f[2] = 0
                f[1] = min(f[1], 0.30)
            p_raw = 1.0 - mlp_p1(f)
            p_adj = p_raw * (1.0 - 0.4 * pos)
            if f[0] > 0.23 and f[1] < 0.35 and f[2] == 0 and p_adj > 0.5:
                p_adj = 0.3
            prob_history.append(p_adj)
        elif not prob_history:
            prob_history.append(0.0)
        p_drowsy = sum(prob_history) / len(prob_history)
        streak = streak + 1 if p_drowsy > 0.80 else 0
        state = (label if label is not None else "neutral", p_drowsy, avg_stress)
        action, reward = sched.step(t, state)
        if action is not None:
            last_action, has_action = action, 1
        if reward is not None:
            last_reward, has_reward = reward, 1
        out.append("%d %.17g %d %.17g %d %s %d %.17g %.17g %d %.17g %d %d %.17g" % (
            streak >= 10, p_drowsy, streak, conf,
            EMOTION_CLASSES.index(label) if label else -1, "x", shown,
            avg_stress, last_bpm if last_bpm is not None else 0.0, len(stress_history) > 0,
            pos, has_action, last_action, last_reward if has_reward else 0.0))
    return n_calls


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(5)
    frames = script(rng)
    r = random.Random(9)
    bpms = [f32(r.uniform(55, 130)) for _ in range(400)]
    exp = []
    n_calls = run(frames, bpms, exp)
    with open(os.path.join(outdir, "analysis_mirror_seq.txt"), "w") as fh:
        fh.write("%d %d\n" % (len(frames), len(bpms)))
        fh.write(" ".join("%.9g" % b for b in bpms) + "\n")
        for (t, face, feats, probs), e in zip(frames, exp):
            fh.write("%.17g %d " % (t, face))
            fh.write(" ".join("%.9g" % v for v in (feats or [0] * 5)) + " ")
            fh.write(" ".join("%.9g" % v for v in (probs or [0] * 8)) + " ")
            fh.write(e + "\n")
        fh.write("%d\n" % n_calls)
    bpm_vals = [40, 59.999, 60, 61.5, 70, 80, 80.001, 90, 99.5, 100, 100.001, 117, 150, 250]
    errs = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 0.0, 10.0, 0.0]
    with open(os.path.join(outdir, "analysis_mirror_stress.txt"), "w") as fh:
        fh.write("%d\n" % len(bpm_vals))
        for b, e in zip(bpm_vals, errs):
            fh.write("%.17g %.17g %.17g\n" % (b, e, calculate_stress_score(b, e)))


if __name__ == "__main__":
    main()
