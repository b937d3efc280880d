"""NovelEmotionModel (EfficientNet-B3 backbone as timm builds it) in plain PyTorch.

Forward reference for the C emotion model. Debian has no timm, so the backbone
is rebuilt from the tables in shared/reference/SEED_MODELS.md section 2: module
names, parameter shapes and the forward pass follow timm's `efficientnet_b3`
(num_classes=0), so `state_dict()` has exactly the 588 keys of a real
checkpoint (novel_emotion_keys.txt).

Weights are seeded random. BatchNorm statistics are made realistic so that
activations stay O(1) through all 26 blocks: gamma/beta are drawn first, then
one forward pass in training mode over a small calibration batch sets every
running_mean/running_var from the batch statistics of its own input, layer by
layer in execution order (the normalisation downstream already uses the
statistics upstream). In eval mode the network then sees non-trivial means
and variances, so errors in BN folding, padding or stride show as large
output differences instead of vanishing in saturated or zero activations.

Public API:
    build_model(seed, calib=None) -> nn.Module (eval mode)
    save_checkpoint(model, path)   torch.save(state_dict), written atomically
    forward_with_intermediates(model, x) -> dict of tensors (NCHW as PyTorch):
        logits, valence, arousal, gate, features, stem, stage0..stage6, head
    STAGE_NAMES
"""

import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

# (type, repeats, kernel, stride, expand, out_channels) after B3 scaling
# (channel x1.2 with make_divisible(8), depth ceil(x1.4)): SEED_MODELS 2.4.
B3_STAGES = [
    ("ds", 2, 3, 1, 1, 24),
    ("ir", 3, 3, 2, 6, 32),
    ("ir", 3, 5, 2, 6, 48),
    ("ir", 5, 3, 2, 6, 96),
    ("ir", 5, 5, 1, 6, 136),
    ("ir", 6, 5, 2, 6, 232),
    ("ir", 2, 3, 1, 6, 384),
]
STEM_CH = 40
HEAD_CH = 1536
LINEAR_GAIN = {"routing.gate": 8.0, "head_emotion": 6.0, "head_valence": 6.0,
               "head_arousal": 6.0}
STAGE_NAMES = ["stem"] + ["stage%d" % i for i in range(7)] + ["head"]


class SqueezeExcite(nn.Module):
    def __init__(self, ch, rd):
        super().__init__()
        self.conv_reduce = nn.Conv2d(ch, rd, 1, bias=True)
        self.conv_expand = nn.Conv2d(rd, ch, 1, bias=True)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = self.conv_expand(F.silu(self.conv_reduce(s)))
        return x * torch.sigmoid(s)


class DepthwiseSeparable(nn.Module):
    """timm DepthwiseSeparableConv: dw -> BN+SiLU -> SE -> pw -> BN (no act)."""

    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.conv_dw = nn.Conv2d(cin, cin, k, stride, (k - 1) // 2, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        self.se = SqueezeExcite(cin, int(round(cin * 0.25)))
        self.conv_pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.has_skip = stride == 1 and cin == cout

    def forward(self, x):
        y = F.silu(self.bn1(self.conv_dw(x)))
        y = self.se(y)
        y = self.bn2(self.conv_pw(y))
        return y + x if self.has_skip else y


class InvertedResidual(nn.Module):
    """timm InvertedResidual (MBConv): pw expand -> dw -> SE -> pw linear."""

    def __init__(self, cin, cout, k, stride, exp):
        super().__init__()
        mid = cin * exp
        self.conv_pw = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv_dw = nn.Conv2d(mid, mid, k, stride, (k - 1) // 2, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        # se_from_exp=False: the squeeze width comes from the block input.
        self.se = SqueezeExcite(mid, int(round(mid * 0.25 / exp)))
        self.conv_pwl = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.has_skip = stride == 1 and cin == cout

    def forward(self, x):
        y = F.silu(self.bn1(self.conv_pw(x)))
        y = F.silu(self.bn2(self.conv_dw(y)))
        y = self.se(y)
        y = self.bn3(self.conv_pwl(y))
        return y + x if self.has_skip else y


class EfficientNetB3(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_stem = nn.Conv2d(3, STEM_CH, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(STEM_CH)
        stages = []
        cin = STEM_CH
        for kind, reps, k, stride, exp, cout in B3_STAGES:
            blocks = []
            for i in range(reps):
                s = stride if i == 0 else 1
                if kind == "ds":
                    blocks.append(DepthwiseSeparable(cin, cout, k, s))
                else:
                    blocks.append(InvertedResidual(cin, cout, k, s, exp))
                cin = cout
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = nn.Conv2d(cin, HEAD_CH, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(HEAD_CH)

    def forward_stages(self, x):
        outs = []
        x = F.silu(self.bn1(self.conv_stem(x)))
        outs.append(x)
        for stage in self.blocks:
            x = stage(x)
            outs.append(x)
        x = F.silu(self.bn2(self.conv_head(x)))
        outs.append(x)
        return outs

    def forward(self, x):
        return self.forward_stages(x)[-1].mean((2, 3))


class MicroExpEnhancer(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(16, 3, 3, padding=1))

    def forward(self, x):
        return x + 0.2 * self.conv(x)


class DynamicEmotionRouting(nn.Module):
    def __init__(self, feat_dim=1536, hidden=512):
        super().__init__()
        self.expert_upper = nn.Sequential(nn.Linear(feat_dim, hidden), nn.ReLU())
        self.expert_lower = nn.Sequential(nn.Linear(feat_dim, hidden), nn.ReLU())
        self.gate = nn.Linear(feat_dim, 2)

    def forward(self, feat):
        g = torch.softmax(self.gate(feat), dim=-1)
        return g[:, 0:1] * self.expert_upper(feat) + g[:, 1:2] * self.expert_lower(feat), g


class NovelEmotionModel(nn.Module):
    def __init__(self, num_emotions=8):
        super().__init__()
        self.micro = MicroExpEnhancer()
        self.backbone = EfficientNetB3()
        self.routing = DynamicEmotionRouting()
        self.head_emotion = nn.Linear(512, num_emotions)
        self.head_valence = nn.Linear(512, 1)
        self.head_arousal = nn.Linear(512, 1)

    def forward(self, x):
        r = forward_with_intermediates(self, x)
        return {k: r[k] for k in ("logits", "valence", "arousal", "gate")}


def forward_with_intermediates(model, x):
    """All outputs of one forward pass; stage outputs are NCHW (PyTorch)."""
    stages = model.backbone.forward_stages(model.micro(x))
    feat = stages[-1].mean((2, 3))
    routed, gate = model.routing(feat)
    out = {
        "logits": model.head_emotion(routed),
        "valence": model.head_valence(routed),
        "arousal": model.head_arousal(routed),
        "gate": gate,
        "features": feat,
    }
    for name, t in zip(STAGE_NAMES, stages):
        out[name] = t
    return out


def _init_weights(model, gen):
    """Seeded weights: fan-out normal for convs (as timm), uniform for linears,
    gamma/beta spread around 1/0 so that BN folding cannot be mistaken for identity."""
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / fan_out))
                if m.bias is not None:
                    m.bias.copy_((torch.rand(m.bias.shape, generator=gen) - 0.5) * 0.4)
        elif isinstance(m, nn.Linear):
            # Larger than PyTorch's default so that logits, gate, valence and
            # arousal are O(1) and an error in the features moves them visibly.
            bound = LINEAR_GAIN.get(name, 3.0) / math.sqrt(m.in_features)
            with torch.no_grad():
                m.weight.copy_((torch.rand(m.weight.shape, generator=gen) * 2 - 1) * bound)
                m.bias.copy_((torch.rand(m.bias.shape, generator=gen) * 2 - 1) * bound)
        elif isinstance(m, nn.BatchNorm2d):
            # The last BN of a residual branch gets a smaller gamma (as trained
            # EfficientNets do), so that the skip sums stay O(1).
            small = name.endswith("bn3") or (name.endswith("bn2") and ".blocks.0." in name)
            lo, hi = (0.2, 0.6) if small else (0.6, 1.4)
            with torch.no_grad():
                m.weight.copy_(lo + (hi - lo) * torch.rand(m.weight.shape, generator=gen))
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.25)


def _calibrate_bn(model, calib):
    """Sets running stats from the batch statistics of calib, every BN in order."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average: after one batch = that batch's statistics
    model.train()
    with torch.no_grad():
        model(calib)
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()


def default_calibration(size=300):
    """A few natural-ish images in [0,1]: skimage photos, smooth patterns, noise."""
    import numpy as np
    imgs = []
    try:
        import skimage.data as sd
        from skimage.transform import resize
        for fn in ("chelsea", "coffee", "rocket"):
            im = getattr(sd, fn)()
            imgs.append(resize(im, (size, size), anti_aliasing=True).astype(np.float32))
    except Exception:  # skimage missing: patterns only
        pass
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for f in (3.0, 7.0):
        imgs.append(np.stack([0.5 + 0.4 * np.sin(f * xx + c) * np.cos(f * yy - c)
                              for c in (0.0, 1.0, 2.0)], -1).astype(np.float32))
    # One noise image: without it, high-frequency input drives the depthwise
    # convs far outside the calibrated range and activations grow without bound.
    rng = np.random.RandomState(12345)
    imgs.append(rng.uniform(0.0, 1.0, (size, size, 3)).astype(np.float32))
    a = np.stack(imgs).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(a))


def build_model(seed, calib=None):
    """Deterministic NovelEmotionModel for a seed, in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    model = NovelEmotionModel()
    _init_weights(model, gen)
    _calibrate_bn(model, default_calibration() if calib is None else calib)
    return model


def save_checkpoint(model, path):
    tmp = path + ".tmp%d" % os.getpid()
    try:
        torch.save(model.state_dict(), tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
