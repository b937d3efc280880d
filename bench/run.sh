#!/bin/sh
# make bench: kernel benchmarks (smw-bench kernels). BENCH_ARGS go to smw-bench,
# e.g. make bench BENCH_ARGS="kernels --threads 2 --json".
set -eu
B=${B:-build}
if [ $# -eq 0 ]; then
    exec "$B/smw-bench" kernels --threads 1
fi
exec "$B/smw-bench" "$@"
