"""NovelEmotionModel (EfficientNet-B3 backbone as timm builds it + routing heads)
in plain PyTorch, without timm, for fixture generators.

The module tree reproduces timm's names so that state_dict() has exactly the
588 entries of reference/novel_emotion_keys.txt (SEED_MODELS.md sections 2-4).
build_model(seed) gives seeded random weights and non-trivial BatchNorm
statistics; save_state_dict() writes it with torch.save. forward() follows
SEED_MODELS.md 2.3 and 3 (eval mode).

Usage from another generator:
    sys.path.insert(0, os.path.dirname(__file__)); import novel_emotion_torch as ne
    model = ne.build_model(seed=1); out = model(x)   # x: [B,3,H,W] float32 in [0,1]
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# (type, repeats, kernel, stride, expansion, out channels) after B3 scaling
STAGES = [("ds", 2, 3, 1, 1, 24), ("ir", 3, 3, 2, 6, 32), ("ir", 3, 5, 2, 6, 48),
          ("ir", 5, 3, 2, 6, 96), ("ir", 5, 5, 1, 6, 136), ("ir", 6, 5, 2, 6, 232),
          ("ir", 2, 3, 1, 6, 384)]
STEM, HEAD = 40, 1536


class SqueezeExcite(nn.Module):
    def __init__(self, ch, rd):
        super().__init__()
        self.conv_reduce = nn.Conv2d(ch, rd, 1, bias=True)
        self.conv_expand = nn.Conv2d(rd, ch, 1, bias=True)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.conv_expand(F.silu(self.conv_reduce(s))))


class DepthwiseSeparable(nn.Module):
    def __init__(self, cin, cout, k, s):
        super().__init__()
        self.conv_dw = nn.Conv2d(cin, cin, k, s, (k - 1) // 2, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        self.se = SqueezeExcite(cin, round(cin * 0.25))
        self.conv_pw = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.skip = s == 1 and cin == cout

    def forward(self, x):
        y = F.silu(self.bn1(self.conv_dw(x)))
        y = self.bn2(self.conv_pw(self.se(y)))
        return y + x if self.skip else y


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, k, s, e):
        super().__init__()
        mid = cin * e
        self.conv_pw = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv_dw = nn.Conv2d(mid, mid, k, s, (k - 1) // 2, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.se = SqueezeExcite(mid, round(cin * 0.25))
        self.conv_pwl = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.skip = s == 1 and cin == cout

    def forward(self, x):
        y = F.silu(self.bn1(self.conv_pw(x)))
        y = F.silu(self.bn2(self.conv_dw(y)))
        y = self.bn3(self.conv_pwl(self.se(y)))
        return y + x if self.skip else y


class EfficientNetB3(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_stem = nn.Conv2d(3, STEM, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(STEM)
        stages, cin = [], STEM
        for kind, reps, k, s, e, cout in STAGES:
            blocks = []
            for r in range(reps):
                stride = s if r == 0 else 1
                blocks.append(DepthwiseSeparable(cin, cout, k, stride) if kind == "ds"
                              else InvertedResidual(cin, cout, k, stride, e))
                cin = cout
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = nn.Conv2d(cin, HEAD, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(HEAD)

    def forward(self, x):
        x = F.silu(self.bn1(self.conv_stem(x)))
        x = self.blocks(x)
        x = F.silu(self.bn2(self.conv_head(x)))
        return x.mean((2, 3))


class MicroExpEnhancer(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 3, 3, padding=1))

    def forward(self, x):
        return x + 0.2 * self.conv(x)


class Routing(nn.Module):
    def __init__(self):
        super().__init__()
        self.expert_upper = nn.Sequential(nn.Linear(HEAD, 512), nn.ReLU())
        self.expert_lower = nn.Sequential(nn.Linear(HEAD, 512), nn.ReLU())
        self.gate = nn.Linear(HEAD, 2)

    def forward(self, feat):
        g = torch.softmax(self.gate(feat), -1)
        return g[:, 0:1] * self.expert_upper(feat) + g[:, 1:2] * self.expert_lower(feat), g


class NovelEmotionModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.micro = MicroExpEnhancer()
        self.backbone = EfficientNetB3()
        self.routing = Routing()
        self.head_emotion = nn.Linear(512, 8)
        self.head_valence = nn.Linear(512, 1)
        self.head_arousal = nn.Linear(512, 1)

    def forward(self, x):
        feat = self.backbone(self.micro(x))
        routed, gate = self.routing(feat)
        return {"logits": self.head_emotion(routed), "valence": self.head_valence(routed),
                "arousal": self.head_arousal(routed), "gate": gate}


def build_model(seed=0):
    """Seeded random weights (PyTorch default init) and non-trivial BN statistics, eval mode."""
    torch.manual_seed(seed)
    m = NovelEmotionModel()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                n = mod.num_features
                mod.weight.copy_(1 + 0.2 * torch.randn(n, generator=g))
                mod.bias.copy_(0.1 * torch.randn(n, generator=g))
                mod.running_mean.copy_(0.1 * torch.randn(n, generator=g))
                mod.running_var.copy_(0.5 + torch.rand(n, generator=g))
                mod.num_batches_tracked.fill_(int(torch.randint(1, 100000, (1,), generator=g)))
    return m.eval()


def save_state_dict(model, path, prefix="", wrap=None):
    """torch.save(state_dict) (default zip serialization); prefix e.g. 'module.';
    wrap e.g. 'state_dict' saves {wrap: sd, 'epoch': 3}."""
    sd = model.state_dict()
    if prefix:
        sd = type(sd)((prefix + k, v) for k, v in sd.items())
    torch.save({wrap: sd, "epoch": 3} if wrap else sd, path)
    return sd


def param_count(model):
    return sum(p.numel() for p in model.parameters())


if __name__ == "__main__":
    m = build_model()
    sd = m.state_dict()
    print(len(sd), param_count(m), math.fsum(v.numel() for v in sd.values()))
