#!/bin/sh
# Soak test: runs the headless mirror live (--realtime) on a generated clip for
# SECONDS (default 120) and checks that it does not grow: the resident memory at
# the end must be within 5% of the value after the first 10 s, and the number of
# open file descriptors must not grow. The clip is a directory of 640x480 JPEG
# frames of a public-domain face photo (skimage's astronaut) panning slowly; it
# is made of 60 distinct frames repeated through symlinks, so it costs ~2 MB.
# The run carries the whole analysis state that lives as long as the session
# (issue 18): the face models (models/, else those make test converted into
# $B/fixtures/face; SOAK_MODELS=DIR picks others), so the fatigue detector
# calibrates and runs its event state machine, the POS heart tracker and the
# emotion model run; the session's history rings fill, --record appends a CSV
# row per second and --summary is written at exit. The end checks that this
# state was really exercised (a face, a calibrated detector, a heart section,
# CSV rows, the summary), not only that memory stayed flat.
#   sh tests/soak.sh [SECONDS]        (B=build dir, default build)
set -u
secs=${1:-120}
B=${B:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
bin="$B/smartmirror"
fps=30
[ -x "$bin" ] || { echo "soak: $bin not built (make)" >&2; exit 1; }
[ "$secs" -ge 20 ] || { echo "soak: run for at least 20 s" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/smsoak.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$PYTHON" - "$work/distinct" <<'EOF' || { echo "soak: cannot make the clip (python3-skimage, python3-pil)" >&2; exit 1; }
import os, sys
import numpy as np
from PIL import Image
from skimage import data
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
img = data.astronaut()                      # 512x512 RGB, public domain
canvas = np.full((520, 720, 3), (40, 44, 52), np.uint8)
canvas[4:516, 104:616] = img
for i in range(60):
    dx = int(round(20 * np.sin(2 * np.pi * i / 60)))
    dy = int(round(8 * np.cos(2 * np.pi * i / 60)))
    frame = canvas[20 + dy:20 + dy + 480, 40 + dx:40 + dx + 640]
    Image.fromarray(frame).save(os.path.join(out, "%02d.jpg" % i), quality=90)
EOF
mkdir -p "$work/clip"
n=$((secs * fps + fps * 5))
i=0
while [ $i -lt $n ]; do
    ln -s "$work/distinct/$(printf %02d $((i % 60))).jpg" "$work/clip/$(printf %07d $i).jpg"
    i=$((i + 1))
done

models=${SOAK_MODELS:-}
if [ -z "$models" ]; then
    for d in models "$B/fixtures/face"; do
        [ -f "$d/face_detection_short_range.smw" ] && [ -f "$d/face_landmark_with_attention.smw" ] && { models=$d; break; }
    done
fi
[ -n "$models" ] || { echo "soak: no face models in models/ or $B/fixtures/face (make models, or make test)" >&2; exit 1; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

echo "soak: ${secs}s of 640x480 at ${fps} fps through $bin --headless --realtime (models: $models)"
"$bin" --headless --realtime --images "$work/clip" --fps "$fps" --no-landmarks --no-config \
    --models "$models" --qtable "$work/qtable.txt" --record "$work/rec.csv" --summary "$work/summary.json" \
    --out "$work/out.jsonl" ${SOAK_ARGS:-} 2> "$work/stderr.log" >/dev/null &
pid=$!
sleep 10
rss0=$(rss_kb $pid); fd0=$(fds $pid)
if [ -z "$rss0" ]; then
    echo "soak: FAILED: the mirror exited within 10 s:"; cat "$work/stderr.log"; exit 1
fi
sleep $((secs - 10))
rss1=$(rss_kb $pid); fd1=$(fds $pid)
if [ -z "$rss1" ]; then
    echo "soak: FAILED: the mirror exited early:"; cat "$work/stderr.log"; exit 1
fi
kill -TERM $pid
wait $pid
rc=$?
lines=$(wc -l < "$work/out.jsonl")
echo "soak: RSS after 10 s ${rss0} kB, at ${secs} s ${rss1} kB; fds ${fd0} -> ${fd1}; ${lines} frames analysed; exit ${rc} after SIGTERM"
status=0
if [ $((rss1 * 100)) -gt $((rss0 * 105)) ]; then
    echo "soak: FAILED: resident memory grew by more than 5%"; status=1
fi
if [ "$fd1" -gt "$fd0" ]; then
    echo "soak: FAILED: file descriptors leaked"; status=1
fi
if [ "$rc" -ne 0 ]; then
    echo "soak: FAILED: exit status $rc after SIGTERM (expected a clean shutdown)"; cat "$work/stderr.log"; status=1
fi
if [ "$lines" -lt $((secs * 5)) ]; then
    echo "soak: FAILED: only $lines frames analysed in ${secs}s"; status=1
fi
# the long-lived analysis state was exercised, not only the frame loop
last=$(tail -n 1 "$work/out.jsonl")
case "$last" in *'"face":{'*) ;; *) echo "soak: FAILED: no face in the last frame: $last" | cut -c1-400; status=1 ;; esac
case "$last" in *'"calibrated":true'*) ;; *) echo "soak: FAILED: the fatigue detector never calibrated"; status=1 ;; esac
case "$last" in *'"heart":{'*) ;; *) echo "soak: FAILED: no heart section"; status=1 ;; esac
rows=$(($(wc -l < "$work/rec.csv") - 1))
if [ "$rows" -lt $((secs - 15)) ]; then
    echo "soak: FAILED: --record has $rows rows for ${secs}s"; status=1
fi
if ! grep -q '^{"summary":1,' "$work/summary.json" 2>/dev/null; then
    echo "soak: FAILED: no --summary written at exit"; status=1
fi
echo "soak: --record $rows rows; summary: $(cut -c1-200 "$work/summary.json" 2>/dev/null)"
[ $status -eq 0 ] && echo "soak: passed"
exit $status
