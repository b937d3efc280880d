"""Fixtures for test_convert_emotion: a NovelEmotionModel (novel_emotion_torch.py,
seeded random weights, non-trivial BN statistics) saved with torch.save as a plain
state_dict, with a 'module.' prefix, and as {'state_dict': ...}; two broken
variants (a missing tensor, a wrongly shaped one); references from torch.load."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import novel_emotion_torch as ne  # noqa: E402
from convert_ref import torch_items, write_ref  # noqa: E402

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
p = lambda name: os.path.join(out, name)  # noqa: E731

model = ne.build_model(seed=7)
ne.save_state_dict(model, p("novel_emotion.pth"))
ne.save_state_dict(model, p("novel_emotion_module.pth"), prefix="module.")
ne.save_state_dict(model, p("novel_emotion_wrapped.pth"), wrap="state_dict")
write_ref(out, "novel_emotion", torch_items(torch.load(p("novel_emotion.pth"))))

sd = model.state_dict()
missing = type(sd)((k, v) for k, v in sd.items() if k != "backbone.blocks.3.2.conv_dw.weight")
torch.save(missing, p("novel_emotion_missing.pth"))
bad = type(sd)(sd)
bad["routing.gate.weight"] = torch.zeros(3, 1536)
torch.save(bad, p("novel_emotion_badshape.pth"))
print("NovelEmotionModel fixtures: %d tensors, %d parameters" % (len(sd), ne.param_count(model)))
