#!/bin/sh
# The live pipeline as a camera would drive it (issue 10, acceptance point 2): makes a
# 640x480 30 fps clip of a real face (bench/pipeline/clip.py), runs
#   smartmirror --video CLIP --headless --realtime --threads 2 (all five models)
# and prints frames analysed per second, the emotion rate, and per-stage ms from the
# JSON lines it writes (bench/pipeline/report.py). See docs/PERFORMANCE.md.
# Not a test: timings never pass or fail anything; the exit status is 0 whenever the
# run and the report worked, whatever the numbers.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
B=${B:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1

usage() {
    cat <<'EOF'
usage: sh bench/pipeline.sh [options]

Runs `smartmirror --headless --realtime` on a synthetic 640x480 clip (the astronaut
photo panning slowly, a 72 BPM skin pulse, sensor noise; made once into
bench/.work/pipeline/) with face (478 points), fatigue (MLP) on every frame, emotion
at --emotion-hz (default 10) on its own worker and heart rate (UltraLightNet + POS) on, and prints:
frames analysed of the clip's and per second of video time, frames with a face,
fatigue and heart, emotion results per second, and per-stage ms (mean / median /
p95), then whether issue 10's target holds (>= 30 analysed frames/s, emotion >= 10 Hz).

  --seconds S     clip length in seconds (default 20)
  --threads N     smartmirror --threads (default 2: the target's 2 cores)
  --fps F         play the 30 fps clip at F frames/s (smartmirror --fps; default 30);
                  e.g. 60 shows the headroom
  --emotion-hz HZ emotion runs per second of video (smartmirror --emotion-hz; default
                  10, issue 10's target; 30 = every frame, issue 17's goal)
  --precision P   fp32, bf16 (smartmirror --precision) or default (the default: no
                  --precision, each model its own default, docs/PERFORMANCE.md BF16)
  --json          one JSON object instead of the text report
  --keep          keep the run's JSON lines, summary and stderr in bench/.work/pipeline/
  -h, --help      this text

Models: the face models from models/ (`make models`); fatigue_mlp.smw and
ultralight_rppg.smw from models/ or converted from ../shared/seed/checkpoints
(or $SM_CHECKPOINTS); emotion.smw from models/ or else a seeded random
NovelEmotionModel (tests/gen/novel_emotion_ref.py, seed 20261125, the same
checkpoint make bench-compare uses: same cost as the real one), converted once.
Environment: B (build directory, default build), SM_CHECKPOINTS.
EOF
}

seconds=20 threads=2 fps=30 emotion_hz=10 precision=default json='' keep=''
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help) usage; exit 0 ;;
        --seconds) [ $# -ge 2 ] || { echo "pipeline.sh: --seconds needs a value" >&2; exit 2; }; seconds=$2; shift ;;
        --threads) [ $# -ge 2 ] || { echo "pipeline.sh: --threads needs a value" >&2; exit 2; }; threads=$2; shift ;;
        --fps) [ $# -ge 2 ] || { echo "pipeline.sh: --fps needs a value" >&2; exit 2; }; fps=$2; shift ;;
        --emotion-hz) [ $# -ge 2 ] || { echo "pipeline.sh: --emotion-hz needs a value" >&2; exit 2; }; emotion_hz=$2; shift ;;
        --precision) [ $# -ge 2 ] || { echo "pipeline.sh: --precision needs a value" >&2; exit 2; }; precision=$2; shift ;;
        --json) json=--json ;;
        --keep) keep=1 ;;
        *) echo "pipeline.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case $seconds in ''|*[!0-9]*) echo "pipeline.sh: --seconds needs a whole number >= 1, got '$seconds'" >&2; exit 2 ;; esac
case $threads in ''|*[!0-9]*) echo "pipeline.sh: --threads needs a whole number >= 1, got '$threads'" >&2; exit 2 ;; esac
case $fps in ''|*[!0-9]*) echo "pipeline.sh: --fps needs a whole number >= 1, got '$fps'" >&2; exit 2 ;; esac
case $emotion_hz in ''|*[!0-9]*) echo "pipeline.sh: --emotion-hz needs a whole number >= 1, got '$emotion_hz'" >&2; exit 2 ;; esac
case $precision in fp32|bf16|default) ;; *) echo "pipeline.sh: --precision is fp32, bf16 or default, got '$precision'" >&2; exit 2 ;; esac
prec_arg=''
[ "$precision" = default ] || prec_arg="--precision $precision"
if [ "$seconds" -lt 1 ] || [ "$threads" -lt 1 ] || [ "$fps" -lt 1 ] || [ "$emotion_hz" -lt 1 ]; then
    echo "pipeline.sh: --seconds, --threads, --fps and --emotion-hz must be >= 1" >&2
    exit 2
fi

die() { echo "pipeline.sh: error: $*" >&2; exit 1; }
note() { echo "pipeline.sh: $*" >&2; }
# stale A B: A is missing or B is newer than A
stale() { [ ! -f "$1" ] || [ -n "$(find "$2" -newer "$1" 2>/dev/null)" ]; }

[ -x "$B/smartmirror" ] || die "$B/smartmirror not built (make -j2)"
[ -x "$B/smw-convert" ] || die "$B/smw-convert not built (make -j2)"
[ -x "$PY" ] || die "$PY not found (Debian python3 with python3-numpy, python3-skimage)"

work=$repo/bench/.work/pipeline
mkdir -p "$work"
ckpt=${SM_CHECKPOINTS:-$(dirname "$repo")/shared/seed/checkpoints}

# ---- models
det=$repo/models/face_detection_short_range.smw
mesh=$repo/models/face_landmark_with_attention.smw
if [ ! -f "$det" ] || [ ! -f "$mesh" ]; then
    die "face models missing: $det, $mesh (make models)"
fi

# model FILE_IN_MODELS CHECKPOINT: models/FILE, else the checkpoint converted into $work
model() {
    if [ -f "$repo/models/$1" ]; then
        echo "$repo/models/$1"
    elif [ -f "$ckpt/$2" ]; then
        if stale "$work/$1" "$ckpt/$2"; then
            note "converting $ckpt/$2 -> $work/$1"
            "$B/smw-convert" "$ckpt/$2" -o "$work/$1" >&2 || die "smw-convert $2 failed"
        fi
        echo "$work/$1"
    fi
}
fatigue=$(model fatigue_mlp.smw fatigue_mlp.joblib)
rppg=$(model ultralight_rppg.smw best_model.pth)
[ -n "$fatigue" ] || die "no fatigue_mlp.smw in models/ and no $ckpt/fatigue_mlp.joblib"
[ -n "$rppg" ] || die "no ultralight_rppg.smw in models/ and no $ckpt/best_model.pth"
if [ -f "$repo/models/emotion.smw" ]; then
    emotion=$repo/models/emotion.smw
else
    # The seeded random NovelEmotionModel: the same file bench/compare writes and reads.
    pth=$repo/bench/.work/compare/emotion.pth
    emotion=$work/emotion.smw
    if [ ! -f "$pth" ]; then
        note "building the seeded NovelEmotionModel checkpoint (BN calibration, ~30 s) -> $pth"
        mkdir -p "$(dirname "$pth")"
        "$PY" - "$repo/tests/gen" "$pth" <<'EOF' || die "could not build the emotion checkpoint"
import os, sys
sys.path.insert(0, sys.argv[1])
import novel_emotion_ref as ner
m = ner.build_model(20261125)
ner.save_checkpoint(m, sys.argv[2] + ".tmp")
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
EOF
    fi
    if stale "$emotion" "$pth"; then
        note "converting $pth -> $emotion"
        "$B/smw-convert" "$pth" -o "$emotion" >&2 || die "smw-convert of the emotion checkpoint failed"
    fi
fi

# ---- clip (640x480, 30 fps), made once per length
clip=$work/clip-640x480-${seconds}s.y4m
if stale "$clip" "$here/pipeline/clip.py"; then
    note "making $clip"
    rm -f "$work"/clip-640x480-*.y4m  # one clip at a time (about 14 MB per second)
    "$PY" "$here/pipeline/clip.py" "$clip" "$seconds" 30 || die "clip.py failed"
fi
frames=$((seconds * 30))

# ---- run
out=$work/run.jsonl
errf=$work/run.stderr
rm -f "$out" "$errf" "$work/qtable.txt" "$work/summary.json"
t0=$(date +%s.%N)
set +e
"$B/smartmirror" --video "$clip" --headless --realtime --fps "$fps" --threads "$threads" --no-landmarks \
    --emotion-hz "$emotion_hz" $prec_arg \
    --face-detector "$det" --face-mesh "$mesh" --emotion "$emotion" --fatigue "$fatigue" --rppg "$rppg" \
    --qtable "$work/qtable.txt" --out "$out" >"$work/summary.json" 2>"$errf"
rc=$?
set -e
t1=$(date +%s.%N)
if [ $rc -ne 0 ] || [ ! -s "$out" ]; then
    cat "$errf" >&2
    die "smartmirror exited with $rc"
fi
# The clip's frame count at the playback rate: frames stay 30 s^-1 x seconds, time shrinks.
wall=$(echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}')
"$PY" "$here/pipeline/report.py" "$out" "$errf" "$frames" "$fps" "$wall" "$threads" "$emotion_hz" "$precision" $json
if [ -z "$keep" ]; then
    rm -f "$out" "$errf" "$work/qtable.txt" "$work/summary.json"
fi
