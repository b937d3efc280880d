"""PyTorch forward references for the emotion model and UltraLightNet.

usage: /usr/bin/python3 tests/gen/gen_seed_refs.py OUTDIR [--sensitivity]
(--sensitivity also prints how far typical implementation mistakes move the outputs)

Writes (every file written to a temp name and renamed):
  OUTDIR/emotion_ref/emotion_rand.pth      torch.save(state_dict) of a seeded
                                           NovelEmotionModel (novel_emotion_ref.py)
  OUTDIR/emotion_ref/<case>/input.npy      [1,3,H,W] float32 NCHW, RGB in [0,1]
  OUTDIR/emotion_ref/<case>/{logits,probs}.npy  [1,8] f32 (probs = softmax(logits))
  OUTDIR/emotion_ref/<case>/{valence,arousal}.npy [1,1] f32
  OUTDIR/emotion_ref/<case>/gate.npy       [1,2] f32
  OUTDIR/emotion_ref/<case>/features.npy   [1,1536] f32 (pooled backbone output)
  OUTDIR/emotion_ref/<case>/stages/<name>.npy   NHWC [1,H,W,C] f32 for
                                           stem, stage0..stage6, head (head = after bn2+SiLU,
                                           before pooling); stage inputs include micro
  OUTDIR/emotion_ref/manifest.json         cases, files, shapes, per-stage stats
  cases: pattern300, noise300, face300 (skimage astronaut face), face224, face112 (the
  same face small: the emulated runs' quick subset, SM_TEST_QUICK, compares at this size)

  OUTDIR/ultralight_ref/<case>/input.npy   [B,T,3,36,36] f32 (as the seed's forward takes it)
  OUTDIR/ultralight_ref/<case>/bpm.npy     [B] f32
  cases: random, constant ([1,180,...]); batch2 (both, [2,180,...]); t90 (random's first
  90 frames, [1,90,...]). Uses the REAL shared/seed/checkpoints/best_model.pth
  (SM_SHARED, else ../shared beside the repo); prints "skipped" when absent.

Outputs are regenerated only when older than this script or novel_emotion_ref.py.
"""

import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import REPO, save_npy, save_text, shared_dir, up_to_date  # noqa: E402

SEED = 20251125
CASES = ("pattern300", "noise300", "face300", "face224", "face112")
STD_LO, STD_HI = 0.1, 10.0


def face_image(size):
    from skimage import io
    from skimage.transform import resize
    im = io.imread("/usr/lib/python3/dist-packages/skimage/data/astronaut.png")
    face = im[20:240, 140:360, :3]  # square around the face and hair
    return resize(face, (size, size), anti_aliasing=True).astype(np.float32)


def emotion_inputs():
    rng = np.random.RandomState(SEED)
    yy, xx = np.mgrid[0:300, 0:300].astype(np.float32) / 300.0
    pattern = np.stack([0.5 + 0.45 * np.sin(9.0 * xx + 2.0 * c) * np.cos(5.0 * yy + c)
                        for c in (0.3, 1.1, 2.3)], -1)
    return {
        "pattern300": pattern.astype(np.float32),
        "noise300": rng.uniform(0.0, 1.0, (300, 300, 3)).astype(np.float32),
        "face300": face_image(300),
        "face224": face_image(224),
        "face112": face_image(112),
    }


def check_keys(sd):
    import torch
    names = [os.path.join(REPO, "tests/fixtures/reference/novel_emotion_keys.txt")]
    sh = shared_dir()
    if sh:
        names.append(os.path.join(sh, "reference/novel_emotion_keys.txt"))
    ours = ["%s\t%s" % (k, list(v.shape)) for k, v in sd.items()]
    for k, v in sd.items():
        want = torch.int64 if k.endswith("num_batches_tracked") else torch.float32
        if v.dtype != want:
            raise SystemExit("state_dict entry %s is %s, expected %s" % (k, v.dtype, want))
    for n in names:
        want = open(n).read().splitlines()
        if ours != want:
            diff = [(a, b) for a, b in zip(ours, want) if a != b][:5]
            raise SystemExit("state_dict differs from %s (%d vs %d entries): %s"
                             % (n, len(ours), len(want), diff))
        print("  state_dict: %d entries, names/shapes/order equal to %s" % (len(ours), n))


def gen_emotion(out):
    import torch
    import novel_emotion_ref as R
    t0 = time.time()
    model = R.build_model(SEED)
    sd = model.state_dict()
    check_keys(sd)
    print("  model built and BN-calibrated in %.1f s" % (time.time() - t0))
    R.save_checkpoint(model, os.path.join(out, "emotion_rand.pth"))

    manifest = {"seed": SEED, "checkpoint": "emotion_rand.pth",
                "layout": {"input": "NCHW", "stages": "NHWC"}, "cases": {}}
    bad = []
    for case, img in emotion_inputs().items():
        x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)[None]))
        t1 = time.time()
        with torch.no_grad():
            r = R.forward_with_intermediates(model, x)
        dt = time.time() - t1
        d = os.path.join(out, case)
        save_npy(os.path.join(d, "input.npy"), x.numpy())
        files = {"input": list(x.shape)}
        for k in ("logits", "valence", "arousal", "gate", "features"):
            save_npy(os.path.join(d, k + ".npy"), r[k].numpy())
            files[k] = list(r[k].shape)
        probs = torch.softmax(r["logits"], dim=1).numpy()
        save_npy(os.path.join(d, "probs.npy"), probs)
        files["probs"] = list(probs.shape)
        stats = {}
        for name in R.STAGE_NAMES:
            a = r[name].numpy().transpose(0, 2, 3, 1)
            save_npy(os.path.join(d, "stages", name + ".npy"), a)
            files["stages/" + name] = list(a.shape)
            stats[name] = {"mean": float(a.mean()), "std": float(a.std()),
                           "absmax": float(np.abs(a).max())}
            if not STD_LO <= stats[name]["std"] <= STD_HI:
                bad.append("%s/%s std %.4g" % (case, name, stats[name]["std"]))
        manifest["cases"][case] = {"files": files, "stats": stats,
                                   "logits": r["logits"][0].tolist(),
                                   "probs": probs[0].tolist(),
                                   "gate": r["gate"][0].tolist()}
        print("  %-10s %dx%d forward %.2f s  probs max %.3f  gate [%.3f %.3f]  valence %.4f arousal %.4f"
              % (case, x.shape[2], x.shape[3], dt, probs.max(), r["gate"][0, 0], r["gate"][0, 1],
                 r["valence"].item(), r["arousal"].item()))
        print("    " + "  ".join("%s %.3f/%.2f" % (n, stats[n]["std"], stats[n]["absmax"])
                                 for n in R.STAGE_NAMES) + "   (std/absmax)")
    if "--sensitivity" in sys.argv:
        sensitivity(model, torch.from_numpy(np.ascontiguousarray(face_image(300).transpose(2, 0, 1)[None])))
    if bad:
        raise SystemExit("activation statistics out of [%g, %g]: %s" % (STD_LO, STD_HI, bad))
    save_text(os.path.join(out, "manifest.json"), json.dumps(manifest, indent=1) + "\n")


def sensitivity(model, x):
    """How far typical implementation mistakes move the outputs (for the report):
    each variant's max|d logits| / max|logits| (the model tolerance is 1e-4) and
    the features' cosine (tolerance >= 0.99999)."""
    import copy
    import torch
    import torch.nn.functional as F
    import novel_emotion_ref as R

    def tf_same(conv):
        k, s = conv.kernel_size[0], conv.stride[0]

        def fwd(t):
            h = t.shape[2]
            pad = max((-(-h // s) - 1) * s + k - h, 0)
            t = F.pad(t, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
            return F.conv2d(t, conv.weight, conv.bias, s, 0, 1, conv.groups)
        return fwd

    def v_eps(m):
        for b in m.modules():
            if isinstance(b, torch.nn.BatchNorm2d):
                b.eps = 1e-3

    def v_same(m):
        for c in m.modules():
            if isinstance(c, torch.nn.Conv2d) and c.stride[0] == 2:
                c.forward = tf_same(c)

    def v_skip(m):
        m.backbone.blocks[3][2].has_skip = False

    def v_nobn(m):
        m.backbone.blocks[4][1].bn2.forward = lambda t: t

    def v_var(m):  # one BN folded with sqrt(var) where var belongs (std/var mix-up)
        b = m.backbone.blocks[2][1].bn1
        b.running_var.copy_(b.running_var.sqrt())

    def v_micro(m):  # micro-enhancer left out
        m.micro.forward = lambda t: t

    with torch.no_grad():
        ref = R.forward_with_intermediates(model, x)
        print("  sensitivity on face300 (max|dlogits|/max|logits|; features cosine):")
        for name, fn in (("BN eps 1e-3 instead of 1e-5", v_eps), ("TF SAME padding on stride 2", v_same),
                         ("missing skip in blocks.3.2", v_skip), ("one BN (blocks.4.1.bn2) dropped", v_nobn),
                         ("sqrt(var) used as var in one BN", v_var), ("MicroExpEnhancer skipped", v_micro)):
            m = copy.deepcopy(model)
            fn(m)
            r = R.forward_with_intermediates(m, x)
            rel = float((r["logits"] - ref["logits"]).abs().max() / ref["logits"].abs().max())
            cos = float(F.cosine_similarity(r["features"], ref["features"]).item())
            print("    %-34s %.3g   %.6f" % (name, rel, cos))


def gen_ultralight(out, ckpt):
    import torch
    import torch.nn as nn

    class UltraLightNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Sequential(nn.Conv2d(3, 16, 5, stride=2, padding=2), nn.ReLU(),
                                      nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                                      nn.ReLU(), nn.MaxPool2d(3))
            self.fc = nn.Sequential(nn.Linear(288, 64), nn.ReLU(), nn.Dropout(0.3),
                                    nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))

        def forward(self, x):
            b, t, c, h, w = x.shape
            y = self.conv(x.reshape(b * t, c, h, w)).reshape(b, t, -1).mean(dim=1)
            return self.fc(y).squeeze(-1)

    model = UltraLightNet()
    model.load_state_dict(torch.load(ckpt, map_location="cpu"), strict=True)
    model.eval()
    rng = np.random.RandomState(SEED + 1)
    cases = {
        "random": rng.uniform(0.0, 1.0, (1, 180, 3, 36, 36)).astype(np.float32),
        "constant": np.full((1, 180, 3, 36, 36), 0.5, np.float32),
    }
    # batch independence and a window other than 180 frames (the mean over T)
    cases["batch2"] = np.concatenate([cases["random"], cases["constant"]])
    cases["t90"] = np.ascontiguousarray(cases["random"][:, :90])
    for case, x in cases.items():
        with torch.no_grad():
            bpm = model(torch.from_numpy(x)).numpy()
        save_npy(os.path.join(out, case, "input.npy"), x)
        save_npy(os.path.join(out, case, "bpm.npy"), bpm)
        print("  ultralight %-8s bpm %s" % (case, bpm.tolist()))


def main():
    args = [a for a in sys.argv[1:] if a != "--sensitivity"]
    if len(args) != 1:
        raise SystemExit("usage: gen_seed_refs.py OUTDIR [--sensitivity]")
    import torch
    torch.set_num_threads(1)  # faster than 2 here for batch 1, and reproducible timing
    outdir = args[0]
    deps = [os.path.abspath(__file__), os.path.join(HERE, "novel_emotion_ref.py")]
    t0 = time.time()

    eout = os.path.join(outdir, "emotion_ref")
    estamp = os.path.join(eout, ".stamp")
    if up_to_date(estamp, deps) and "--sensitivity" not in sys.argv:
        print("emotion references up to date (%s)" % eout)
    else:
        print("emotion references -> %s" % eout)
        os.makedirs(eout, exist_ok=True)
        gen_emotion(eout)
        save_text(estamp, "%d\n" % SEED)

    uout = os.path.join(outdir, "ultralight_ref")
    ustamp = os.path.join(uout, ".stamp")
    sh = shared_dir()
    ckpt = os.path.join(sh, "seed/checkpoints/best_model.pth") if sh else None
    if not ckpt or not os.path.exists(ckpt):
        print("skipped: UltraLightNet references: shared/seed/checkpoints/best_model.pth not found")
    elif up_to_date(ustamp, deps + [ckpt]):
        print("UltraLightNet references up to date (%s)" % uout)
    else:
        print("UltraLightNet references (real %s) -> %s" % (ckpt, uout))
        gen_ultralight(uout, ckpt)
        save_text(ustamp, "%d\n" % SEED)
    print("gen_seed_refs: %.1f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
