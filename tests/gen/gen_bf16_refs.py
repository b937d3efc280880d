"""Fixtures for test_bf16 (the BF16 GEMM path), all from PyTorch/numpy, never from
our engine:
  bf16/round_in.npy (f4) and bf16/round_out.npy (i4): FP32 values (ties both ways,
      carries into the exponent, overflow to inf, +-inf, NaNs, -0, random) and
      torch's float32 -> bfloat16 conversion (round to nearest even) as bit
      patterns. Denormal inputs are left out: vdpbf16ps reads them as zero (its
      DAZ), which torch does not model; test_bf16 checks that rule by itself.
  bf16/gemm_<case>_{a,w,bias,c}.npy: A [M][K], W [N][K] (PyTorch layout), bias [N]
      and C = A*W^T + bias computed step by step as vdpbf16ps does it (Intel SDM):
      operands rounded by torch to bfloat16, then per pair of k, in float32,
      acc += a[2p+1]*w[2p+1], acc += a[2p]*w[2p] (each product exact in float32,
      so numpy's float32 add is the one rounding of an FMA)."""
import os
import sys

import numpy as np
import torch

out = os.path.join(sys.argv[1], "bf16")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(17)


def bf16_bits(x):
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(torch.bfloat16)
    return t.view(torch.int16).numpy().astype(np.int32) & 0xFFFF


def bf16_value(x):
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(torch.bfloat16)
    return t.to(torch.float32).numpy()


def f32(bits):
    return np.array(bits, dtype=np.uint32).view(np.float32)


special = f32([
    0x3F808000,  # tie, even below: stays 0x3F80
    0x3F818000,  # tie, odd below: rounds up to 0x3F82
    0x3F808001,  # just above the tie: up
    0x3F807FFF,  # just below the tie: down
    0x3FFF8000,  # tie carrying into the exponent: 0x4000
    0x7F7FFFFF,  # FLT_MAX: rounds to +inf
    0x7F7F7FFF,  # below the overflow tie: 0x7F7F
    0xFF7FFFFF,  # -FLT_MAX: -inf
    0x7F800000, 0xFF800000,  # +-inf
    0x00000000, 0x80000000,  # +-0
    0x00800000, 0x80800000,  # smallest normals
    0x7FC00000, 0xFFC00000,  # quiet NaNs
    0x7F800001, 0xFF800001,  # signalling NaNs with payload in the low half only
    0x7FBFFFFF,  # NaN whose rounding would carry into the exponent
])
rand = (rng.standard_normal(4000) * np.exp(rng.uniform(-20, 20, 4000))).astype(np.float32)
rand_bits = rand.view(np.uint32)
rand = rand[(rand_bits & 0x7F800000) != 0]  # no denormals (see above)
vals = np.concatenate([special, rand]).astype(np.float32)
np.save(os.path.join(out, "round_in.npy"), vals)
np.save(os.path.join(out, "round_out.npy"), bf16_bits(vals).astype(np.int32))


def vdpbf16ps_gemm(a, w, bias):
    aq, wq = bf16_value(a), bf16_value(w)
    m, k = a.shape
    n = w.shape[0]
    if k % 2:
        aq = np.concatenate([aq, np.zeros((m, 1), np.float32)], 1)
        wq = np.concatenate([wq, np.zeros((n, 1), np.float32)], 1)
    acc = np.broadcast_to(bias.astype(np.float32), (m, n)).copy()
    for p in range(aq.shape[1] // 2):
        for t in (1, 0):  # the odd k first, as vdpbf16ps
            prod = np.outer(aq[:, 2 * p + t], wq[:, 2 * p + t]).astype(np.float32)
            assert np.array_equal(prod.astype(np.float64), np.outer(aq[:, 2 * p + t].astype(np.float64),
                                                                    wq[:, 2 * p + t].astype(np.float64)))
            acc = (acc + prod).astype(np.float32)
    return acc


cases = {"m7_n19_k37": (7, 19, 37), "m4_n8_k2": (4, 8, 2), "m1_n1_k1": (1, 1, 1), "m13_n40_k64": (13, 40, 64),
         "m9_n33_k3": (9, 33, 3)}
for name, (m, n, k) in cases.items():
    a = rng.standard_normal((m, k)).astype(np.float32)
    w = (rng.standard_normal((n, k)) * 0.3).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    c = vdpbf16ps_gemm(a, w, bias)
    for suffix, arr in (("a", a), ("w", w), ("bias", bias), ("c", c)):
        np.save(os.path.join(out, "gemm_%s_%s.npy" % (name, suffix)), arr)
print("bf16 fixtures: %d rounding values, %d GEMM cases" % (vals.size, len(cases)))
