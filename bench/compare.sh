#!/bin/sh
# make bench-compare: our engine vs ONNX Runtime, PyTorch TorchScript and TFLite on
# the same inputs, in the same run, interleaved (bench/compare/compare.py; see
# docs/PERFORMANCE.md). Arguments: --json, --quick, --models a,b, --threads 1,2, --help.
# Needs Debian's python3-torch/python3-sklearn (/usr/bin/python3), node and npm; installs
# onnxruntime-node@1.30.0 into bench/.work/ort once (npm, offline-safe install script skip).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
export B
# No __pycache__ next to the scripts (or in tests/gen, whose modules are imported).
export PYTHONDONTWRITEBYTECODE=1
PY=/usr/bin/python3
ORT_VERSION=1.30.0
ORT_DIR=$here/.work/ort

die() { echo "bench-compare: error: $*" >&2; exit 1; }

[ -x "$PY" ] || die "$PY not found (Debian python3 with python3-torch, python3-sklearn)"
"$PY" -c 'import torch, sklearn, joblib' 2>/dev/null ||
    die "Debian's python3-torch / python3-sklearn are missing (apt-get install python3-torch python3-sklearn)"
command -v node >/dev/null 2>&1 || die "node not found (apt-get install nodejs npm)"

for a in "$@"; do
    case $a in -h|--help) exec "$PY" "$here/compare/compare.py" --help ;; esac
done

if [ ! -f "$ORT_DIR/node_modules/onnxruntime-node/package.json" ] ||
   ! grep -q "\"version\": \"$ORT_VERSION\"" "$ORT_DIR/node_modules/onnxruntime-node/package.json"; then
    command -v npm >/dev/null 2>&1 || die "npm not found (apt-get install npm)"
    mkdir -p "$ORT_DIR"
    cp "$here/compare/package.json" "$ORT_DIR/package.json"
    echo "bench-compare: npm install onnxruntime-node@$ORT_VERSION into $ORT_DIR" >&2
    # The skip avoids the install script's download of GPU binaries, which fails offline.
    (cd "$ORT_DIR" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --no-package-lock \
        >npm.log 2>&1) || { cat "$ORT_DIR/npm.log" >&2; die "npm install onnxruntime-node failed"; }
fi
export ORT_MODULES="$ORT_DIR/node_modules"
exec "$PY" "$here/compare/compare.py" "$@"
