#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c harness with clang's libFuzzer + ASan + UBSan
# and runs each for SECONDS seconds (default 30) on a corpus seeded from
# tests/fuzz/corpus/<name>/ (committed) and, on a "// SEEDS: glob ..." line,
# files from outside the repo (the user's checkpoints in ../shared when present).
# A harness lists the sources it needs on a "// SOURCES: glob ..." line and
# extra libraries on a "// LIBS: -l..." line. Any crash, leak or UB report fails.
#   sh tests/fuzz/run.sh [SECONDS] [NAME-FILTER]
# FUZZ_SEED=N fixes libFuzzer's random seed, so a run repeats the same inputs
# (CI does, so that its verdict does not change from run to run); unset or 0
# draws a new seed each run, which explores more over time. FUZZ_JOBS=N harnesses
# build and run at once (default: one per CPU).
set -u
secs=${1:-30}
filter=${2:-}
CC=${FUZZ_CC:-clang}
out=build/fuzz
mkdir -p "$out"
. tests/parallel.sh
command -v "$CC" >/dev/null 2>&1 || { echo "fuzz: $CC not found (apt-get install -y clang libclang-rt-14-dev)" >&2; exit 1; }
# fuzz_one <harness.c>: builds and runs one harness; its report goes to
# $out/<name>.report, printed whole when done (under a lock: harnesses run side by
# side), and "ok" or "failed" to $out/<name>.status.
fuzz_one() {
    h=$1
    name=$(basename "$h" .c)
    report="$out/$name.report"
    : >"$report"
    echo failed >"$out/$name.status"
    {
    srcs=$(sed -n 's/.*SOURCES: *//p' "$h" | sed 's/ *[*][/].*$//' | head -n 1)
    libs=$(sed -n 's/.*LIBS: *//p' "$h" | head -n 1)
    case "$libs" in *-lturbojpeg*) libs="-DSM_HAVE_TURBOJPEG $libs" ;; esac
    # shellcheck disable=SC2086
    files=$(ls $srcs 2>/dev/null | grep -v -- '-avx2\.c$' | grep -v -- '-avx512f\.c$' | grep -v -- '-neon\.c$' | grep -v '/smw-[^/]*\.c$')
    echo "== $name: building"
    # shellcheck disable=SC2086
    if ! $CC -std=c11 -g -O1 -D_GNU_SOURCE -DSM_NO_BLAS -fsanitize=fuzzer,address,undefined \
            -fno-sanitize-recover=undefined -Iengine/include -Iengine/core -Iengine/kernels -Imodels -Iapp \
            -Itools -Iviewer "$h" $files $libs -lm -pthread -o "$out/$name" 2>&1; then
        echo "FAILED to build $name"
    else
        work="$out/corpus-$name"
        mkdir -p "$work"
        [ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null
        # extra seeds from outside the repo (the user's real files), when present
        seeds=$(sed -n 's/.*SEEDS: *//p' "$h" | head -n 1)
        # shellcheck disable=SC2086
        [ -n "$seeds" ] && for s in $seeds; do [ -f "$s" ] && cp -n "$s" "$work"/; done
        echo "== $name: fuzzing for ${secs}s"
        if ! "$out/$name" -seed="${FUZZ_SEED:-0}" -max_total_time="$secs" -max_len=1048576 -rss_limit_mb=2048 -timeout=10 \
                -print_final_stats=1 -artifact_prefix="$out/$name-" "$work" >"$out/$name.log" 2>&1; then
            echo "FAILED: $name found a problem; see $out/$name.log and the artifact under $out/"
            tail -n 40 "$out/$name.log"
        else
            grep -E 'stat::number_of_executed_units|cov:' "$out/$name.log" | tail -n 2
            echo ok >"$out/$name.status"
        fi
    fi
    } >"$report" 2>&1
    print_locked "$out/print.lock" cat "$report"
}

if [ "${FUZZ_ONE:-}" ]; then
    fuzz_one "$FUZZ_ONE"
    exit 0
fi

# One harness per CPU at a time (FUZZ_JOBS): each libFuzzer run is one thread.
jobs=$(parallel_jobs FUZZ_JOBS "${FUZZ_JOBS:-}") || exit 2
harnesses=""
for h in tests/fuzz/fuzz_*.c; do
    name=$(basename "$h" .c)
    case "$name" in *"$filter"*) ;; *) continue ;; esac
    harnesses="$harnesses $h"
    rm -f "$out/$name.status"
done
# shellcheck disable=SC2086
printf '%s\n' $harnesses | xargs -r -P "$jobs" -I{} env FUZZ_ONE={} sh "$0" "$secs"
status=0
for h in $harnesses; do
    name=$(basename "$h" .c)
    [ "$(cat "$out/$name.status" 2>/dev/null)" = ok ] || { echo "fuzz: $name did not pass"; status=1; }
done
[ $status -eq 0 ] && echo "fuzz: all harnesses clean"
exit $status
