# Sourced by the runners that start several jobs at once (tests/run-tests.sh with
# tests/run-suite.sh, tests/fuzz/run.sh); POSIX sh.

# parallel_jobs <VAR> <value>: prints how many jobs to run at once: <value> (the
# user's <VAR>) or, when empty, one per CPU; 1 without flock, which keeps the
# reports whole. Fails with a message naming <VAR> when <value> is not a whole
# number >= 1.
parallel_jobs() {
    j=${2:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}
    case "$j" in ''|*[!0-9]*|0) echo "$1=$j: expected a whole number >= 1" >&2; return 2 ;; esac
    command -v flock >/dev/null 2>&1 || j=1
    echo "$j"
}

# print_locked <lockfile> <command...>: runs the command (which prints one job's
# report) holding <lockfile>, so that two jobs ending together never interleave.
print_locked() {
    lock=$1
    shift
    if command -v flock >/dev/null 2>&1; then
        flock "$lock" "$@"
    else
        "$@"
    fi
}
