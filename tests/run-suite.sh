#!/bin/sh
# Runs one Check suite for tests/run-tests.sh, which starts up to SM_TEST_JOBS of
# these at once:   sh tests/run-suite.sh <results-dir> <suite-binary>
# Writes <results-dir>/<name>.out (everything the suite printed) and .rc (its exit
# status), then prints the output with the suite's wall time while holding
# <results-dir>/print.lock, so that two suites finishing together never interleave.
# SM_TEST_RUNNER (e.g. qemu-aarch64 -L /) runs foreign binaries; SM_SUITE_TIMEOUT
# stops a suite after that many seconds (counted as failed).
set -u
. "$(dirname "$0")/parallel.sh"
res=$1
t=$2
name=$(basename "$t")
out="$res/$name.out"
t0=$(date +%s)
if [ -n "${SM_SUITE_TIMEOUT:-}" ]; then
    # shellcheck disable=SC2086
    timeout "$SM_SUITE_TIMEOUT" ${SM_TEST_RUNNER:-} "$t" >"$out" 2>&1; rc=$?
    [ $rc -eq 124 ] && echo "$name: TIMED OUT after ${SM_SUITE_TIMEOUT}s" >>"$out"
else
    # shellcheck disable=SC2086
    ${SM_TEST_RUNNER:-} "$t" >"$out" 2>&1; rc=$?
fi
echo "$rc" >"$res/$name.rc"
print_locked "$res/print.lock" sh -c 'echo "== $1"; cat "$2"; echo "($1: $3s)"' sh \
    "$name" "$out" "$(( $(date +%s) - t0 ))"
exit 0
