"""PyTorch builders for the peer comparison (bench/compare.sh).

Each builder returns a Spec: the eager nn.Module (reference and source of the
TorchScript and ONNX exports), one fixed input, its layout for our engine and
for the TFLite interpreter, and the FLOPs of one inference (multiply-add = 2,
convolutions and dense layers only, the usual convention).

    emotion      NovelEmotionModel (tests/gen/novel_emotion_ref.py), seeded random
    ultralight   UltraLightNet from the user's seed/checkpoints/best_model.pth
    fatigue_mlp  StandardScaler + MLP from the user's fatigue_mlp.joblib, rebuilt as a
                 float64 torch module (skl2onnx is not in Debian)
    blazeface    face_detection_short_range.tflite as a torch graph
    facemesh     face_landmark.tflite (468 points) as a torch graph

The face models are rebuilt op by op from the .tflite file itself: constants
by the FlatBuffer walker of tests/gen/tflite_flatref.py, operators and their
options from shared/reference/face_models_nodes/*.txt. Activations stay NCHW
inside; RESHAPE and CONCATENATION follow TFLite's NHWC semantics.
"""
import json
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "gen"))


class Spec:
    def __init__(self, name, module, inputs, input_names, output_names, gflop, note=""):
        self.name = name
        self.module = module          # eager, eval mode
        self.inputs = inputs          # list of numpy arrays, torch layout
        self.input_names = input_names
        self.output_names = output_names
        self.gflop = gflop
        self.note = note
        self.ours_input = None        # numpy array for smw-run (engine's --input layout)
        self.tflite_model = None      # .tflite path when the TFLite peer applies
        self.tflite_input = None      # NHWC float32 for tflite_run.js
        self.smw = None               # our .smw file
        self.ref_source = "PyTorch eager"


def count_gflop(module, inputs):
    """2 x multiply-adds of every Conv2d and Linear, by forward hooks."""
    total = [0]

    def conv_hook(m, i, o):
        k = m.weight[0].numel()  # Cin/groups * kh * kw
        total[0] += 2 * o.numel() * k

    def lin_hook(m, i, o):
        total[0] += 2 * o.numel() * m.in_features

    hs = []
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            hs.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hs.append(m.register_forward_hook(lin_hook))
    with torch.no_grad():
        module(*[torch.from_numpy(x) for x in inputs])
    for h in hs:
        h.remove()
    return total[0] / 1e9


# ---- NovelEmotionModel -------------------------------------------------------------

class EmotionOutputs(nn.Module):
    """Tuple outputs (logits, valence, arousal, gate) for tracing and ONNX."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        r = self.m(x)
        return r["logits"], r["valence"], r["arousal"], r["gate"]


def emotion(ckpt, seed=20261125):
    """Seeded checkpoint written to ckpt once (building it calibrates BN: ~15 s), then reused."""
    import novel_emotion_ref as ner
    if os.path.exists(ckpt):
        m = ner.NovelEmotionModel()
        m.load_state_dict(torch.load(ckpt, map_location="cpu"))
        m.eval()
    else:
        m = ner.build_model(seed)
        ner.save_checkpoint(m, ckpt)
    mod = EmotionOutputs(m).eval()
    rng = np.random.RandomState(7)
    # A smooth image plus noise in [0,1]: the app's input range (x/255, no mean/std).
    yy, xx = np.mgrid[0:300, 0:300].astype(np.float32) / 300
    img = np.stack([0.5 + 0.3 * np.sin(5 * xx + c) * np.cos(4 * yy - c) for c in (0.0, 1.0, 2.0)])
    img = np.clip(img + rng.uniform(-0.1, 0.1, img.shape), 0, 1).astype(np.float32)[None]
    s = Spec("emotion", mod, [img], ["input"], ["logits", "valence", "arousal", "gate"],
             count_gflop(mod, [img]), "seeded random NovelEmotionModel (tests/gen/novel_emotion_ref.py, "
             "seed %d)" % seed)
    s.ours_input = img
    return s


# ---- UltraLightNet ---------------------------------------------------------------

class UltraLightNet(nn.Module):  # SEED_MODELS.md section 6
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 16, 5, 2, 2), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(16, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3))
        self.fc = nn.Sequential(nn.Linear(288, 64), nn.ReLU(), nn.Dropout(0.3),
                                nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))

    def forward(self, x):
        b, t = x.shape[0], x.shape[1]
        f = self.conv(x.reshape(b * t, 3, 36, 36)).reshape(b, t, 288).mean(1)
        return self.fc(f).squeeze(-1)


def ultralight(pth):
    m = UltraLightNet()
    sd = torch.load(pth, map_location="cpu")
    m.load_state_dict(sd)
    m.eval()
    rng = np.random.RandomState(11)
    # 180 frames of a skin-like patch with a small pulsatile component: the app's input.
    t = np.arange(180, dtype=np.float32)[:, None, None, None] / 30.0
    base = np.array([0.75, 0.55, 0.45], np.float32)[None, :, None, None]
    x = base + 0.01 * np.sin(2 * math.pi * 1.2 * t) + rng.uniform(-0.05, 0.05, (180, 3, 36, 36))
    x = np.clip(x, 0, 1).astype(np.float32)[None]
    s = Spec("ultralight", m, [x], ["frames"], ["bpm"], count_gflop(m, [x]),
             "user's seed/checkpoints/best_model.pth")
    s.ours_input = x
    return s


# ---- fatigue MLP --------------------------------------------------------------------

class ScalerMLP(nn.Module):
    """sklearn Pipeline(StandardScaler, MLPClassifier relu, logistic out) as torch, float64."""

    def __init__(self, mean, scale, coefs, intercepts):
        super().__init__()
        self.register_buffer("mean", torch.from_numpy(np.asarray(mean, np.float64)))
        self.register_buffer("scale", torch.from_numpy(np.asarray(scale, np.float64)))
        self.layers = nn.ModuleList()
        for w, b in zip(coefs, intercepts):
            lin = nn.Linear(w.shape[0], w.shape[1]).double()
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T, np.float64)))
                lin.bias.copy_(torch.from_numpy(np.asarray(b, np.float64)))
            self.layers.append(lin)

    def forward(self, x):
        z = (x - self.mean) / self.scale
        for lin in self.layers[:-1]:
            z = torch.relu(lin(z))
        p = torch.sigmoid(self.layers[-1](z))
        return torch.cat([1 - p, p], 1)


def fatigue_mlp(joblib_path):
    import joblib
    pipe = joblib.load(joblib_path)
    sc, clf = pipe.steps[0][1], pipe.steps[-1][1]
    if clf.out_activation_ != "logistic" or clf.activation != "relu":
        raise RuntimeError("%s: expected relu hidden layers and one logistic output" % joblib_path)
    m = ScalerMLP(sc.mean_, sc.scale_, clf.coefs_, clf.intercepts_).eval()
    x = np.array([[0.30, 0.20, 0.0, 2.0, 1.30]], np.float64)  # one frame's features
    ref = pipe.predict_proba(x)
    with torch.no_grad():
        got = m(torch.from_numpy(x)).numpy()
    d = float(np.abs(got - ref).max())
    if d > 1e-12:
        raise RuntimeError("torch rebuild of %s differs from sklearn by %g" % (joblib_path, d))
    s = Spec("fatigue_mlp", m, [x], ["features"], ["proba"], count_gflop(m, [x]),
             "user's fatigue_mlp.joblib as a float64 torch module (StandardScaler+MLP, "
             "checked == sklearn predict_proba to %.1e)" % d)
    s.ours_input = x
    return s


# ---- TFLite graphs (face models) ---------------------------------------------------

_LINE = re.compile(r'^\s*\[\s*(\d+)\]\s+(\S+)\s+(.*?) -> (.*?)(?: (\{.*\}))?\s*$')
_TENS = re.compile(r'([^\s,][^,]*?)\[([-0-9, ]*)\](?:\(c\))?(?:, |$)')


def _tflite_consts(path):
    from tflite_flatref import Flat
    fb = Flat(open(path, "rb").read())
    if fb.b[4:8] != b"TFL3":
        raise RuntimeError("%s: not a TFLite file" % path)
    root = fb.u32(0)
    buffers = fb.tables(root, 4)
    sg = fb.tables(root, 2)[0]
    consts = {}
    for t in fb.tables(sg, 0):
        name, shape = fb.string(t, 3), fb.ints(t, 0)
        ttype, bidx = fb.scalar(t, 1, "b", 0), fb.scalar(t, 2, "I", 0)
        start, n = fb.vector(buffers[bidx], 0)
        if not n:
            continue
        raw = fb.b[start:start + n]
        dt = {0: "<f4", 1: "<f2", 2: "<i4"}.get(ttype)
        if dt is None:
            raise RuntimeError("%s: tensor %s has type %d" % (path, name, ttype))
        consts[name] = np.frombuffer(raw, dt).astype(np.float32 if ttype != 2 else np.int64).reshape(shape)
    return consts


def _same_pads(n, k, s):
    out = (n + s - 1) // s
    tot = max((out - 1) * s + k - n, 0)
    return tot // 2, tot - tot // 2


def _act(x, a):
    if a in (None, "NONE"):
        return x
    if a == "RELU":
        return F.relu(x)
    if a == "RELU6":
        return F.relu6(x)
    raise RuntimeError("fused activation %s not supported" % a)


class TFLiteGraph(nn.Module):
    """Runs a TFLite operator list with torch ops; NCHW activations, NHWC semantics."""

    def __init__(self, tflite_path, nodes_path, input_name, output_names):
        super().__init__()
        consts = _tflite_consts(tflite_path)
        self.ops = []
        self.params = nn.ParameterDict()
        self.flops = 0
        self.input_name = input_name
        self.output_names = output_names
        pid = [0]

        def param(arr):
            key = "p%d" % pid[0]
            pid[0] += 1
            self.params[key] = nn.Parameter(torch.from_numpy(np.ascontiguousarray(arr)), requires_grad=False)
            return key

        c = dict(consts)
        for line in open(nodes_path):
            mm = _LINE.match(line)
            if not mm:
                continue
            _, op, ins, outs, opts = mm.groups()
            ins_l = [t.group(1) for t in _TENS.finditer(ins)]
            outs_m = list(_TENS.finditer(outs))
            out = outs_m[0].group(1)
            oshape = [int(v) for v in outs_m[0].group(2).split(",")]
            d = json.loads(opts) if opts else {}
            if op == "DEQUANTIZE":
                c[out] = c[ins_l[0]]
                continue
            if op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                w = c[ins_l[1]]
                kh, kw = w.shape[1], w.shape[2]
                if op == "CONV_2D":
                    wt = w.transpose(0, 3, 1, 2)           # OHWI -> OIHW
                    groups = 1
                else:
                    if d.get("depth_multiplier", 1) != 1:
                        raise RuntimeError("depth_multiplier != 1")
                    wt = w.transpose(3, 0, 1, 2)           # 1HWC -> C1HW
                    groups = wt.shape[0]
                b = c[ins_l[2]] if len(ins_l) > 2 else np.zeros(wt.shape[0], np.float32)
                spec = dict(kind="conv", x=ins_l[0], out=out, w=param(wt), b=param(b),
                            s=(d["stride_h"], d["stride_w"]), groups=groups, k=(kh, kw),
                            same=d["padding"] == "SAME", act=d.get("activation"))
                self.flops += 2 * int(np.prod(oshape)) * wt.shape[1] * kh * kw
            elif op == "MAX_POOL_2D":
                spec = dict(kind="maxpool", x=ins_l[0], out=out, k=(d["filter_h"], d["filter_w"]),
                            s=(d["stride_h"], d["stride_w"]), same=d["padding"] == "SAME",
                            act=d.get("activation"))
            elif op == "PAD":
                p = c[ins_l[1]].reshape(4, 2)  # NHWC (before, after)
                spec = dict(kind="pad", x=ins_l[0], out=out,
                            pads=[int(v) for v in (p[2][0], p[2][1], p[1][0], p[1][1], p[3][0], p[3][1])])
                if p[0].any():
                    raise RuntimeError("PAD on the batch axis")
            elif op == "ADD":
                spec = dict(kind="add", a=ins_l[0], b=ins_l[1], out=out, act=d.get("activation"))
            elif op == "RELU":
                spec = dict(kind="relu", x=ins_l[0], out=out)
            elif op == "PRELU":
                spec = dict(kind="prelu", x=ins_l[0], out=out,
                            alpha=param(c[ins_l[1]].reshape(-1).copy()))
            elif op == "RESHAPE":
                spec = dict(kind="reshape", x=ins_l[0], out=out, shape=oshape)
            elif op == "CONCATENATION":
                spec = dict(kind="concat", xs=ins_l, out=out, axis=d["axis"], rank=len(oshape),
                            act=d.get("activation"))
            else:
                raise RuntimeError("%s: operator %s not supported by the torch rebuild" % (tflite_path, op))
            self.ops.append(spec)
        self.gflop = self.flops / 1e9

    def forward(self, x):
        env = {self.input_name: x}  # NCHW
        P = self.params
        for o in self.ops:
            k = o["kind"]
            if k == "conv":
                t = env[o["x"]]
                if o["same"]:
                    ph = _same_pads(t.shape[2], o["k"][0], o["s"][0])
                    pw = _same_pads(t.shape[3], o["k"][1], o["s"][1])
                    if ph[0] == ph[1] and pw[0] == pw[1]:
                        y = F.conv2d(t, P[o["w"]], P[o["b"]], o["s"], (ph[0], pw[0]), 1, o["groups"])
                    else:
                        y = F.conv2d(F.pad(t, (pw[0], pw[1], ph[0], ph[1])), P[o["w"]], P[o["b"]],
                                     o["s"], 0, 1, o["groups"])
                else:
                    y = F.conv2d(t, P[o["w"]], P[o["b"]], o["s"], 0, 1, o["groups"])
                y = _act(y, o["act"])
            elif k == "maxpool":
                t = env[o["x"]]
                if o["same"]:
                    ph = _same_pads(t.shape[2], o["k"][0], o["s"][0])
                    pw = _same_pads(t.shape[3], o["k"][1], o["s"][1])
                    if any(ph) or any(pw):
                        t = F.pad(t, (pw[0], pw[1], ph[0], ph[1]), value=float("-inf"))
                y = _act(F.max_pool2d(t, o["k"], o["s"]), o["act"])
            elif k == "pad":
                y = F.pad(env[o["x"]], o["pads"])
            elif k == "add":
                y = _act(env[o["a"]] + env[o["b"]], o["act"])
            elif k == "relu":
                y = F.relu(env[o["x"]])
            elif k == "prelu":
                y = F.prelu(env[o["x"]], P[o["alpha"]])
            elif k == "reshape":
                t = env[o["x"]]
                if t.dim() == 4:
                    t = t.permute(0, 2, 3, 1)
                y = t.reshape(o["shape"])
            elif k == "concat":
                ts = [env[n] for n in o["xs"]]
                ax = o["axis"] % o["rank"]
                if o["rank"] == 4:
                    ax = {0: 0, 1: 2, 2: 3, 3: 1}[ax]
                y = _act(torch.cat(ts, ax), o["act"])
            env[o["out"]] = y
        outs = []
        for n in self.output_names:
            t = env[n]
            outs.append(t.permute(0, 2, 3, 1) if t.dim() == 4 else t)
        return tuple(outs)


FACE = {
    "blazeface": ("face_detection_short_range", 128, "input", ["regressors", "classificators"]),
    "facemesh": ("face_landmark", 192, "input_1", ["conv2d_21", "conv2d_31"]),
}


def face(name, tflite_path, nodes_dir):
    base, size, in_name, out_names = FACE[name]
    m = TFLiteGraph(tflite_path, os.path.join(nodes_dir, base + ".txt"), in_name, out_names).eval()
    rng = np.random.RandomState(5)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    # An image-like input (a smooth blob plus noise) in the model's range: the detector
    # takes c/127.5-1 in [-1,1], the landmark model c/255 in [0,1] (FACE_MODELS.md 3).
    img = np.stack([np.exp(-((xx - 0.5) ** 2 + (yy - 0.45) ** 2) * 8) * 0.8 + 0.05 * c
                    for c in range(3)], -1)
    img = np.clip(img + rng.uniform(-0.05, 0.05, img.shape), 0, 1)
    lo = -1.0 if name == "blazeface" else 0.0
    nhwc = (lo + (1.0 - lo) * img).astype(np.float32)[None]
    nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
    s = Spec(name, m, [nchw], ["input"], out_names, m.gflop,
             "%s.tflite rebuilt op by op in torch from its own weights" % base)
    s.ours_input = nhwc
    s.tflite_model = tflite_path
    s.tflite_input = nhwc
    return s
