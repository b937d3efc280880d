#!/bin/sh
# What `make run` executes after building (B=<builddir> sh viewer/run.sh):
# makes sure the face models are there (models/fetch-face-models.sh, i.e.
# `make models`), converts the user's checkpoints from ../shared/seed/checkpoints
# (or $SM_CHECKPOINTS) into models/ when their .smw are missing
# (best_model.pth -> ultralight_rppg.smw, fatigue_mlp.joblib -> fatigue_mlp.smw,
# emotion_model_novel_finetuned.pth -> emotion.smw), then runs the mirror on
# the first camera, or, with no camera, on a demo clip made from a photo that
# needs no download (Debian's public-domain astronaut photo from
# python3-skimage; viewer/make-demo.py), played in a loop; the still itself
# when the clip cannot be made. Without a display it runs headless.
# Your checkpoints are looked for in $SM_CHECKPOINTS (default ../shared/seed/checkpoints).
# Extra arguments for smartmirror: SM_RUN_ARGS="--no-mirror ...".
set -u
B=${B:-build}
bin="$B/smartmirror"
if [ ! -x "$bin" ]; then
    echo "run: $bin is missing: build it with make" >&2
    exit 1
fi

if [ -f models/fetch-face-models.sh ]; then
    if ! B="$B" sh models/fetch-face-models.sh; then
        echo "run: notice: fetching/converting the face models failed (see above);" \
             "the mirror runs without face analysis"
    fi
else
    echo "run: notice: models/fetch-face-models.sh is not in this tree yet;" \
         "the mirror runs without face analysis"
fi

# The user's own checkpoints (each optional: without one its panel falls back
# to the rules / POS, or stays off for emotion).
ck=${SM_CHECKPOINTS:-../shared/seed/checkpoints}
convert_ckpt() { # TARGET SOURCE-NAME... (the first one found)
    target=$1
    shift
    [ -f "models/$target" ] && return 0
    for name in "$@"; do
        if [ -f "$ck/$name" ]; then
            if [ ! -x "$B/smw-convert" ]; then
                echo "run: notice: $B/smw-convert is missing; not converting $ck/$name"
                return 0
            fi
            echo "run: converting $ck/$name -> models/$target"
            if ! "$B/smw-convert" "$ck/$name" -o "models/$target" > /dev/null; then
                echo "run: notice: converting $ck/$name failed (see above); that panel falls back"
            fi
            return 0
        fi
    done
}
echo "run: looking for your checkpoints in $ck (set SM_CHECKPOINTS=DIR to use another folder)"
if [ -d "$ck" ]; then
    convert_ckpt ultralight_rppg.smw best_model.pth
    convert_ckpt fatigue_mlp.smw fatigue_mlp.joblib
    convert_ckpt emotion.smw emotion_model_novel_finetuned.pth best_emotion_model_b3_novel.pth
fi

mode=""
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    mode="--headless"
    echo "run: no display (DISPLAY/WAYLAND_DISPLAY unset): running headless, one JSON line per frame"
fi

cam=""
for d in /dev/video*; do
    [ -e "$d" ] && { cam=$d; break; }
done
if [ -n "$cam" ]; then
    echo "run: using the camera $cam (others: $bin --list-cameras; q quits)"
    # shellcheck disable=SC2086
    exec "$bin" --camera "$cam" $mode ${SM_RUN_ARGS:-}
fi

demo=/usr/lib/python3/dist-packages/skimage/data/astronaut.png
# The demo clip: the same public-domain photo with a swaying head and a faint
# drifting pulse (viewer/make-demo.py), made once into $B/demo/, played in a loop.
clip="$B/demo/astronaut-demo.y4m"
if [ ! -f "$clip" ] && [ -r "$demo" ]; then
    mkdir -p "$B/demo"
    echo "run: making the demo clip $clip from $demo (once, about 10 s)"
    ${PYTHON:-/usr/bin/python3} viewer/make-demo.py "$clip" "$demo" || echo "run: notice: could not make the demo clip; showing the still"
fi
if [ -z "$cam" ] && [ -f "$clip" ]; then
    echo "run: no camera found (/dev/video*): playing the demo clip $clip in a loop (q quits)."
    echo "run: with a webcam plugged in, make run uses it; or run $bin --camera /dev/videoN," \
         "--video FILE (Y4M, MJPEG AVI, anything with ffmpeg installed) or --images DIR"
    # shellcheck disable=SC2086
    loop="--loop"
    [ -n "$mode" ] && loop="" # headless: play it once (one JSON line per frame, then the summary)
    exec "$bin" --video "$clip" $loop $mode ${SM_RUN_ARGS:-}
fi
if [ ! -r "$demo" ]; then
    echo "run: no camera (/dev/video*) and no demo picture ($demo: apt-get install python3-skimage)." >&2
    echo "run: try: $bin --video FILE.y4m   or   $bin --images DIR" >&2
    exit 1
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/smartmirror-demo.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT INT TERM
ln -s "$demo" "$dir/astronaut.png"
echo "run: no camera found (/dev/video*): showing a demo still ($demo)."
echo "run: with a webcam plugged in, make run uses it; or run $bin --camera /dev/videoN," \
     "--video FILE (Y4M, MJPEG AVI, anything with ffmpeg installed) or --images DIR"
# shellcheck disable=SC2086
"$bin" --images "$dir" $mode ${SM_RUN_ARGS:-}
