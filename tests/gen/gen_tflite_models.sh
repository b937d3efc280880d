#!/bin/sh
# Fixtures for test_tflite: fetches and verifies the three MediaPipe face models
# (models/fetch-face-models.sh --fetch-only, which checks every SHA-256), copies
# them to OUTDIR/tflite/, and writes the independent reference for each
# (tests/gen/tflite_flatref.py: its own FlatBuffer walker + numpy float16, and
# the operator listing in shared/reference/face_models_nodes).
# Without npm/network and without a cached tarball it prints "skipped" and exits 0.
set -u
out=${1:?usage: gen_tflite_models.sh OUTDIR}
py=${SM_PYTHON:-/usr/bin/python3}
dir="$out/tflite"
mkdir -p "$dir"
if ! sh models/fetch-face-models.sh --fetch-only > "$dir/fetch.log" 2>&1; then
    echo "skipped: face models unavailable (npm or network missing?):"
    sed 's/^/    /' "$dir/fetch.log"
    exit 0
fi
cache=${SM_MODEL_CACHE:-models/cache}
nodes=""
for d in "${SM_SHARED:-}" ../shared; do
    [ -n "$d" ] && [ -d "$d/reference/face_models_nodes" ] && { nodes="$d/reference/face_models_nodes"; break; }
done
for m in face_detection_short_range face_landmark face_landmark_with_attention; do
    cp "$cache/$m.tflite" "$dir/$m.tflite.tmp" && mv "$dir/$m.tflite.tmp" "$dir/$m.tflite" || exit 1
    if [ -z "$nodes" ]; then
        echo "skipped: $m reference (shared/reference/face_models_nodes not found)"
        continue
    fi
    "$py" tests/gen/tflite_flatref.py "$dir/$m.tflite" "$nodes/$m.txt" "$dir/$m" || exit 1
done
