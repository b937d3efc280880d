"""Summarise one `smartmirror --headless --realtime` run (bench/pipeline.sh).

python3 report.py OUT.jsonl STDERR.txt FRAMES FPS WALL_SECONDS THREADS [EMOTION_HZ [PRECISION]] [--json]

EMOTION_HZ: the rate smartmirror was asked for (--emotion-hz, default 10: issue 10's
target; 30 = every frame, issue 17's); PRECISION: fp32 or bf16 as asked, or default (no
--precision: each model its own; the emotion model's is read from the startup line).

Reads the JSON lines smartmirror printed (one per analysed frame, viewer/json.h)
and the pipeline line of its stderr ("analysis pipeline (face 478 on 1 thread, emotion ...)").
Reports frames analysed of the clip's, analysed frames per second of video
time, how many had a face (478 points), fatigue, heart, the emotion results'
rate, and per-stage ms (mean / median / p95 over the analysed frames; emotion:
the worker's runs). Emotion runs on its own worker in live mode and the JSON
shows its newest result on every frame, so a new result is counted where the
worker's run time (`ms.emotion`, printed to 6 digits) changes.
"""
import json
import os
import re
import statistics
import sys

TARGET_FPS = 30.0
TARGET_EMOTION_HZ = 10.0


def pct(v, p):
    v = sorted(v)
    if not v:
        return None
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


def stats(v):
    if not v:
        return None
    return {"mean": round(statistics.fmean(v), 3), "median": round(statistics.median(v), 3),
            "p95": round(pct(v, 95), 3), "max": round(max(v), 3)}


def main():
    a = sys.argv[1:]
    as_json = "--json" in a
    a = [x for x in a if x != "--json"]
    path, errpath, frames, fps, wall, threads = a[0], a[1], int(a[2]), float(a[3]), float(a[4]), int(a[5])
    want_hz = float(a[6]) if len(a) > 6 else TARGET_EMOTION_HZ
    precision = a[7] if len(a) > 7 else "default"
    objs = [json.loads(l) for l in open(path) if l.strip()]
    err = open(errpath).read()
    # smartmirror names the pipeline on stderr ("face 478 on 1 thread, emotion <model>
    # fp32, ..."); builds before 4306748 did so only when a model was missing or failed
    # to load, so no line and no notes means all five loaded.
    m = re.search(r"analysis pipeline \(([^)]*)\)", err)
    pipeline = m.group(1) if m else None
    # what the emotion model ran in: the startup line names it ("emotion <model> fp32,")
    m = re.search(r"emotion .* (fp32|bf16),", pipeline or "")
    emotion_precision = m.group(1) if m else None
    # stderr beyond the startup line: notes on models missing or failing to load
    notes = [l for l in err.splitlines() if l.strip() and "analysis pipeline (" not in l]
    clip_s = frames / fps
    n = len(objs)
    face = [o for o in objs if o["face"] is not None]
    fat = [o for o in objs if o["fatigue"] is not None]
    mlp = [o for o in fat if o["fatigue"].get("estimator") == "mlp"]
    heart = [o for o in objs if o["heart"] is not None]
    net = [o["heart"]["bpm_net"] for o in heart if o["heart"].get("bpm_net") is not None]
    pos = [o["heart"]["bpm_pos"] for o in heart if o["heart"].get("bpm_pos") is not None]
    # emotion results: changes of the worker's run time
    runs, times, last = [], [], 0.0
    for o in objs:
        e = o["ms"]["emotion"]
        if e and e != last:
            runs.append(e)
            times.append(o["t"])
        last = e
    if len(times) >= 2 and times[-1] > times[0]:
        emo_hz = (len(times) - 1) / (times[-1] - times[0])
    else:
        emo_hz = 0.0
    fps_video = n / clip_s if clip_s > 0 else 0.0
    rep = {
        "pipeline": pipeline, "threads": threads,
        "clip": {"frames": frames, "fps": fps, "seconds": round(clip_s, 3)},
        "wall_seconds": round(wall, 2),
        "loadavg": float(open("/proc/loadavg").read().split()[0]),
        "frames_analysed": n, "frames_dropped": frames - n,
        "analysed_fps": round(fps_video, 2),
        "frames_with_face": len(face),
        "notes": notes,
        "frames_with_emotion": sum(1 for o in objs if o["emotion"] is not None),
        "frames_with_fatigue": len(fat), "frames_fatigue_mlp": len(mlp),
        "frames_with_heart": len(heart), "heart_net_readings": len(set(net)),
        "bpm_net_last": net[-1] if net else None,
        "bpm_pos_median": round(statistics.median(pos), 1) if pos else None,
        "emotion_results": len(runs), "emotion_hz": round(emo_hz, 2), "emotion_hz_asked": want_hz,
        "precision": precision,
        "emotion_precision": emotion_precision,
        "ms": {
            "face": stats([o["ms"]["face"] for o in objs]),
            "fatigue": stats([o["ms"]["fatigue"] for o in objs]),
            "heart": stats([o["ms"]["heart"] for o in objs]),
            "total": stats([o["ms"]["total"] for o in objs]),
            "emotion_run": stats(runs),
        },
    }
    if pipeline is not None:
        all_on = (all(k in pipeline for k in ("face 478", "fatigue mlp", "heart net"))
                  and "emotion off" not in pipeline)
    else:
        all_on = not notes
    # and the JSON shows each model's output
    all_on = all_on and len(mlp) > 0 and len(net) > 0 and len(runs) > 0 and len(face) > 0
    rep["all_models_on"] = all_on
    rep["landmarks"] = 478 if all_on else None
    # The acceptance (issue 10): >= 30 analysed frames/s with face + fatigue every frame,
    # emotion >= 10 Hz, heart on. A 30 fps clip played live cannot exceed 30/s, so
    # "sustained" = every frame analysed (a drop of 1 % is allowed for start-up).
    rep["meets"] = {
        "analysed_fps_ge_30": fps >= TARGET_FPS and n >= 0.99 * frames,
        "face_and_fatigue_every_analysed_frame": len(face) == n and len(fat) == n and n > 0,
        # results land on 30 fps frame times: +-1 frame over the run is < 1 %
        "emotion_at_asked_rate": emo_hz >= 0.99 * want_hz,
        "heart_on": len(heart) > 0,
        "all_models_on": all_on,
    }
    if as_json:
        print(json.dumps(rep))
        return

    def ms(k):
        s = rep["ms"][k]
        return "-" if s is None else "%.2f / %.2f / %.2f" % (s["mean"], s["median"], s["p95"])

    print("live pipeline: smartmirror --headless --realtime --threads %d --emotion-hz %g %s: %s"
          % (threads, want_hz, "(no --precision: per-model defaults)" if precision == "default"
             else "--precision " + precision, "face 478 + fatigue MLP + emotion + heart (UltraLightNet + POS), all loaded"
             if all_on and pipeline is None else "pipeline (%s)" % pipeline))
    for l in notes:
        print("  smartmirror: " + l)
    print("  clip: 640x480, %d frames at %g fps (%.1f s); the run took %.1f s (with start-up and model loading); "
          "load average %.2f on %d CPUs"
          % (frames, fps, clip_s, wall, rep["loadavg"], os.cpu_count() or 1))
    print("  analysed: %d / %d frames (%d dropped) = %.2f frames/s" % (n, frames, frames - n, fps_video))
    print("  face (%s points) in %d, fatigue in %d (MLP %d), heart in %d of the analysed frames"
          % (rep["landmarks"], len(face), len(fat), len(mlp), len(heart)))
    print("  emotion: %d results, %.2f Hz (%s); heart: %d UltraLightNet readings (last %s BPM), POS median %s BPM"
          % (len(runs), emo_hz, emotion_precision or "precision not reported", rep["heart_net_readings"],
             "%.1f" % net[-1] if net else "-", rep["bpm_pos_median"]))
    print("  ms per analysed frame, mean / median / p95:")
    for k, label in (("face", "face (tracker: BlazeFace when lost + FaceMesh)"),
                     ("fatigue", "fatigue (features + MLP)"),
                     ("heart", "heart (UltraLightNet stream + POS + fusion)"),
                     ("total", "total (the whole per-frame call)"),
                     ("emotion_run", "emotion run (worker, per result)")):
        print("    %-48s %s" % (label, ms(k)))
    mt = rep["meets"]
    print("  target (issue 10; issue 17 asks emotion at 30 Hz): >= 30 analysed frames/s: %s; face + fatigue every frame: %s; "
          "emotion >= %g Hz: %s; heart on: %s; all five models on: %s"
          % tuple(["yes" if mt[k] else "NO" for k in ("analysed_fps_ge_30", "face_and_fatigue_every_analysed_frame")]
                  + [want_hz] + ["yes" if mt[k] else "NO" for k in ("emotion_at_asked_rate", "heart_on",
                                                                     "all_models_on")]))


if __name__ == "__main__":
    main()
