"""NumPy-written .npy files for tests/test_npy.c (the reader must read what numpy writes).

usage: /usr/bin/python3 tests/gen/gen_npy_samples.py OUTDIR
Writes OUTDIR/npy_samples/*.npy plus expect.txt, one line per file:
  <file> ok <descr> <shape,comma,separated|-> <sum of elements as float64 (repr)>
  <file> bad <reason word>
Values are small integers or dyadic fractions so that sums are exact in any order.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import out_dir, up_to_date  # noqa: E402

FILES = {}


def add(name, arr, version=None, fortran=False, expect=None):
    FILES[name] = (arr, version, fortran, expect)


def main():
    out = out_dir("npy_samples")
    stamp = os.path.join(out, "expect.txt")
    if up_to_date(stamp, [os.path.abspath(__file__)]):
        print("npy samples up to date (%s)" % out)
        return
    os.makedirs(out, exist_ok=True)
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4) * 0.25 - 2.0
    add("f4_3d.npy", a)
    add("f8_2d.npy", np.arange(15, dtype=np.float64).reshape(3, 5) / 8.0)
    add("i8_1d.npy", np.array([-3, 0, 7, 1 << 40], dtype=np.int64))
    add("i4_2d.npy", np.array([[1, -2], [3, -4]], dtype=np.int32))
    add("u1_5d.npy", (np.arange(2 * 1 * 3 * 2 * 2) % 256).astype(np.uint8).reshape(2, 1, 3, 2, 2))
    add("f4_scalar.npy", np.array(1.5, dtype=np.float32))
    add("f8_empty.npy", np.zeros((0, 3), dtype=np.float64))
    add("f4_v2.npy", a, version=(2, 0))
    add("f4_v3.npy", a, version=(3, 0))
    add("f4_fortran.npy", np.asfortranarray(a), fortran=True)
    add("f8_big_endian.npy", np.arange(3, dtype=">f8"), expect="bad dtype")
    add("f2.npy", np.arange(3, dtype=np.float16), expect="bad dtype")
    add("bool.npy", np.array([True, False]), expect="bad dtype")
    add("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]), expect="bad structured")
    add("six_dims.npy", np.zeros((1, 1, 1, 1, 1, 2), dtype=np.float32), expect="bad dimensions")
    lines = []
    for name, (arr, version, fortran, expect) in FILES.items():
        path = os.path.join(out, name)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            np.lib.format.write_array(f, arr, version=version)
        os.replace(tmp, path)
        if expect:
            lines.append("%s %s" % (name, expect))
        else:
            shape = ",".join(str(d) for d in arr.shape) or "-"
            total = float(np.asarray(arr, dtype=np.float64).sum())
            lines.append("%s ok %s %s %r" % (name, arr.dtype.str, shape, total))
    # C-order reference for the Fortran file: the same values as f4_3d.npy
    with open(stamp + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(stamp + ".tmp", stamp)
    print("npy samples -> %s (%d files)" % (out, len(FILES)))


if __name__ == "__main__":
    main()
