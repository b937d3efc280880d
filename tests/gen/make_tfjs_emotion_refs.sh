#!/bin/sh
# Reference probabilities of the default emotion model (face-api FaceExpressionNet)
# from its reference runtime: @tensorflow/tfjs 4.22.0 in Node (pure-JS CPU backend)
# running face-api 1.7.15's own JavaScript (dist/face-api.esm-nobundle.js).
# Writes tests/fixtures/tfjs-ref/<case>.input.npy and <case>.probs.npy.
# Run by hand (CI never does): needs node, npm (or a filled SM_TFJS_REF_DIR)
# and Debian's python3-skimage; prints "skipped: ..." and exits 0 without them.
#
#   sh tests/gen/make_tfjs_emotion_refs.sh
# Environment: SM_TFJS_REF_DIR (scratch, default /tmp/smartmirror-tfjs-ref),
#              OUT (default tests/fixtures/tfjs-ref), PYTHON (default /usr/bin/python3).
set -eu
cd "$(dirname "$0")/../.."
SCR=${SM_TFJS_REF_DIR:-/tmp/smartmirror-tfjs-ref}
OUT=${OUT:-tests/fixtures/tfjs-ref}
PY=${PYTHON:-/usr/bin/python3}
skip() { echo "skipped: $*"; exit 0; }
command -v node >/dev/null 2>&1 || skip "node not found"
"$PY" -c 'import skimage.data, numpy' 2>/dev/null || skip "$PY with numpy and scikit-image not found"
mkdir -p "$SCR" "$OUT"

# 1. face-api's files (and human-models' with SM_FETCH_HUMAN_MODELS=1 or a cached
#    tarball), verified by SHA-256 (models/fetch-emotion-models.sh)
sh models/fetch-emotion-models.sh --fetch-only || skip "face-api could not be fetched (no npm/network and no cache)"
CACHE=${SM_MODEL_CACHE:-models/cache}
HUMAN=""
[ -f "$CACHE/human-models-3.0.4/emotion.json" ] && HUMAN="$(pwd)/$CACHE/human-models-3.0.4"
TGZ=$CACHE/vladmandic-face-api-1.7.15.tgz
DIST_SHA=$(tar -xzf "$TGZ" -O package/dist/face-api.esm-nobundle.js | sha256sum | cut -d' ' -f1)
# face-api's ESM build imports tfjs's bundler entry points (dist/index.js, whose
# own imports lack file extensions and so do not load in plain Node); point the
# three import specifiers at the packages' Node entry points. Nothing else changes.
tar -xzf "$TGZ" -O package/dist/face-api.esm-nobundle.js |
    sed -e 's#from"@tensorflow/tfjs/dist/index.js"#from"@tensorflow/tfjs"#' \
        -e 's#from"@tensorflow/tfjs-backend-wasm/dist/index.js"#from"@tensorflow/tfjs-backend-wasm"#' \
        -e 's#from"@tensorflow/tfjs-backend-webgl/dist/index.js"#from"@tensorflow/tfjs-backend-webgl"#' \
        > "$SCR/face-api.esm-nobundle.mjs"

# 2. tfjs, pinned, in the scratch dir (never in the repo)
if [ ! -d "$SCR/node_modules/@tensorflow/tfjs-backend-wasm" ]; then
    command -v npm >/dev/null 2>&1 || skip "npm not found and $SCR has no tfjs"
    (cd "$SCR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
        npm install --no-audit --no-fund --ignore-scripts @tensorflow/tfjs@4.22.0 \
            @tensorflow/tfjs-backend-cpu@4.22.0 @tensorflow/tfjs-core@4.22.0 \
            @tensorflow/tfjs-backend-wasm@4.22.0 >/dev/null) || skip "npm install of @tensorflow/tfjs@4.22.0 failed"
fi
cp tests/gen/tfjs_emotion_ref.mjs "$SCR/"

# 3. the real face crops (boxes from tests/fixtures/face-ref's MediaPipe detections,
#    picked by hand; lfw_subset images are already face crops)
mkdir -p "$SCR/crops"
"$PY" - "$SCR/crops" <<'PYEOF'
import json, sys
import numpy as np
import skimage.data as d
out = sys.argv[1]
a = d.astronaut()
cam = np.repeat(d.camera()[:, :, None], 3, axis=2)
lfw = np.round(d.lfw_subset()[:3] * 255).astype(np.uint8)
crops = {
    "astronaut_tight": a[82:178, 178:272],   # 96 x 94: not square, face-api pads it
    "astronaut_loose": a[50:210, 145:305],
    "camera": cam[120:215, 175:268],
    "lfw0": np.repeat(lfw[0][:, :, None], 3, axis=2),
    "lfw1": np.repeat(lfw[1][:, :, None], 3, axis=2),
    "lfw2": np.repeat(lfw[2][:, :, None], 3, axis=2),
}
shapes = {}
for k, v in crops.items():
    v = np.ascontiguousarray(v, dtype=np.uint8)
    v.tofile(f"{out}/{k}.u8")
    shapes[k] = [int(v.shape[0]), int(v.shape[1])]
json.dump(shapes, open(f"{out}/crops.json", "w"))
PYEOF

# 4. the references
(cd "$SCR" && node tfjs_emotion_ref.mjs face-api.esm-nobundle.mjs "$(cd - >/dev/null && pwd)/$CACHE/face-api-1.7.15" \
    crops "$(cd - >/dev/null && pwd)/$OUT" $HUMAN)
echo "face-api dist/face-api.esm-nobundle.js sha256 $DIST_SHA" > "$OUT/versions.txt"
(cd "$SCR" && node -e 'for (const p of ["tfjs","tfjs-core","tfjs-backend-cpu"]) console.log("@tensorflow/" + p, require("@tensorflow/" + p + "/package.json").version)') >> "$OUT/versions.txt"
echo "node $(node --version)" >> "$OUT/versions.txt"
echo "wrote $OUT (see $OUT/summary.json)"
