"""Peer comparison: our engine vs ONNX Runtime, PyTorch TorchScript and TFLite.

Run by bench/compare.sh (`make bench-compare`); see docs/PERFORMANCE.md.
For every selected model and thread count:
  1. every runtime runs once on the same input; its outputs are compared with the
     reference (PyTorch eager for the PyTorch/sklearn models, the TFLite
     interpreter for the face models). A runtime whose output differs by more
     than TOL x max|ref| on any output is not timed, and the table says so.
  2. warm-up, then R rounds; in each round every runtime does K runs back to
     back (K per runtime, about --round-seconds of work), in an order rotated
     from round to round, so that machine noise falls on all of them alike.
     Reported: the median of the per-round medians, and the min of all runs.
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

warnings.filterwarnings("ignore")  # sklearn version notes when unpickling, torch.onnx chatter

import torch  # noqa: E402

import models as M  # noqa: E402

ALL_MODELS = ["emotion", "ultralight", "blazeface", "facemesh", "fatigue_mlp"]
RUNTIMES = ["ours", "onnxruntime", "pytorch", "tflite"]
TOL = [1e-3]  # x max|ref|, per output tensor (--tol)
# Ours in BF16 (--precision bf16) is checked against the same FP32 reference with a
# looser bound (--tol-bf16): bfloat16 keeps 8 significant bits, so its outputs
# move by about 1% of max|out| (docs/PERFORMANCE.md, BF16 accuracy).
TOL_BF16 = [0.1]
# Ours' variants timed in the same rounds: runtime key -> precision. The peers run
# FP32 in every row: none has a BF16 CPU path worth comparing (ONNX Runtime's CPU
# execution provider runs FP32 kernels; docs/PERFORMANCE.md).
OURS = {"ours": "fp32", "ours_bf16": "bf16"}
# The MLP is not a GEMM conv: it stays float64 in either precision (no BF16 row).
NO_BF16 = {"fatigue_mlp": "the MLP is not a GEMM conv and stays float64 in either precision"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Skip(Exception):
    pass


# ---- preparation -------------------------------------------------------------------

def run(cmd, env=None, timeout=600):
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


def convert_ours(o, src, smw, name):
    """Our .smw from the original file with build/smw-convert; None + reason if not possible."""
    conv = os.path.join(o.build, "smw-convert")
    if os.path.exists(smw) and os.path.getmtime(smw) >= max(os.path.getmtime(src), os.path.getmtime(conv)
                                                            if os.path.exists(conv) else 0):
        return smw, None
    if not os.path.exists(conv):
        return None, "%s not built" % conv
    r = run([conv, src, "-o", smw])
    if r.returncode != 0:
        return None, "smw-convert %s failed: %s" % (os.path.basename(src), (r.stderr or r.stdout).strip()[-300:])
    return smw, None


def face_models(o):
    """The .tflite files: models/cache (make models) or fetched into bench/.work."""
    for d in (os.path.join(REPO, "models", "cache"), os.path.join(o.work, "face")):
        if all(os.path.exists(os.path.join(d, f + ".tflite")) for f in
               ("face_detection_short_range", "face_landmark")):
            return d
    d = os.path.join(o.work, "face")
    env = dict(os.environ, B=o.build, SM_MODEL_CACHE=d, SM_MODEL_OUT=d)
    log("compare: fetching the MediaPipe face models (models/fetch-face-models.sh --fetch-only) into", d)
    r = run(["sh", os.path.join(REPO, "models", "fetch-face-models.sh"), "--fetch-only"], env=env)
    if r.returncode != 0:
        raise Skip("face models not available: " + (r.stderr or r.stdout).strip()[-300:])
    return d


def build_spec(o, name):
    w = o.work
    if name == "emotion":
        ckpt = os.path.join(w, "emotion.pth")
        s = M.emotion(ckpt)
        s.source_stamp = os.path.getmtime(ckpt)
        s.smw, s.ours_why = convert_ours(o, ckpt, os.path.join(w, "emotion.smw"), name)
    elif name == "ultralight":
        pth = os.path.join(o.seed, "checkpoints", "best_model.pth")
        if not os.path.exists(pth):
            raise Skip("skipped: %s not found (the user's checkpoint)" % pth)
        s = M.ultralight(pth)
        s.source_stamp = os.path.getmtime(pth)
        s.smw, s.ours_why = convert_ours(o, pth, os.path.join(w, "ultralight.smw"), name)
    elif name == "fatigue_mlp":
        jl = os.path.join(o.seed, "checkpoints", "fatigue_mlp.joblib")
        if not os.path.exists(jl):
            raise Skip("skipped: %s not found (the user's checkpoint)" % jl)
        s = M.fatigue_mlp(jl)
        s.source_stamp = os.path.getmtime(jl)
        s.smw, s.ours_why = convert_ours(o, jl, os.path.join(w, "fatigue_mlp.smw"), name)
    else:
        d = face_models(o)
        base = M.FACE[name][0]
        s = M.face(name, os.path.join(d, base + ".tflite"), o.nodes)
        s.source_stamp = os.path.getmtime(s.tflite_model)
        s.smw, s.ours_why = convert_ours(o, s.tflite_model, os.path.join(w, base + ".smw"), name)
    md = os.path.join(w, name)
    os.makedirs(md, exist_ok=True)
    s.dir = md
    # Inputs, in every form the runtimes read.
    np.savez(os.path.join(md, "inputs.npz"), **{"in%d" % k: x for k, x in enumerate(s.inputs)})
    desc = []
    for k, (n, x) in enumerate(zip(s.input_names, s.inputs)):
        f = os.path.join(md, "in%d.bin" % k)
        np.ascontiguousarray(x).tofile(f)
        desc.append({"name": n, "dtype": str(x.dtype), "shape": list(x.shape), "file": f})
    with open(os.path.join(md, "inputs.json"), "w") as f:
        json.dump(desc, f)
    if s.ours_input is not None:
        np.save(os.path.join(md, "ours_in.npy"), s.ours_input)
    if s.tflite_input is not None:
        np.ascontiguousarray(s.tflite_input, np.float32).tofile(os.path.join(md, "tflite_in.f32"))
    # Reference: PyTorch eager.
    xs = [torch.from_numpy(x) for x in s.inputs]
    with torch.no_grad():
        ref = s.module(*xs)
    ref = ref if isinstance(ref, (tuple, list)) else (ref,)
    s.ref = [t.numpy().copy() for t in ref]
    s.ref_note, s.eager_vs_tflite = "", None
    if s.tflite_model and o.tflite_js:
        # The face models' reference is the original framework: the TFLite interpreter.
        tfl = tflite_call(o, s, 1, outdir=os.path.join(md, "tflite-ref"))
        d, ok, det = diff(s, tfl)
        s.eager_vs_tflite = d
        if ok:
            s.ref, s.ref_source = tfl, "TFLite interpreter"
            s.ref_note = "reference: TFLite interpreter; the PyTorch rebuild differs from it by %.2g" % d
        else:
            s.ref_note = "PyTorch rebuild disagrees with the TFLite interpreter (%s); reference stays PyTorch eager" % det
    elif s.tflite_model:
        s.ref_note = "TFLite interpreter not installed: reference is the PyTorch rebuild of the graph"
    # Exports: traced TorchScript (frozen in the worker) and ONNX.
    s.pt = os.path.join(md, "model.pt")
    s.onnx = os.path.join(md, "model.onnx")
    stamp = os.path.join(md, "exports.stamp")
    key = json.dumps({"src": [os.path.getmtime(f) for f in (os.path.join(HERE, "models.py"), __file__)],
                      "model": s.source_stamp, "torch": torch.__version__})
    if os.path.exists(s.pt) and os.path.exists(s.onnx) and os.path.exists(stamp) and open(stamp).read() == key:
        return s
    with torch.no_grad():
        tr = torch.jit.trace(s.module, tuple(xs), check_trace=False)
        tr.save(s.pt)
        torch.onnx.export(s.module, tuple(xs), s.onnx, input_names=s.input_names,
                          output_names=s.output_names, opset_version=13, do_constant_folding=True)
    with open(stamp, "w") as f:
        f.write(key)
    return s


# ---- runtimes ------------------------------------------------------------------------

class Worker:
    """A persistent peer process speaking the JSON-line protocol of *_worker.*."""

    def __init__(self, cmd, env=None):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env)
        line = self.p.stdout.readline()
        if not line:
            err = self.p.stderr.read()
            raise RuntimeError((err or "no answer").strip()[-400:])
        self.info = json.loads(line)

    def ask(self, cmd):
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(self.p.stderr.read().strip()[-400:])
        return json.loads(line)

    def runs(self, n):
        return self.ask({"cmd": "run", "n": n})["ms"]

    def close(self):
        try:
            self.p.stdin.write('{"cmd": "quit"}\n')
            self.p.stdin.close()
            self.p.wait(10)
        except Exception:
            self.p.kill()


def ours_env(threads, precision="fp32"):
    return dict(os.environ, SM_THREADS=str(threads), SM_PRECISION=precision)


def ours_outputs(o, s, threads, outdir, precision="fp32"):
    exe = os.path.join(o.build, "smw-run")
    if not os.path.exists(exe):
        return None, "smw-run not built"
    shutil.rmtree(outdir, ignore_errors=True)
    r = run([exe, s.smw, "--input", os.path.join(s.dir, "ours_in.npy"), "--out-dir", outdir],
            env=ours_env(threads, precision))
    if r.returncode != 0:
        msg = (r.stderr or r.stdout).strip().splitlines()
        last = msg[-1] if msg else "exit %d" % r.returncode
        if last.startswith("smw-run: "):
            last = last[len("smw-run: "):]
        return None, "not built yet (smw-run: %s)" % last[:300]
    outs = {os.path.splitext(os.path.basename(f))[0]: np.load(f) for f in glob.glob(outdir + "/*.npy")}
    return outs, None


def ours_bench(o, s, threads, iters, precision="fp32"):
    """One `smw-bench model` call: {median, min, calls} of its timed runs (per-inference
    ms; `calls` inferences per timed run where one call is too short to time alone)."""
    # each call is a fresh process: warm it up as the peers' persistent workers are warm
    r = run([os.path.join(o.build, "smw-bench"), "model", s.smw, "--threads", str(threads),
             "--iters", str(iters), "--warmup-ms", str(int(o.warmup * 400)), "--precision", precision, "--json"],
            env=ours_env(threads, precision))
    if r.returncode != 0:
        return None, r.returncode, (r.stderr or r.stdout).strip()
    j = None
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            j = json.loads(line)
    if j is None:
        return None, 1, "no JSON from smw-bench model"
    if "min_ms" not in j:
        return None, 1, "smw-bench model printed no min_ms (an old build?)"
    if j.get("precision", "fp32") != precision:
        return None, 1, "smw-bench model ran %s, not %s" % (j.get("precision"), precision)
    return {"median": float(j["median_ms"]), "min": float(j["min_ms"]),
            "calls": int(j.get("calls_per_run", 1)), "fanouts": j.get("fanouts_per_run"),
            "isa": j.get("isa"), "bf16_kernel": j.get("bf16_kernel"), "bf16_native": j.get("bf16_native")}, 0, ""


def tflite_call(o, s, threads, bench=0, outdir=None):
    cmd = ["node", o.tflite_js, "--model", s.tflite_model, "--input", os.path.join(s.dir, "tflite_in.f32"),
           "--threads", str(threads), "--print", "0"]
    if bench:
        cmd += ["--bench", str(bench)]
    if outdir:
        shutil.rmtree(outdir, ignore_errors=True)
        cmd += ["--outdir", outdir]
    r = run(cmd)
    if r.returncode != 0:
        raise RuntimeError((r.stderr or r.stdout).strip()[-300:])
    if bench:
        for line in r.stdout.splitlines():
            if line.strip().startswith("bench "):
                b = json.loads(line.strip()[6:])
                return {"median": b["median_ms"], "min": b["min_ms"]}
        raise RuntimeError("tflite_run.js printed no bench line")
    with open(os.path.join(outdir, "outputs.json")) as f:
        j = json.load(f)
    return [np.fromfile(os.path.join(outdir, t["file"]), np.float32).reshape(t["shape"]) for t in j["outputs"]]


# ---- agreement -------------------------------------------------------------------------

def match_outputs(s, got):
    """got: list (in reference order) or dict name -> array. Returns list aligned with s.ref."""
    if isinstance(got, list):
        return got
    out, used = [], set()
    for name, ref in zip(s.output_names, s.ref):
        cand = got.get(name)
        if cand is None:  # by element count, when unique
            same = [k for k, v in got.items() if v.size == ref.size and k not in used]
            cand = got[same[0]] if len(same) == 1 else None
            if cand is not None:
                used.add(same[0])
        else:
            used.add(name)
        out.append(cand)
    return out


def diff(s, outs, tol=None):
    """(max_abs_diff, ok, detail) vs the reference: within TOL x max|ref| of each output,
    or, with tol (ours in BF16), within tol x max|ref| over all outputs: bfloat16's
    rounding error follows the activations feeding a head, not that head's own scale
    (a small output such as the emotion model's valence moves as much as the logits)."""
    worst, ok, det = 0.0, True, []
    scale_all = max(float(np.abs(r).max()) for r in s.ref) if s.ref else 0.0
    for name, ref, g in zip(s.output_names, s.ref, outs):
        if g is None:
            return None, False, "output %s missing" % name
        if g.size != ref.size:
            return None, False, "output %s has %d values, expected %d" % (name, g.size, ref.size)
        d = float(np.abs(g.reshape(-1).astype(np.float64) - ref.reshape(-1).astype(np.float64)).max())
        lim = TOL[0] * max(float(np.abs(ref).max()), 1e-6) if tol is None else tol * max(scale_all, 1e-6)
        if not np.isfinite(d) or d > lim:
            ok = False
            det.append("%s differs by %.3g > %.3g" % (name, d, lim))
        worst = max(worst, d) if np.isfinite(d) else float("inf")
    return worst, ok, "; ".join(det)


# ---- one (model, threads) ----------------------------------------------------------------

def sig(v, n):
    """v to n significant digits (the MLP's times are well under a microsecond)."""
    return float("%.*g" % (n, v))


def split(res):
    """A timing answer: a list of per-run ms, or the {median, min} of one call."""
    if isinstance(res, dict):
        return [res["median"]], [res["min"]]
    return list(res), list(res)


def measure(o, s, threads):
    """The rows of one (model, threads): FP32, then BF16 when asked and the model has
    GEMM convs; both from the same interleaved rounds (the peers timed once)."""
    precisions = [p for p in o.precisions if p == "fp32" or s.name not in NO_BF16]
    ours_keys = [k for k, p in OURS.items() if p in precisions]
    row = {"model": s.name, "threads": threads, "precision": "fp32", "gflop": sig(s.gflop, 4),
           "loadavg": float(open("/proc/loadavg").read().split()[0]),
           "fma_peak_gflops_per_core": o.peak,
           "ours_ms": None, "onnxruntime_ms": None, "pytorch_ms": None, "tflite_ms": None,
           "ours_min_ms": None, "onnxruntime_min_ms": None, "pytorch_min_ms": None, "tflite_min_ms": None,
           "max_abs_diff": None, "diffs": {}, "reference": s.ref_source, "notes": []}
    notes = row["notes"]
    tmp = os.path.join(s.dir, "out-t%d" % threads)
    os.makedirs(tmp, exist_ok=True)
    live = {}       # runtime -> callable(n) -> list of ms
    workers = []
    try:
        # Start peers and collect one output each.
        outs = {}
        try:
            w = Worker(["node", os.path.join(HERE, "ort_worker.js"), s.onnx,
                        os.path.join(s.dir, "inputs.json"), str(threads)],
                       env=dict(os.environ, ORT_MODULES=o.ort_modules))
            workers.append(w)
            d = os.path.join(tmp, "ort")
            os.makedirs(d, exist_ok=True)
            fs = w.ask({"cmd": "outputs", "dir": d})["files"]
            outs["onnxruntime"] = [np.fromfile(f["file"], np.float64 if f["dtype"] == "float64" else np.float32)
                                   .reshape(f["shape"]) for f in fs]
            live["onnxruntime"] = w.runs
            row["onnxruntime_version"] = w.info.get("onnxruntime")
        except Exception as e:
            notes.append("onnxruntime: could not run: %s" % str(e).splitlines()[-1][:200])
        try:
            w = Worker(["/usr/bin/python3", os.path.join(HERE, "torch_worker.py"), s.pt,
                        os.path.join(s.dir, "inputs.npz"), str(threads)])
            workers.append(w)
            d = os.path.join(tmp, "torch")
            os.makedirs(d, exist_ok=True)
            outs["pytorch"] = [np.load(f) for f in w.ask({"cmd": "outputs", "dir": d})["files"]]
            live["pytorch"] = w.runs
            row["pytorch_variant"] = w.info.get("variant")
        except Exception as e:
            notes.append("pytorch: could not run: %s" % str(e).splitlines()[-1][:200])
        if s.tflite_model:
            if not o.tflite_js:
                notes.append("tflite: %s not run: %s" % (o.tflite_js_path, o.tflite_missing))
            elif threads > 1:
                notes.append("tflite: only at 1 thread (its WASM build has no pthreads)")
            else:
                try:
                    outs["tflite"] = tflite_call(o, s, 1, outdir=os.path.join(tmp, "tflite"))
                    live["tflite"] = lambda n: tflite_call(o, s, 1, bench=n)
                except Exception as e:
                    notes.append("tflite: could not run: %s" % str(e).splitlines()[-1][:200])
        else:
            row["tflite_ms"] = None
        for key in ours_keys:
            if s.smw is None:
                notes.append("%s: not built yet (%s)" % (key, s.ours_why))
                continue
            got, why = ours_outputs(o, s, threads, os.path.join(tmp, key), OURS[key])
            if got is None:
                notes.append("%s: %s" % (key, why))
            else:
                outs[key] = match_outputs(s, got)
        # Agreement before any timing, against s.ref (see build_spec).
        if s.ref_note:
            notes.append(s.ref_note)
        agreed = []
        for rt in list(outs):
            d, ok, det = diff(s, outs[rt], TOL_BF16[0] if OURS.get(rt) == "bf16" else None)
            if ok and rt != "ours_bf16":  # the BF16 row reports its own difference
                agreed.append(rt)
            if rt == "tflite" and s.ref_source == "TFLite interpreter":
                d = s.eager_vs_tflite  # it is the reference: show how far PyTorch eager is from it
            row["diffs"][rt] = d
            if not ok:
                notes.append("%s output disagrees with the reference (%s): not timed" % (rt, det or "missing"))
                live.pop(rt, None)
            elif rt in OURS:
                ms, rc, err = ours_bench(o, s, threads, 1, OURS[rt])
                if ms is not None:
                    live[rt] = (lambda p: lambda n: ours_bench(o, s, threads, n, p)[0])(OURS[rt])
                elif rc == 2:
                    notes.append("%s: output agrees (smw-run) but smw-bench has no runner for this "
                                 "architecture yet: not timed (not built yet)" % rt)
                else:
                    notes.append("%s: smw-bench model failed: %s" % (rt, (err.splitlines() or ["?"])[-1][:200]))
        acc = [row["diffs"][rt] for rt in agreed if row["diffs"].get(rt) is not None]
        row["max_abs_diff"] = max(acc) if acc else None

        # Warm-up (peers; ours warms up inside each smw-bench call), then a run count
        # per runtime that makes each runtime's share of a round about round_s long.
        k = {}
        for rt in list(live):
            try:
                if rt in ("onnxruntime", "pytorch"):
                    t0 = time.perf_counter()
                    wu = []
                    while len(wu) < 3 or time.perf_counter() - t0 < o.warmup:
                        wu += live[rt](1)
                    est = min(wu[-2:])
                elif rt in OURS:
                    b = live[rt](1)
                    est = b["median"] * b["calls"]  # one timed run = `calls` inferences
                    row[rt + "_calls_per_run"] = b["calls"]
                    # parallel-fors handed to the workers per inference: what the fan-out
                    # rule decided, which no machine noise changes
                    row[rt + "_fanouts_per_run"] = b.get("fanouts")
                    # the ISA level, and for BF16 which GEMM kernel ran: the native
                    # vdpbf16ps one or the AVX2 widen emulation
                    row[rt + "_isa"] = b.get("isa")
                    if OURS[rt] == "bf16":
                        row["ours_bf16_kernel"], row["ours_bf16_native"] = b.get("bf16_kernel"), b.get("bf16_native")
                else:
                    est = split(live[rt](1))[0][0]
            except Exception as e:
                notes.append("%s: warm-up failed: %s" % (rt, (str(e).splitlines() or ["?"])[-1][:200]))
                live.pop(rt)
                continue
            k[rt] = int(max(1, min(2000, round(o.round_s * 1e3 / max(est, 1e-3)))))
            if rt == "tflite":
                # Each call is a fresh process whose WASM starts in V8's baseline tier and is
                # optimised in the background: enough runs per call that the steady state
                # dominates its median (the first call's estimate is the slow tier's).
                k[rt] = max(k[rt], 30 if o.quick else 100)
        row["runs_per_round"], row["rounds"] = k, o.rounds
        samples = {rt: [] for rt in live}
        mins = {rt: [] for rt in live}
        order = list(live)
        spent = {rt: 0.0 for rt in live}
        for r in range(o.rounds):
            rot = order[r % len(order):] + order[:r % len(order)] if order else []
            for rt in rot:
                if r >= 3 and spent[rt] > o.budget:
                    continue  # a very slow runtime (e.g. spinning threads on a busy machine): 3 rounds
                try:
                    t0 = time.perf_counter()
                    ms = live[rt](k[rt])
                    spent[rt] += time.perf_counter() - t0
                    if ms is None:
                        raise RuntimeError("no timing")
                    a, b = split(ms)
                    samples[rt].append(statistics.median(a))  # one median per round
                    mins[rt].extend(b)
                except Exception as e:
                    notes.append("%s: timing failed: %s" % (rt, (str(e).splitlines() or ["?"])[-1][:200]))
                    samples[rt] = []
                    order.remove(rt)
        for rt, ms in samples.items():
            if ms and len(ms) < o.rounds:
                notes.append("%s: timed in %d rounds only (over the %.0f s budget per runtime)"
                             % (rt, len(ms), o.budget))
            if ms:
                row[rt + "_ms"] = sig(statistics.median(ms), 5)
                row[rt + "_min_ms"] = sig(min(mins[rt] + ms), 5)
                row[rt + "_runs"] = len(ms) * (1 if rt not in k else k[rt])
        for key in OURS:
            if samples.get(key):
                c = row.get(key + "_calls_per_run", 1)
                row[key + "_timing"] = ("one smw-bench model call per round (%d timed runs after its own warm-up "
                                        "of at least 2 runs and %d ms%s): "
                                        "median of the per-call medians, min of the per-call per-run mins"
                                        % (k[key], int(o.warmup * 400),
                                           "; each run the mean of %d back-to-back single-row calls" % c
                                           if c > 1 else ""))
        if samples.get("tflite"):
            row["tflite_timing"] = "one tflite_run.js --bench call per round: median of its medians, min of its mins"
    finally:
        for w in workers:
            w.close()
    rows = [] if "fp32" not in precisions else [row]
    if "ours_bf16" in ours_keys:
        rows.append(bf16_row(row))
    row.pop("ours_bf16_kernel", None)  # the fp32 row keeps plain ours_* keys only
    row.pop("ours_bf16_native", None)
    for key in OURS:
        for f in ("_ms", "_min_ms", "_runs", "_calls_per_run", "_fanouts_per_run", "_isa", "_timing"):
            if key != "ours":
                row.pop(key + f, None)
    row["diffs"].pop("ours_bf16", None)
    for r in rows:
        rates(o, s, r)
    return rows


def bf16_row(row):
    """The BF16 row: ours_* from the ours_bf16 runtime, the peers' FP32 times of the same
    rounds, max_abs_diff = ours BF16 vs the FP32 reference."""
    b = json.loads(json.dumps(row))
    b["precision"], b["peers_precision"] = "bf16", "fp32"
    for f in ("_ms", "_min_ms", "_runs", "_calls_per_run", "_fanouts_per_run", "_isa", "_timing"):
        b.pop("ours" + f, None)
        if "ours_bf16" + f in b:
            b["ours" + f] = b.pop("ours_bf16" + f)
    b.setdefault("ours_ms", None)
    b.setdefault("ours_min_ms", None)
    b["diffs"] = {"ours": row["diffs"].get("ours_bf16")}
    b["max_abs_diff"] = b["diffs"]["ours"]
    b["tolerance"] = TOL_BF16[0]
    b["notes"] = [n.replace("ours_bf16", "ours (bf16)") for n in row["notes"]
                  if not (n.startswith("ours:") or n.startswith("ours "))]
    row["notes"] = [n for n in row["notes"] if not n.startswith("ours_bf16")]
    if b.get("ours_bf16_kernel"):
        b["notes"].append("ours BF16 ran %s at ISA level %s: %s" % (
            b["ours_bf16_kernel"], b.get("ours_isa"),
            "native vdpbf16ps" if b.get("ours_bf16_native") else
            "no avx512_bf16 here, so the emulation (bf16 operands widened to FP32, FP32 FMA): "
            "an accuracy path, not a speed path"))
    return b


def rates(o, s, row):
    """Ratios (peer / ours, medians and mins) and ours' GFLOP/s and % of peak."""
    ours, threads = row["ours_ms"], row["threads"]
    for rt in ("onnxruntime", "pytorch", "tflite"):
        p = row[rt + "_ms"]
        row["speedup_vs_" + rt] = round(p / ours, 3) if ours and p else None
        pm, om = row[rt + "_min_ms"], row["ours_min_ms"]
        row["speedup_min_vs_" + rt] = round(pm / om, 3) if om and pm else None
    if ours:
        gfs = s.gflop / (ours * 1e-3)
        row["ours_gflops"] = round(gfs, 2)
        row["ours_pct_peak"] = round(100 * gfs / (o.peak * threads), 1) if o.peak else None
    else:
        row["ours_gflops"] = row["ours_pct_peak"] = None


def thread_check(rows, row):
    """For a row at 2+ threads: whether ours is slower there than at 1 thread (the
    fan-out rule's promise, docs/PERFORMANCE.md), on the median or the min; sets
    row["ours_slower_than_1_thread"] (None when either run has no time)."""
    if row["threads"] < 2:
        return
    one = next((r for r in rows if r["model"] == row["model"] and r["threads"] == 1 and
                r.get("precision", "fp32") == row.get("precision", "fp32")), None)
    if not one or not one.get("ours_ms") or not row.get("ours_ms"):
        row["ours_slower_than_1_thread"] = None
        return
    row["ours_1_thread_ms"], row["ours_1_thread_min_ms"] = one["ours_ms"], one["ours_min_ms"]
    row["ours_slower_than_1_thread"] = bool(row["ours_ms"] > one["ours_ms"] or
                                            row["ours_min_ms"] > one["ours_min_ms"])


def thread_lines(rows):
    """The check's lines for the table: every model slower at N threads than at 1."""
    out = []
    for r in rows:
        if r.get("ours_slower_than_1_thread"):
            out.append("SLOWER AT %d THREADS: ours on %s (%s): median %s ms vs %s at 1 thread, min %s vs %s%s"
                       % (r["threads"], r["model"], r.get("precision", "fp32"), fmt(r["ours_ms"], 3), fmt(r["ours_1_thread_ms"], 3),
                          fmt(r["ours_min_ms"], 3), fmt(r["ours_1_thread_min_ms"], 3),
                          " (%s fan-outs per run)" % fmt(r["ours_fanouts_per_run"], 0)
                          if r.get("ours_fanouts_per_run") is not None else ""))
    checked = [r for r in rows if r.get("ours_slower_than_1_thread") is not None]
    if checked and not out:
        out.append("threads check: ours is at least as fast at %s as at 1 thread on every model (median and min)"
                   % "/".join(sorted({str(r["threads"]) for r in checked})))
    return out


# ---- output ------------------------------------------------------------------------------

def fmt(v, nd=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        return ("%.*f" % (nd, v)) if v >= 0.1 else "%.3g" % v
    return str(v)


def table(rows, o):
    hdr = ["model", "thr", "prec", "GFLOP", "ours ms", "ORT ms", "TorchScript ms", "TFLite ms",
           "vs ORT", "vs Torch", "vs TFLite", "ours GFLOP/s", "% peak", "max abs diff"]

    def mm(r, rt):
        if r.get(rt + "_ms") is None:
            return "-"
        return "%s / %s" % (fmt(r[rt + "_ms"], 3), fmt(r[rt + "_min_ms"], 3))

    def ratio(r, rt):
        if r.get("speedup_vs_" + rt) is None:
            return "-"
        return "%s (%s)" % (fmt(r["speedup_vs_" + rt]), fmt(r["speedup_min_vs_" + rt]))

    lines = []
    for r in rows:
        lines.append([r["model"], str(r["threads"]), r.get("precision", "fp32"), "%.4g" % r["gflop"], mm(r, "ours"),
                      mm(r, "onnxruntime"), mm(r, "pytorch"), mm(r, "tflite"),
                      ratio(r, "onnxruntime"), ratio(r, "pytorch"), ratio(r, "tflite"),
                      fmt(r["ours_gflops"], 1), fmt(r["ours_pct_peak"], 1),
                      "%.2g" % r["max_abs_diff"] if r["max_abs_diff"] is not None else "-"])
    if o.markdown:
        out = ["| " + " | ".join(hdr) + " |", "|" + "|".join("---" if i < 3 else "---:" for i in range(len(hdr))) + "|"]
        out += ["| " + " | ".join(l) + " |" for l in lines]
    else:
        w = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(hdr)]
        out = ["  ".join(h.ljust(w[i]) if i < 3 else h.rjust(w[i]) for i, h in enumerate(hdr))]
        for l in lines:
            out.append("  ".join(c.ljust(w[i]) if i < 3 else c.rjust(w[i]) for i, c in enumerate(l)))
    out.append("")
    out.append("ms = median of the per-round medians / min of all runs; 'vs X' = X ms / ours ms, medians (mins) (> 1: ours "
               "faster); GFLOP/s and %% peak from ours' median, peak %.1f GFLOP/s per core (smw-bench's FMA "
               "probe) x threads" % (o.peak or 0))
    la = [r["loadavg"] for r in rows if "loadavg" in r]
    ncpu = os.cpu_count() or 1
    if la and max(la) > 0.5 * ncpu:
        out.append("WARNING: load average up to %.1f on %d CPUs during the run: other work shared the cores, "
                   "medians (and 2-thread runs most) are inflated; the mins are the better guide" % (max(la), ncpu))
    out.append("max abs diff = largest output difference vs the reference among the runtimes that agree "
               "(tolerance %g x max|ref| per output; any that disagree are not timed)" % TOL[0])
    b = [r for r in rows if r.get("precision") == "bf16"]
    if b:
        kern = sorted({"%s at %s (%s)" % (r.get("ours_bf16_kernel"), r.get("ours_isa"),
                                          "native" if r.get("ours_bf16_native") else "emulation: no avx512_bf16")
                       for r in b if r.get("ours_bf16_kernel")})
        out.append("bf16 rows: ours with BF16 GEMM convs (%s) against the peers' FP32 of the same rounds; max abs "
                   "diff there is ours BF16 vs the FP32 reference (tolerance %g x max|ref| over all outputs). ONNX Runtime has no "
                   "BF16 CPU path worth comparing (its CPU execution provider runs FP32 kernels), so no peer runs "
                   "BF16" % ("; ".join(kern) or "kernel unknown", TOL_BF16[0]))
    out += thread_lines(rows)
    seen = set()  # a bf16 row repeats its fp32 row's notes on the peers
    for r in rows:
        for n in r["notes"]:
            if (r["model"], r["threads"], n) not in seen:
                seen.add((r["model"], r["threads"], n))
                out.append("  %s/%d%s: %s" % (r["model"], r["threads"],
                                              " bf16" if r.get("precision") == "bf16" else "", n))
    for n in getattr(o, "skipped", []):
        out.append("  " + n)
    return "\n".join(out)


def fma_peak(o):
    exe = os.path.join(o.build, "smw-bench")
    if not os.path.exists(exe):
        return None, "smw-bench not built"
    r = run([exe, "kernels", "--json", "--threads", "1", "--filter", "no-such-kernel-xyz"])
    try:
        j = json.loads(r.stdout[r.stdout.index("{"):])
        return float(j["fma_peak_gflops_per_core"]), j.get("peak_isa", "")
    except Exception:
        for line in r.stdout.splitlines():
            if "fma_peak_gflops_per_core" in line:
                try:
                    return float(line.split("fma_peak_gflops_per_core\":")[1].split(",")[0]), ""
                except Exception:
                    pass
    return None, "no peak from smw-bench kernels"


def main():
    ap = argparse.ArgumentParser(prog="bench/compare.sh",
                                 description="Our engine vs ONNX Runtime, PyTorch TorchScript and TFLite, "
                                             "same inputs, same run, interleaved.")
    ap.add_argument("--json", action="store_true", help="one JSON object per (model, threads)")
    ap.add_argument("--quick", action="store_true", help="short run (3 rounds of ~0.1 s per runtime)")
    ap.add_argument("--models", default=",".join(ALL_MODELS), help="comma list of " + ",".join(ALL_MODELS))
    ap.add_argument("--threads", default="1,2", help="comma list (default 1,2)")
    ap.add_argument("--rounds", type=int, help="rounds per (model, threads) (default 7, quick 3)")
    ap.add_argument("--round-seconds", type=float, help="target time per runtime per round (default 0.3)")
    ap.add_argument("--table-from", metavar="FILE", help="print the table of a saved --json run and exit")
    ap.add_argument("--markdown", action="store_true", help="the table as Markdown")
    ap.add_argument("--tol", type=float, default=1e-3,
                    help="agreement tolerance, x max|ref| per output (default 1e-3)")
    ap.add_argument("--precision", default="fp32,bf16",
                    help="ours' precisions, comma list of fp32,bf16 (default both: a bf16 row per model with "
                         "GEMM convs, ours BF16 vs the peers' FP32 of the same rounds)")
    ap.add_argument("--tol-bf16", type=float, default=0.1,
                    help="agreement tolerance of ours in BF16, x max|ref| over all outputs (default 0.1)")
    o = ap.parse_args()
    TOL[0], TOL_BF16[0] = o.tol, o.tol_bf16
    o.precisions = [p.strip() for p in o.precision.split(",") if p.strip()]
    if not o.precisions or any(p not in ("fp32", "bf16") for p in o.precisions):
        ap.error("--precision takes a comma list of fp32,bf16, got '%s'" % o.precision)
    if o.table_from:
        rows = [json.loads(l) for l in open(o.table_from) if l.strip().startswith("{")]
        rows = [r for r in rows if "gflop" in r]
        for r in rows:
            if "ours_slower_than_1_thread" not in r:  # a run from before the check
                thread_check(rows, r)
        o.peak = next((r.get("fma_peak_gflops_per_core") for r in rows if r.get("fma_peak_gflops_per_core")), None)
        print(table(rows, o))
        return
    o.build = os.path.abspath(os.environ.get("B", os.path.join(REPO, "build")))
    o.work = os.path.join(REPO, "bench", ".work", "compare")
    o.seed = os.environ.get("SM_SEED_DIR", os.path.join(os.path.dirname(REPO), "shared", "seed"))
    o.nodes = os.environ.get("SM_FACE_NODES", os.path.join(os.path.dirname(REPO), "shared", "reference",
                                                            "face_models_nodes"))
    o.ort_modules = os.environ.get("ORT_MODULES", os.path.join(REPO, "bench", ".work", "ort", "node_modules"))
    o.tflite_js_path = os.environ.get("TFLITE_RUN_JS", os.path.join(os.path.dirname(REPO), "shared", "tools",
                                                                    "tflite-ref", "tflite_run.js"))
    home = os.environ.get("TFLITE_REF_HOME", os.path.join(os.path.expanduser("~"), ".cache", "tflite-ref"))
    o.tflite_js, o.tflite_missing = None, None
    if not os.path.exists(o.tflite_js_path):
        o.tflite_missing = "the script is absent (TFLITE_RUN_JS names another)"
    elif not os.path.isdir(os.path.join(home, "node_modules", "@tensorflow", "tfjs-tflite")):
        o.tflite_missing = ("its runtime is not installed in %s (run bash %s once)"
                            % (home, os.path.join(os.path.dirname(o.tflite_js_path), "setup.sh")))
    else:
        o.tflite_js = o.tflite_js_path
    o.rounds = o.rounds or (3 if o.quick else 7)
    o.round_s = o.round_seconds or (0.1 if o.quick else 0.3)
    o.warmup = 0.2 if o.quick else 0.5
    o.budget = 4 * o.rounds * o.round_s  # seconds per runtime per (model, threads)
    os.makedirs(o.work, exist_ok=True)
    sel = [m.strip() for m in o.models.split(",") if m.strip()]
    bad = [m for m in sel if m not in ALL_MODELS]
    if bad:
        ap.error("unknown model(s) %s; choose from %s" % (",".join(bad), ",".join(ALL_MODELS)))
    threads = [int(t) for t in o.threads.split(",")]
    o.peak, isa = fma_peak(o)
    if o.peak is None:
        log("compare: no FMA peak (%s): %% of peak left empty" % isa)
    t_start = time.time()
    log("compare: build %s, torch %s, load average %s" % (o.build, torch.__version__,
                                                          " ".join(open("/proc/loadavg").read().split()[:3])))
    rows = []
    o.skipped = []
    torch.set_num_threads(max(threads))
    for name in sel:
        t0 = time.time()
        try:
            log("compare: preparing %s (exports, conversion, reference)" % name)
            s = build_spec(o, name)
        except Skip as e:
            log("compare: %s: %s" % (name, e))
            o.skipped.append("%s: %s" % (name, e))
            for t in threads:
                r = {"model": name, "threads": t, "precision": "fp32", "ours_ms": None, "onnxruntime_ms": None, "pytorch_ms": None,
                     "tflite_ms": None, "max_abs_diff": None, "skipped": str(e)}
                if o.json:
                    print(json.dumps(r), flush=True)
            continue
        for t in threads:
            log("compare: %s, %d thread(s)" % (name, t))
            for r in measure(o, s, t):
                r["note"] = s.note
                thread_check(rows, r)
                rows.append(r)
                if o.json:
                    print(json.dumps(r), flush=True)
        log("compare: %s done in %.0f s" % (name, time.time() - t0))
    if not o.json:
        print(table(rows, o))
    log("compare: total %.0f s, load average now %s" % (time.time() - t_start,
                                                      " ".join(open("/proc/loadavg").read().split()[:3])))


if __name__ == "__main__":
    main()
