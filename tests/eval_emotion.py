#!/usr/bin/env python3
"""make eval-emotion: accuracy of the default expression model on public,
real, labelled face photos through our WHOLE pipeline (BlazeFace + FaceMesh
landmarks -> face box rule -> face-api's crop/pad/resize -> FaceExpressionNet
on our graph executor), per face box rule, next to face-api's own pipeline
(its SSD MobileNet v1 box, computed by face-api in Node: tests/gen/faceapi_ref.mjs
eval) on the same photos.

Sets (labels.csv rows "relative/path.jpg,label"; SOURCES.md says where each
photo comes from and how it was labelled):
  tests/fixtures/eval/emotion            committed (CC BY 4.0), always run
  $SM_EMOTION_EVAL_LOCAL (a folder)      photos that may not be redistributed,
                                         kept locally; skipped visibly when unset
face-api's results for a set are read from <set>/faceapi.json when present.

  python3 tests/eval_emotion.py [--bin build/smw-run] [--models models]
                                [--fit] [--json OUT.json]
--fit prints the face box rule constants fitted to face-api's boxes (median
centre offset and size relative to the landmark extents).
Only the Python standard library is used.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys

CLASSES = ["neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"]


def read_set(folder):
    rows = []
    with open(os.path.join(folder, "labels.csv"), newline="") as f:
        for r in csv.reader(f):
            if r and not r[0].startswith("#"):
                rows.append((r[0], r[1]))
    fa = {}
    p = os.path.join(folder, "faceapi.json")
    if os.path.exists(p):
        with open(p) as f:
            for r in json.load(f):
                fa[os.path.normpath(r["image"])] = r
    return rows, fa


def run_ours(binary, models, image, at_box):
    cmd = [binary, "--face", "--image", image, "--models", models, "--json", "--emotion-box", "all"]
    if at_box:
        cmd += ["--emotion-at", ",".join("%.4f" % v for v in at_box)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), out.stderr.strip()))
    return json.loads(out.stdout)


def top(probs):
    return max(probs, key=lambda k: probs[k]) if probs else None


class Tally:
    def __init__(self):
        self.n = 0
        self.ok = 0
        self.missed = 0  # no face / no result
        self.conf = {t: {p: 0 for p in CLASSES + ["none"]} for t in CLASSES}

    def add(self, truth, pred):
        self.n += 1
        pred = pred if pred in CLASSES else "none"
        self.missed += pred == "none"
        self.ok += pred == truth
        self.conf[truth][pred] += 1

    def per_class(self, c):
        tot = sum(self.conf[c].values())
        return (self.conf[c][c] / tot, tot) if tot else (None, 0)


def pct(x):
    return "-" if x is None else "%.1f" % (100.0 * x)


def print_table(title, tallies, present):
    print("\n%s" % title)
    head = "| pipeline | n | top-1 % | no face | " + " | ".join(c for c in present) + " |"
    print(head)
    print("|" + "---|" * (4 + len(present)))
    for name, t in tallies:
        if t.n == 0:
            continue
        cells = [pct(t.per_class(c)[0]) for c in present]
        print("| %s | %d | %s | %d | %s |" % (name, t.n, pct(t.ok / t.n), t.missed, " | ".join(cells)))


def print_confusion(title, t, present):
    print("\n%s (rows: true class, columns: predicted)" % title)
    cols = CLASSES + ["none"]
    print("| true \\ pred | " + " | ".join(cols) + " |")
    print("|" + "---|" * (1 + len(cols)))
    for c in present:
        print("| %s | %s |" % (c, " | ".join(str(t.conf[c][p]) for p in cols)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/smw-run")
    ap.add_argument("--models", default="models")
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.models, "emotion_fer.smw")):
        print("skipped: eval-emotion: %s/emotion_fer.smw absent (make models)" % a.models)
        return 0
    sets = [("london (committed, CC BY 4.0)", "tests/fixtures/eval/emotion")]
    local = os.environ.get("SM_EMOTION_EVAL_LOCAL")
    if local and os.path.exists(os.path.join(local, "labels.csv")):
        sets.append(("local (not redistributable)", local))
    else:
        print("skipped: local evaluation photos (set SM_EMOTION_EVAL_LOCAL to a folder with labels.csv; "
              "docs/EMOTION.md lists the sets used)")
    rules = ["faceapi", "faceapi-square", "landmarks", "landmarks-square", "square-1.25"]
    records = []
    overall = {}
    fit = {"dx": [], "dy": [], "sw": [], "sh": []}
    for set_name, folder in sets:
        rows, fa = read_set(folder)
        tallies = {r: Tally() for r in rules}
        tallies["ours on face-api's box"] = Tally()
        tallies["face-api (its SSD box)"] = Tally()
        tallies["face-api (68-landmark aligned box)"] = Tally()
        both = {"ours, box rule faceapi": Tally(), "face-api (its SSD box)": Tally()}
        for rel, label in rows:
            image = os.path.join(folder, rel)
            ref = fa.get(os.path.normpath(rel)) or fa.get(os.path.normpath(image))
            det = ref.get("det") if ref else None
            res = run_ours(a.bin, a.models, image, det["box"] if det else None)
            rr = res.get("emotion_rules") or {}
            for r in rules:
                tallies[r].add(label, top(rr[r]["probs"]) if r in rr and rr[r] else None)
            if det:
                at = res.get("emotion_at")
                tallies["ours on face-api's box"].add(label, top(at["probs"]) if at else None)
            if ref is not None:
                tallies["face-api (its SSD box)"].add(label, top(det["probs"]) if det else None)
                al = ref.get("aligned")
                tallies["face-api (68-landmark aligned box)"].add(label, top(al["probs"]) if al else None)
            face = res.get("face")
            if face and det and "faceapi" in rr:
                both["ours, box rule faceapi"].add(label, top(rr["faceapi"]["probs"]))
                both["face-api (its SSD box)"].add(label, top(det["probs"]))
            if face and det:
                xs = [p[0] for p in face["landmarks"]]
                ys = [p[1] for p in face["landmarks"]]
                W, H = max(xs) - min(xs), max(ys) - min(ys)
                x, y, w, h = det["box"]
                fit["dx"].append((x + w / 2 - (max(xs) + min(xs)) / 2) / W)
                fit["dy"].append((y + h / 2 - (max(ys) + min(ys)) / 2) / H)
                fit["sw"].append(w / W)
                fit["sh"].append(h / H)
            records.append({"set": set_name, "image": image, "label": label,
                            "ours": {r: (rr.get(r) or {}).get("probs") for r in rules},
                            "faceapi": det["probs"] if det else None})
        present = [c for c in CLASSES if any(l == c for _, l in rows)]
        order = [(r, tallies[r]) for r in rules] + [(k, tallies[k]) for k in (
            "ours on face-api's box", "face-api (its SSD box)", "face-api (68-landmark aligned box)")]
        print_table("## %s: %d photos; top-1 accuracy per pipeline and per class (%%)" % (set_name, len(rows)),
                    [("ours, box rule " + n if n in rules else n, t) for n, t in order], present)
        if both["ours, box rule faceapi"].n:
            print_table("### %s: the %d photos where both pipelines found the face" % (
                set_name, both["ours, box rule faceapi"].n), list(both.items()), present)
        print_confusion("### %s: ours, default rule (faceapi)" % set_name, tallies["faceapi"], present)
        if tallies["face-api (its SSD box)"].n:
            print_confusion("### %s: face-api's own pipeline" % set_name, tallies["face-api (its SSD box)"],
                            present)
        for n, t in order:
            o = overall.setdefault(n, [0, 0])
            o[0] += t.ok
            o[1] += t.n
    if len(sets) > 1:
        print("\n## all sets: top-1 %")
        for n, (ok, tot) in overall.items():
            if tot:
                print("| %s | %d | %s |" % ("ours, box rule " + n if n in rules else n, tot, pct(ok / tot)))
    if a.fit and fit["dx"]:
        print("\n## face box fit to face-api's SSD boxes (%d photos): median (IQR)" % len(fit["dx"]))
        for k, v in fit.items():
            q = statistics.quantiles(v, n=4)
            print("  %s = %.4f  (%.4f .. %.4f)" % (k, statistics.median(v), q[0], q[2]))
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            json.dump(records, f)
        os.replace(a.json + ".tmp", a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
