"""What the fixture generators share: writing files atomically (temp name, then
rename, so an interrupted run never leaves a half-written reference), the
"regenerate only when older than its inputs" check, and finding ../shared.

Not a generator itself (the runner runs tests/gen/gen_*.py only); the generators
import it from their own folder.
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _replace(path, mode, write):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, mode) as f:
        write(f)
    os.replace(tmp, path)


def save_npy(path, arr):
    """arr as a C-ordered .npy at path (folders made as needed)."""
    _replace(path, "wb", lambda f: np.save(f, np.ascontiguousarray(arr)))


def save_text(path, text):
    _replace(path, "w", lambda f: f.write(text))


def up_to_date(stamp, deps):
    """True when the file stamp exists and is newer than every file in deps."""
    if not os.path.exists(stamp):
        return False
    t = os.path.getmtime(stamp)
    return all(os.path.getmtime(d) < t for d in deps)


def shared_dir():
    """$SM_SHARED, else ../shared beside the repository, when it holds seed/; else None."""
    s = os.environ.get("SM_SHARED", "")
    if s and os.path.isdir(os.path.join(s, "seed")):
        return s
    s = os.path.join(os.path.dirname(REPO), "shared")
    return s if os.path.isdir(os.path.join(s, "seed")) else None


def out_dir(sub):
    """OUTDIR/sub for a generator called as `<script> OUTDIR` (else a usage error)."""
    if len(sys.argv) != 2:
        raise SystemExit("usage: %s OUTDIR" % os.path.basename(sys.argv[0]))
    return os.path.join(sys.argv[1], sub)
