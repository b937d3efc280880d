"""Quick NovelEmotionModel checkpoints for the converter's fixture generators.

The architecture (EfficientNet-B3 as timm builds it + MicroExpEnhancer + routing
and heads, with exactly the 588 state_dict entries of
reference/novel_emotion_keys.txt) is the one module tests/gen/novel_emotion_ref.py
defines for the forward references. This file only adds what the converter's
tests need: fast seeded weights with non-trivial BatchNorm statistics (no
calibration pass: the converter compares tensors, not activations), and
torch.save variants (a 'module.' prefix, a {'state_dict': ...} wrapper).

Usage from another generator:
    sys.path.insert(0, os.path.dirname(__file__)); import novel_emotion_torch as ne
    model = ne.build_model(seed=1); ne.save_state_dict(model, "x.pth", prefix="module.")
"""
import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from novel_emotion_ref import NovelEmotionModel  # noqa: E402


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
