#!/bin/sh
# Regenerates tests/fixtures/emotion/: face-api's own preprocessing (crop, pad,
# resize, normalisation) and FaceExpressionNet probabilities on small real
# photos, computed by @vladmandic/face-api@1.7.15 on @tensorflow/tfjs@4.22.0's
# pure-JS cpu backend (tests/gen/faceapi_ref.mjs prep). The outputs are
# committed; test_emotion_fer compares our sm_fer_preprocess (and, with
# models/emotion_fer.smw, the whole model) against them.
#
# NOT run by `make test` (it needs node, npm and the npm registry):
#   sh tests/gen/make_emotion_refs.sh [SCRATCH_DIR]
# SCRATCH_DIR (default /tmp/sm-faceapi) gets the pinned npm packages.
# Skips with a message when node or npm is missing.
set -eu
out=tests/fixtures/emotion
scratch=${1:-/tmp/sm-faceapi}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "skipped: make_emotion_refs.sh needs node and npm"
    exit 0
fi
if [ ! -d "$scratch/node_modules/@vladmandic/face-api" ]; then
    mkdir -p "$scratch"
    (cd "$scratch" && [ -f package.json ] || echo '{"private": true}' > package.json)
    (cd "$scratch" && npm install --no-audit --no-fund --ignore-scripts @tensorflow/tfjs@4.22.0 \
        @tensorflow/tfjs-backend-wasm@4.22.0 @vladmandic/face-api@1.7.15 jpeg-js@0.4.4 pngjs@7.0.0)
fi
export NODE_PATH="$scratch/node_modules"
ref() { # image x y w h name
    node tests/gen/faceapi_ref.mjs prep "$out/$1" "$2" "$3" "$4" "$5" "$out/$6.npy" |
        sed "s|^|$6 $1 $2 $3 $4 $5 |"
}
tmp="$out/cases.txt.tmp"
{
    echo "# name image x y w h {face-api JSON: box, clipped crop shape, probabilities}"
    echo "# made by tests/gen/make_emotion_refs.sh (@vladmandic/face-api@1.7.15, @tensorflow/tfjs@4.22.0 cpu)"
    # a tall box (pads left and right), fractional corners
    ref neutral_010_03.png 42.6 44.9 75.3 89.7 prep_tall
    # a wide box past the left border (clip, then pads top and bottom)
    ref neutral_010_03.png -10.5 60.2 120.7 66.3 prep_wide_clip
    # past the right and bottom borders
    ref happy_020_08.png 90.3 100.8 100.0 100.0 prep_corner
    # exactly 112 x 112 (face-api skips the resize)
    ref happy_066_08.png 20 24 112 112 prep_exact
    # small: upsampled, odd padding split
    ref happy_066_08.png 55.5 60.25 31.3 46.9 prep_small
} > "$tmp"
mv "$tmp" "$out/cases.txt"
echo "wrote $out/cases.txt and $out/prep_*.npy"
