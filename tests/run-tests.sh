#!/bin/sh
# Runs the fixture generators (tests/gen/gen_*.py with Debian's torch/sklearn,
# tests/gen/gen_*.sh with sh; each gets the fixture folder as its argument) into
# $B/fixtures, then every Check suite in $B/tests, and prints one summary line:
#   tests: P passed, F failed, S skipped
# P and F are Check's counts; S counts the "skipped: <test>: <why>" lines that the
# suites (sm_test_skip) and generators print: tests or cases that did not run.
# Check counts a test that skipped as passed, so a skip is in P too.
# Environment for the suites:
#   SM_FIXTURES  generated fixtures;  SM_BIN  the built programs
#   SM_SHARED    ../shared when present (tests using the user's real files skip otherwise)
#   SM_TEST_FILTER  run only suites whose name contains this
#   SM_TEST_RUNNER  a command prefix for the suites and programs (qemu for cross builds)
#   SM_SUITE_TIMEOUT  seconds after which one suite is stopped and counted as failed
#   SM_TEST_JOBS  suites run at once (default: the number of CPUs; 1 = one by one)
#   SM_REQUIRE_ALL=1  (set by .ci/run, not by `make test`) every skip must be allowed by
#                tests/skips-allowed for this run's tags, else the run fails: CI has
#                every tool and file a test needs, so a skip there means a test that
#                should have run did not.
#   SM_SKIP_TAGS  extra tags for the allow-list (space-separated); the runner adds
#                `all`, `qemu` (SM_TEST_RUNNER set), `noblas`/`asan` (from $B),
#                `scalar` (SM_ISA=scalar).
set -u
B=${B:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
root=$(pwd)
export SM_FIXTURES="$root/$B/fixtures"
export SM_BIN="$root/$B"
export SM_REPO="$root"
export SM_PYTHON="$PYTHON"
if [ -n "${SM_SHARED:-}" ] && [ -d "$SM_SHARED/seed" ]; then
    export SM_SHARED
elif [ -d "$root/../shared/seed" ]; then
    export SM_SHARED="$(cd "$root/../shared" && pwd)"
else
    export SM_SHARED=""
    echo "note: ../shared is absent: tests on the user's real checkpoints will print 'skipped'"
fi
mkdir -p "$SM_FIXTURES"
# the user's own smartmirror settings never change what the suites see
export XDG_CONFIG_HOME="$root/$B/test-config"
mkdir -p "$XDG_CONFIG_HOME"

tags="all ${SM_SKIP_TAGS:-}"
[ -n "${SM_TEST_RUNNER:-}" ] && tags="$tags qemu"
case "$B" in *noblas*) tags="$tags noblas" ;; esac
case "$B" in *asan*) tags="$tags asan" ;; esac
[ "${SM_ISA:-}" = scalar ] && tags="$tags scalar"
# Generators and suites keep their temporaries below one folder, removed at the end
# even when a suite was stopped before it could clean up (sm_test_main removes each
# suite's own folder when it ends normally).
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/smtests.XXXXXX")
trap 'rm -rf "$run_tmp"' EXIT
export TMPDIR="$run_tmp"
skips=$(mktemp)
# note_skips <who> <output>: appends "<who>: <test>: <why>" for each skip line
note_skips() {
    printf '%s\n' "$2" | sed -n "s/^skipped: /$1: /p" >>"$skips"
}

gen_fail=0
for g in tests/gen/gen_*.py tests/gen/gen_*.sh; do
    [ -e "$g" ] || continue
    case "$(basename "$g")" in *"${SM_TEST_FILTER:-}"*) ;; *) continue ;; esac
    echo "== generating fixtures: $g"
    case "$g" in *.py) run="$PYTHON" ;; *) run=sh ;; esac
    out=$("$run" "$g" "$SM_FIXTURES" 2>&1); rc=$?
    [ -n "$out" ] && printf '%s\n' "$out"
    note_skips "$(basename "$g")" "$out"
    if [ $rc -ne 0 ]; then
        echo "FAILED: fixture generator $g"
        gen_fail=$((gen_fail + 1))
    fi
done

# The suites run SM_TEST_JOBS at a time (default: one per CPU; each suite is
# mostly one thread, and under qemu-user entirely so), the longest first so that
# none of them is left running alone at the end. Each suite's output is printed
# whole when it finishes (tests/run-suite.sh); the counts below are read in name
# order, the same whatever order the suites finished in.
. "$root/tests/parallel.sh"
jobs=$(parallel_jobs SM_TEST_JOBS "${SM_TEST_JOBS:-}") || exit 2
longest_first="test_emotion test_bf16 test_heart test_face test_ultralight test_tfjs test_viewer_session test_pos test_pipeline"
suites=""
for t in $(for s in $longest_first; do echo "$B/tests/$s"; done) "$B"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    case "$name" in *"${SM_TEST_FILTER:-}"*) ;; *) continue ;; esac
    case " $suites " in *" $t "*) continue ;; esac
    suites="$suites $t"
done
results=$(mktemp -d)   # below $run_tmp: removed with it
[ "$jobs" -gt 1 ] && echo "== running the suites $jobs at a time (SM_TEST_JOBS)"
# shellcheck disable=SC2086
printf '%s\n' $suites | xargs -r -P "$jobs" -n 1 sh "$root/tests/run-suite.sh" "$results"

total=0; failed=0; suites_failed=""
for t in $(printf '%s\n' $suites | sort); do
    name=$(basename "$t")
    out=$(cat "$results/$name.out" 2>/dev/null)
    rc=$(cat "$results/$name.rc" 2>/dev/null || echo 1)
    note_skips "$name" "$out"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
    if [ -n "$line" ]; then
        n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
        f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
        e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
        total=$((total + n)); failed=$((failed + f + e))
    fi
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        suites_failed="$suites_failed $name"
        [ -z "$line" ] && failed=$((failed + 1))
    fi
done

# Static checks of the source tree (no build needed), one test each.
for c in tests/include-graph.sh tests/unused-functions.sh; do
    name=$(basename "$c" .sh)
    case "$name" in *"${SM_TEST_FILTER:-}"*) ;; *) continue ;; esac
    echo "== $name"
    total=$((total + 1))
    if ! sh "$c"; then
        failed=$((failed + 1)); suites_failed="$suites_failed $name"
    fi
done

# The allow-list: "<tags> <glob>" per line (# comments); a skip line
# "<suite or generator>: <test>: <why>" is allowed when the glob matches it and
# one of the comma-separated tags is among this run's tags.
allowed() {
    while read -r ltags pat; do
        case "$ltags" in ''|'#'*) continue ;; esac
        for lt in $(echo "$ltags" | tr ',' ' '); do
            case " $tags " in *" $lt "*) ;; *) continue ;; esac
            # shellcheck disable=SC2254
            case "$1" in $pat) return 0 ;; esac
        done
    done <"$root/tests/skips-allowed"
    return 1
}
nskip=$(wc -l <"$skips" | tr -d ' ')
unexpected=0
if [ "${SM_REQUIRE_ALL:-0}" = 1 ] && [ "$nskip" -gt 0 ]; then
    while IFS= read -r s; do
        allowed "$s" && continue
        [ $unexpected -eq 0 ] && echo "skipped where every test must run (SM_REQUIRE_ALL=1; tags:$tags; allow-list: tests/skips-allowed):"
        echo "  $s"
        unexpected=$((unexpected + 1))
    done <"$skips"
fi
passed=$((total - failed))
[ $passed -lt 0 ] && passed=0
[ -n "$suites_failed" ] && echo "failed suites:$suites_failed"
[ $gen_fail -gt 0 ] && echo "failed fixture generators: $gen_fail"
echo "tests: $passed passed, $((failed + gen_fail + unexpected)) failed, $nskip skipped"
[ -z "$suites_failed" ] && [ $gen_fail -eq 0 ] && [ $unexpected -eq 0 ] && [ $total -gt 0 ]
