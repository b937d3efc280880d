"""PyTorch TorchScript peer for bench/compare.sh: one process per (model, threads).

    /usr/bin/python3 torch_worker.py MODEL.pt INPUTS.npz THREADS

MODEL.pt is a traced (not yet frozen) TorchScript module; here it is frozen
(torch.jit.freeze) and optimized for inference (optimize_for_inference), the
best set-up of Debian's torch 1.13 for the big models; the frozen graph alone
is kept instead when it is faster on this machine (the small face graphs). Commands on stdin, one JSON line each,
one JSON line answered on stdout:
    {"cmd": "outputs", "dir": D}   run once, write D/out<k>.npy, answer their names
    {"cmd": "run", "n": N}         N timed runs back to back, answer {"ms": [...]}
    {"cmd": "quit"}
"""
import json
import os
import sys
import time

import numpy as np
import torch


def main():
    path, inputs_path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    z = np.load(inputs_path)
    xs = [torch.from_numpy(z["in%d" % k]) for k in range(len(z.files))]
    with torch.no_grad():
        frozen = torch.jit.freeze(torch.jit.load(path).eval())
        opt = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.load(path).eval()))
        # optimize_for_inference (MKL-DNN conversions) is the documented best set-up, but
        # on the small face graphs its layout reorders make it slower than the frozen
        # graph alone: keep whichever is faster here, so the peer is at its best.
        speed = {}
        for name, mod in (("freeze+optimize_for_inference", opt), ("freeze", frozen)):
            mod(*xs)
            ts = []
            t_end = time.perf_counter() + 0.3
            while not ts or time.perf_counter() < t_end:
                t0 = time.perf_counter()
                mod(*xs)
                ts.append(time.perf_counter() - t0)
            speed[name] = min(ts)
        variant = min(speed, key=speed.get)
        m = opt if variant.endswith("inference") else frozen
    info = {"ok": True, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "mkldnn": torch.backends.mkldnn.is_available(), "variant": variant}
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        with torch.no_grad():
            if cmd["cmd"] == "outputs":
                out = m(*xs)
                out = out if isinstance(out, (tuple, list)) else (out,)
                names = []
                for k, t in enumerate(out):
                    f = os.path.join(cmd["dir"], "out%d.npy" % k)
                    np.save(f, t.contiguous().numpy())
                    names.append(f)
                print(json.dumps({"files": names}), flush=True)
            elif cmd["cmd"] == "run":
                ms = []
                for _ in range(int(cmd["n"])):
                    t0 = time.perf_counter()
                    m(*xs)
                    ms.append((time.perf_counter() - t0) * 1e3)
                print(json.dumps({"ms": ms}), flush=True)
            else:
                break


if __name__ == "__main__":
    main()
