"""Fixtures for test_convert_pth: UltraLightNet checkpoints saved by torch.save
and reference values from torch.load; dtype/stride/offset cases for --arch raw;
the user's best_model.pth references when ../shared is present (SM_SHARED)."""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_ref import torch_items, write_ref  # noqa: E402

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


class UltraLightNet(nn.Module):  # SEED_MODELS.md section 6
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 16, 5, 2, 2), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(16, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3))
        self.fc = nn.Sequential(nn.Linear(288, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 32), nn.ReLU(),
                                nn.Linear(32, 1))


torch.manual_seed(11)
m = UltraLightNet()
sd = m.state_dict()
torch.save(sd, os.path.join(out, "rppg_gen.pth"))
write_ref(out, "rppg_gen", torch_items(torch.load(os.path.join(out, "rppg_gen.pth"))))
write_ref(out, "rppg_gen_f16", torch_items(sd, f16=True))
torch.save({"model": sd, "optimizer": {}, "epoch": 9}, os.path.join(out, "rppg_gen_model_key.pth"))
torch.save(sd, os.path.join(out, "rppg_gen_legacy.pth"), _use_new_zipfile_serialization=False)

# --arch raw: every storage type, a shared storage with offsets, strided views.
g = torch.Generator().manual_seed(5)
base = torch.randn(6, 7, generator=g)
raw = {
    "f32": torch.randn(3, 4, generator=g),
    "transposed": base.t(),                 # stride (1, 7)
    "base": base,                           # shares the storage with the two views
    "rows": base[2:5],                      # storage offset 14
    "cols": base[1:, 2:6:2],                # offset 9, strides (7, 2)
    "expanded": torch.arange(3.0).expand(4, 3),  # stride (0, 1)
    "f16": torch.randn(5, generator=g).half(),
    "bf16": torch.randn(2, 3, generator=g).bfloat16(),
    "f64": torch.randn(4, 2, generator=g).double(),
    "i64": torch.tensor([-3, 0, 1 << 40]),
    "i32": torch.tensor([[7, -8]], dtype=torch.int32),
    "i16": torch.tensor([-300, 300], dtype=torch.int16),
    "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
    "bool": torch.tensor([True, False, True]),
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 3),
}
torch.save(raw, os.path.join(out, "raw_dtypes.pth"))
loaded = torch.load(os.path.join(out, "raw_dtypes.pth"))
kind = {torch.float32: "f32", torch.bfloat16: "f32", torch.float16: "f16", torch.float64: "f64",
        torch.int64: "i64", torch.int32: "i32", torch.int16: "i32", torch.uint8: "u8", torch.bool: "u8"}
items = []
for k, v in loaded.items():
    dt = kind[v.dtype]
    a = v.float() if v.dtype == torch.bfloat16 else v.to(torch.int32) if v.dtype == torch.int16 else v
    a = a.to(torch.uint8) if v.dtype == torch.bool else a
    items.append((k, dt, a.contiguous().numpy()))
write_ref(out, "raw_dtypes", sorted(items))   # the converter writes tensors sorted by name

shared = os.environ.get("SM_SHARED", "")
best = os.path.join(shared, "seed/checkpoints/best_model.pth") if shared else ""
if best and os.path.exists(best):
    write_ref(out, "best_model", torch_items(torch.load(best, map_location="cpu")))
    print("best_model.pth references written")
else:
    print("note: shared best_model.pth absent; its references are not written")
