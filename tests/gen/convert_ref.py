"""Reference dumps for the converter tests: <out>/<prefix>.manifest lists
`name dtype ndim dims...` (dtype = the .smw dtype we expect: f32 f16 f64 i64 i32 u8)
and <out>/<prefix>.bin holds the little-endian values of every tensor in that
order, as the framework (torch / joblib) gives them."""
import os

import numpy as np

_DT = {"f32": "<f4", "f16": "<f2", "f64": "<f8", "i64": "<i8", "i32": "<i4", "u8": "u1"}


def write_ref(outdir, prefix, items):
    """items: iterable of (name, smw_dtype, numpy array)."""
    with open(os.path.join(outdir, prefix + ".manifest"), "w") as m, \
            open(os.path.join(outdir, prefix + ".bin"), "wb") as b:
        for name, dt, a in items:
            a = np.array(np.asarray(a), dtype=_DT[dt], order="C")  # keeps 0-d arrays 0-d
            m.write("%s %s %d %s\n" % (name, dt, a.ndim, " ".join(str(d) for d in a.shape)))
            b.write(a.tobytes())


def torch_items(sd, f16=False):
    """A state_dict as the converter stores a known architecture: floats f32
    (or f16), integers i64, names without 'module.'."""
    import torch
    out = []
    for k, v in sd.items():
        k = k[7:] if k.startswith("module.") else k
        if v.is_floating_point():
            out.append((k, "f16", v.float().half().numpy()) if f16 else (k, "f32", v.float().numpy()))
        else:
            out.append((k, "i64", v.to(torch.int64).numpy()))
    return out
