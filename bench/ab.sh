#!/bin/sh
# bench/ab.sh: interleaved A/B of smw-bench builds on one model, for telling a change's
# effect from a noisy machine's: ROUNDS rounds, each running every build once (short
# `smw-bench model --json` calls, alternating), then per build the median of the
# per-call medians and the smallest min.
#   sh bench/ab.sh [--threads N] [--rounds R] [--iters K] MODEL.smw SMW_BENCH_A SMW_BENCH_B [...]
# e.g. cp build/smw-bench /tmp/before; (change, make); sh bench/ab.sh m.smw /tmp/before build/smw-bench
set -eu
threads=1 rounds=8 iters=8
usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help) usage; exit 0 ;;
        --threads) threads=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --iters) iters=$2; shift 2 ;;
        -*) echo "ab.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -ge 3 ] || { usage >&2; exit 2; }
model=$1; shift
[ -f "$model" ] || { echo "ab.sh: $model: no such file" >&2; exit 2; }
for b in "$@"; do [ -x "$b" ] || { echo "ab.sh: $b: not an executable" >&2; exit 2; }; done
r=0
while [ $r -lt "$rounds" ]; do
    for b in "$@"; do
        printf '%s ' "$b"
        "$b" model "$model" --threads "$threads" --iters "$iters" --warmup-ms 100 --json 2>/dev/null | tail -n 1
    done
    r=$((r + 1))
done | /usr/bin/python3 -c '
import json, statistics, sys
runs = {}
for line in sys.stdin:
    build, _, js = line.partition(" ")
    try:
        d = json.loads(js)
    except ValueError:
        sys.exit("ab.sh: %s printed no JSON (a build without --warmup-ms, or a bad model?)" % build)
    runs.setdefault(build, []).append((d["median_ms"], d["min_ms"]))
for build, v in runs.items():
    print("%-40s median of medians %.4g ms, min %.4g ms (%d calls)"
          % (build, statistics.median(x[0] for x in v), min(x[1] for x in v), len(v)))
'
