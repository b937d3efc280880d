"""Flattens the committed face-ref JSON (TFLite interpreter and official
MediaPipe pipeline outputs, tests/fixtures/face-ref) into plain number files the
C suite (tests/test_face.c) reads with fscanf. No value is computed here: every
number is copied from the JSON as is (repr of the float64 JSON value).

    /usr/bin/python3 tests/gen/gen_face_refs.py OUTDIR   ->  OUTDIR/face/*.txt
"""
import json
import os
import sys

REF = os.path.join(os.environ.get("SM_REPO", "."), "tests", "fixtures", "face-ref")


def main():
    out = os.path.join(sys.argv[1], "face")
    os.makedirs(out, exist_ok=True)

    def write(name, lines):
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, os.path.join(out, name))

    # TFLite cases: name input fill sha256 n_out maxabs... roi(5 or -)
    idx = json.load(open(os.path.join(REF, "tflite", "index.json")))
    lines = []
    for c in idx["cases"]:
        inp = c["input"]
        made = inp["made_by"]
        if inp["file"]:
            fill = "file:" + inp["file"]
        elif made.startswith("constant"):
            fill = "const:" + made.split()[1]
        else:
            fill = "random:" + made.split("random:")[1].split()[0]
        roi = c.get("roi_px")
        roi_s = " ".join(repr(float(roi[k])) for k in ("cx", "cy", "w", "h", "r")) if roi else "- - - - -"
        outs = " ".join("%s %s %r" % (o["name"], o["file"], float(o["max_abs"])) for o in c["outputs"])
        lines.append("%s %s %s %s %d %s %s" % (c["name"], c["model"], fill, inp["sha256"], len(c["outputs"]), outs,
                                              roi_s))
    write("tflite_cases.txt", lines)

    mp = os.path.join(REF, "mediapipe")
    for fn in sorted(os.listdir(mp)):
        if not fn.endswith(".json") or fn in ("index.json",) or fn.startswith("clip."):
            continue
        d = json.load(open(os.path.join(mp, fn)))
        base = fn[:-5]
        if base.endswith(".detection"):
            lines = ["%d %d %d" % (d["width"], d["height"], len(d["detections"]))]
            for det in d["detections"]:
                b = det["box"]
                vals = [det["score"], b["xCenter"], b["yCenter"], b["width"], b["height"]]
                for kp in det["keypoints"]:
                    vals += kp[:2]
                lines.append(" ".join(repr(float(v)) for v in vals))
        else:
            sends = [d["faces"]] + list(d["frames"])
            npts = max([len(s[0]["landmarks_norm"]) for s in sends if s] or [0])
            lines = ["%d %d %d %d" % (d["width"], d["height"], len(sends), npts)]
            for s in sends:
                lines.append("%d" % len(s[:1]))
                for face in s[:1]:
                    for p in face["landmarks_norm"]:
                        lines.append(" ".join(repr(float(v)) for v in p[:3]))
        write(base + ".txt", lines)
    print("gen_face_refs: wrote %s" % out)


if __name__ == "__main__":
    main()
