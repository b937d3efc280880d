#!/usr/bin/env python3
"""make eval-bf16: what BF16 (SM_PRECISION=bf16: every GEMM conv with bfloat16
weights and activations, FP32 accumulation and epilogue) changes against FP32,
model by model, through the built smw-run (docs/PERFORMANCE.md, BF16 section).

  python3 tests/eval_bf16.py [--bin build/smw-run] [--models models]
                             [--fixtures build/fixtures] [--convert build/smw-convert]
                             [--limit N] [--mesh-photos N] [--novel-photos N] [--jobs N]
                             [--json OUT.json]

Material (all real unless said otherwise):
  * the 204 photos of tests/fixtures/eval/emotion/london (Face Research Lab London
    Set, CC BY 4.0, SOURCES.md there): the whole --face pipeline (BlazeFace ->
    FaceMesh -> default emotion model models/emotion_fer.smw) in each precision:
    top-1 agreement, probability change, landmark movement in 192-pixel ROI units;
    and, to see the mesh alone, the same 192x192 ROI crop (cut here from the FP32
    ROI) of the first --mesh-photos faces through face_landmark_with_attention.smw.
  * UltraLightNet with the user's checkpoint (models/ultralight_rppg.smw, made from
    ../shared/seed/checkpoints/best_model.pth): the test_ultralight cases from
    build/fixtures/ultralight_ref (random, constant, batch2, t90: synthetic) and a
    180-frame clip of the London photos' centre crops (real pixels, no pulse).
  * NovelEmotionModel with seeded random weights from PyTorch (build/fixtures/
    emotion_ref/emotion_rand.pth, as test_emotion), on its four reference inputs and
    the London photos at 300x300: no trained weights exist, so top-1 only as a
    stability figure.
  * the fatigue MLP (models/fatigue_mlp.smw, the user's joblib) on the real feature
    tracks of tests/fixtures/eval/fatigue.
JPEG decoding for the crops uses ffmpeg (installed here, not in CI: this target is
not part of make test). numpy is the only Python package used.
"""
import argparse
import csv
import glob
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PHOTOS = os.path.join(ROOT, "tests", "fixtures", "eval", "emotion", "london")


def run(cmd, prec, **kw):
    env = dict(os.environ, SM_PRECISION=prec)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)
    if out.returncode != 0:
        raise RuntimeError("%s (SM_PRECISION=%s): %s" % (" ".join(cmd), prec, out.stderr.strip()))
    return out.stdout


def smw(binary, model, x, prec, tmp):
    """Runs smw-run MODEL --input x in one precision; returns {output: array}."""
    d = tempfile.mkdtemp(dir=tmp)
    inp = os.path.join(d, "in.npy")
    np.save(inp, x)
    run([binary, model, "--input", inp, "--out-dir", d], prec)
    return {os.path.basename(p)[:-4]: np.load(p) for p in glob.glob(os.path.join(d, "*.npy")) if p != inp}


def decode(path, cache):
    """RGB uint8 HxWx3 through ffmpeg (raw rgb24; the size from a PPM header)."""
    out = os.path.join(cache, os.path.basename(path) + ".ppm")
    if not os.path.exists(out):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", path, "-f", "image2", "-c:v", "ppm", out], check=True)
    with open(out, "rb") as f:
        data = f.read()
    parts, pos = [], 0
    while len(parts) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        parts.append(data[pos:end])
        pos = end
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(data[pos + 1:pos + 1 + w * h * 3], np.uint8).reshape(h, w, 3)


def bilinear(img, xs, ys):
    """img HxWxC float sampled at float pixel-centre coordinates (edge-clamped)."""
    h, w = img.shape[:2]
    xs = np.clip(xs, 0, w - 1)
    ys = np.clip(ys, 0, h - 1)
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (xs - x0)[..., None], (ys - y0)[..., None]
    return ((img[y0, x0] * (1 - fx) + img[y0, x1] * fx) * (1 - fy) + (img[y1, x0] * (1 - fx) + img[y1, x1] * fx) * fy)


def roi_crop(img, roi, size=192):
    """The rotated square ROI (cx, cy, w, rotation) resampled to size x size in [0,1]."""
    t = (np.arange(size) + 0.5) / size - 0.5
    u, v = np.meshgrid(t * roi["w"], t * roi["w"])
    c, s = np.cos(roi["rotation"]), np.sin(roi["rotation"])
    xs = roi["cx"] + u * c - v * s - 0.5
    ys = roi["cy"] + u * s + v * c - 0.5
    return (bilinear(img.astype(np.float32), xs, ys) / 255.0).astype(np.float32)


def resize(img, size):
    h, w = img.shape[:2]
    ys, xs = np.meshgrid((np.arange(size) + 0.5) * h / size - 0.5, (np.arange(size) + 0.5) * w / size - 0.5,
                         indexing="ij")
    return bilinear(img.astype(np.float32), xs, ys)


def rel_err(a, b):
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def cosine(a, b):
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def eval_pipeline(args, photos, tmp, cache):
    agree, n, dprob, lm192, lmmax, dscore, mesh_mv, mesh_max, flag = 0, 0, 0.0, [], 0.0, 0.0, [], 0.0, 0.0
    mesh = os.path.join(args.models, "face_landmark_with_attention.smw")

    def face(job):
        p, prec = job
        return json.loads(run([args.bin, "--face", "--image", p, "--models", args.models, "--json"], prec))

    jobs = [(p, prec) for p in photos for prec in ("fp32", "bf16")]
    with ThreadPoolExecutor(max_workers=args.jobs) as ex:
        results = list(ex.map(face, jobs))
    for i, p in enumerate(photos):
        f, b = results[2 * i], results[2 * i + 1]
        if not f.get("face") or not b.get("face"):
            continue
        n += 1
        dscore = max(dscore, abs(f["detections"][0]["score"] - b["detections"][0]["score"]))
        scale = 192.0 / f["face"]["roi"]["w"]
        d = np.linalg.norm(np.array(f["face"]["landmarks"])[:, :2] - np.array(b["face"]["landmarks"])[:, :2], axis=1)
        lm192.append(float(np.mean(d)) * scale)
        lmmax = max(lmmax, float(np.max(d)) * scale)
        if f.get("emotion") and b.get("emotion"):
            pf, pb = f["emotion"]["probs"], b["emotion"]["probs"]
            agree += max(pf, key=pf.get) == max(pb, key=pb.get)
            dprob = max(dprob, max(abs(pf[k] - pb[k]) for k in pf))
        if n > args.mesh_photos:
            continue
        # the mesh alone on the same real crop
        crop = roi_crop(decode(p, cache), f["face"]["roi"])[None]
        o = {prec: smw(args.bin, mesh, crop, prec, tmp) for prec in ("fp32", "bf16")}
        key = "output_mesh_identity"
        a = o["fp32"][key].reshape(-1, 3)[:, :2]
        c = o["bf16"][key].reshape(-1, 3)[:, :2]
        dm = np.linalg.norm(a - c, axis=1)
        mesh_mv.append(float(np.mean(dm)))
        mesh_max = max(mesh_max, float(np.max(dm)))
        flag = max(flag, float(np.max(np.abs(o["fp32"]["conv_faceflag"] - o["bf16"]["conv_faceflag"]))))
    return {"faces": n, "mesh_crops": len(mesh_mv), "emotion_top1_agree": agree, "emotion_max_dprob": dprob, "detector_max_dscore": dscore,
            "pipeline_lm_mean_px192": float(np.mean(lm192)) if lm192 else None, "pipeline_lm_max_px192": lmmax,
            "mesh_mean_px192": float(np.mean(mesh_mv)) if mesh_mv else None, "mesh_max_px192": mesh_max,
            "mesh_faceflag_max_dlogit": flag}


def eval_ultralight(args, photos, tmp, cache):
    model = os.path.join(args.models, "ultralight_rppg.smw")
    if not os.path.exists(model):
        return None
    cases = {}
    for d in sorted(glob.glob(os.path.join(args.fixtures, "ultralight_ref", "*", "input.npy"))):
        cases[os.path.basename(os.path.dirname(d))] = np.load(d).astype(np.float32)
    frames = []
    for p in (photos * 2)[:180]:
        img = decode(p, cache)
        h, w = img.shape[:2]
        s = min(h, w)
        sq = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        frames.append(resize(sq, 36).transpose(2, 0, 1) / 255.0)
    if len(frames) == 180:
        cases["london_clip"] = np.stack(frames)[None].astype(np.float32)
    out = {}
    for name, x in cases.items():
        f = smw(args.bin, model, x, "fp32", tmp)["bpm"]
        b = smw(args.bin, model, x, "bf16", tmp)["bpm"]
        out[name] = {"bpm_fp32": f.tolist(), "bpm_bf16": b.tolist(), "max_dbpm": float(np.max(np.abs(f - b)))}
    return out


def eval_novel(args, photos, tmp, cache):
    pth = os.path.join(args.fixtures, "emotion_ref", "emotion_rand.pth")
    if not os.path.exists(pth):
        return None
    model = os.path.join(tmp, "emotion_rand.smw")
    subprocess.run([args.convert, pth, "-o", model], check=True, capture_output=True)
    inputs = {}
    for d in sorted(glob.glob(os.path.join(args.fixtures, "emotion_ref", "*", "input.npy"))):
        inputs[os.path.basename(os.path.dirname(d))] = np.load(d).astype(np.float32)
    for p in photos[: args.novel_photos]:
        inputs["london/" + os.path.basename(p)] = (resize(decode(p, cache), 300) / 255.0).transpose(2, 0, 1)[None].astype(np.float32)
    worst_logit, worst_cos, agree = 0.0, 1.0, 0
    for name, x in inputs.items():
        f = smw(args.bin, model, x, "fp32", tmp)
        b = smw(args.bin, model, x, "bf16", tmp)
        worst_logit = max(worst_logit, rel_err(b["logits"], f["logits"]))
        worst_cos = min(worst_cos, cosine(b["features"], f["features"]))
        agree += int(np.argmax(b["logits"]) == np.argmax(f["logits"]))
    return {"inputs": len(inputs), "max_rel_logit_err": worst_logit, "min_feature_cos": worst_cos,
            "top1_agree": agree}


def eval_fatigue(args, tmp):
    model = os.path.join(args.models, "fatigue_mlp.smw")
    if not os.path.exists(model):
        return None
    rows = []
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "eval", "fatigue", "*.track.csv"))):
        with open(p, newline="") as fh:
            for r in csv.DictReader(fh):
                if r.get("face") == "1":
                    mar = float(r["mar"])
                    rows.append([float(r["ear"]), mar, 1.0 if mar > 0.6 else 0.0, float(r["tilt_deg"]),
                                 float(r["pitch_ratio"])])
    x = np.array(rows, np.float64)
    f = smw(args.bin, model, x, "fp32", tmp)["proba"]
    b = smw(args.bin, model, x, "bf16", tmp)["proba"]
    return {"rows": len(rows), "max_dproba": float(np.max(np.abs(f - b))),
            "top1_agree": int(np.sum(np.argmax(f, 1) == np.argmax(b, 1)))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "smw-run"))
    ap.add_argument("--convert", default=os.path.join(ROOT, "build", "smw-convert"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "build", "fixtures"))
    ap.add_argument("--limit", type=int, default=0, help="only the first N photos (0: all 204)")
    ap.add_argument("--novel-photos", type=int, default=20, help="London photos for NovelEmotionModel")
    ap.add_argument("--mesh-photos", type=int, default=60, help="real ROI crops for the mesh alone")
    ap.add_argument("--jobs", type=int, default=2, help="smw-run processes at once")
    ap.add_argument("--json")
    args = ap.parse_args()
    photos = sorted(glob.glob(os.path.join(PHOTOS, "*.jpg")))
    if args.limit:
        photos = photos[: args.limit]
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "decoded")
        os.makedirs(cache)
        res["fatigue_mlp"] = eval_fatigue(args, tmp)
        res["ultralight"] = eval_ultralight(args, photos, tmp, cache)
        res["novel_emotion"] = eval_novel(args, photos, tmp, cache)
        res["face_pipeline"] = eval_pipeline(args, photos, tmp, cache)
    print(json.dumps(res, indent=1))
    if args.json:
        tmpf = args.json + ".tmp"
        with open(tmpf, "w") as fh:
            json.dump(res, fh, indent=1)
        os.replace(tmpf, args.json)
    p = res["face_pipeline"]
    print("\n| model | material | BF16 vs FP32 | bar | meets |")
    print("|---|---|---|---|---|")
    if p["faces"]:
        print("| default emotion (emotion_fer.smw) | %d real faces | top-1 agreement %d/%d (%.1f%%), max prob change %.2g | top-1 >= 99%% | %s |"
              % (p["faces"], p["emotion_top1_agree"], p["faces"], 100.0 * p["emotion_top1_agree"] / p["faces"],
                 p["emotion_max_dprob"], "yes" if p["emotion_top1_agree"] >= 0.99 * p["faces"] else "no"))
        print("| FaceMesh (attention), alone | %d real ROI crops | landmarks mean %.3f px, max %.3f px at 192; face flag logit %.2g | < 0.1 px | %s |"
              % (p["mesh_crops"], p["mesh_mean_px192"], p["mesh_max_px192"], p["mesh_faceflag_max_dlogit"],
                 "yes" if p["mesh_max_px192"] < 0.1 else ("mean only" if p["mesh_mean_px192"] < 0.1 else "no")))
        print("| BlazeFace + FaceMesh pipeline | %d real photos | landmarks mean %.3f px, max %.3f px at 192; detector score %.2g | < 0.1 px | %s |"
              % (p["faces"], p["pipeline_lm_mean_px192"], p["pipeline_lm_max_px192"], p["detector_max_dscore"],
                 "yes" if p["pipeline_lm_max_px192"] < 0.1 else ("mean only" if p["pipeline_lm_mean_px192"] < 0.1 else "no")))
    u = res["ultralight"]
    if u:
        worst = max(v["max_dbpm"] for v in u.values())
        print("| UltraLightNet (user checkpoint) | %s | max BPM change %.3g | < 0.1 BPM | %s |"
              % (", ".join(u), worst, "yes" if worst < 0.1 else "no"))
    nv = res["novel_emotion"]
    if nv:
        print("| NovelEmotionModel (random weights) | %d inputs | max logit error %.2g x max|logit|, feature cos %.6f, top-1 %d/%d | (no trained weights) | - |"
              % (nv["inputs"], nv["max_rel_logit_err"], nv["min_feature_cos"], nv["top1_agree"], nv["inputs"]))
    fm = res["fatigue_mlp"]
    if fm:
        print("| fatigue MLP (user joblib) | %d real feature rows | max P change %.2g, top-1 %d/%d | top-1 >= 99%% | %s |"
              % (fm["rows"], fm["max_dproba"], fm["top1_agree"], fm["rows"], "yes" if fm["top1_agree"] >= 0.99 * fm["rows"] else "no"))


if __name__ == "__main__":
    main()
