#!/bin/sh
# Dead code: fails on a function that a library file defines with external
# linkage and that nothing uses: its name appears in no other source file of the
# tree (libraries, programs, tests, fuzzers, benchmarks) and nowhere else in its
# own file: such a function should go (or, if public engine API kept on purpose,
# be listed with why in tests/unused-functions-allowed).
# Definitions are found as the compiler's style writes them: the return type
# and name at column 0, not static, the line not ending in ';'.
#   sh tests/unused-functions.sh        (from the repository root)
set -u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smunused.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
find engine models app tools viewer -type f -name '*.c' | sort >"$tmp/libs"
find engine models app tools viewer tests bench -type f \( -name '*.c' -o -name '*.h' -o -name '*.inc' \) \
    | sort >"$tmp/all"

# "name file" for every externally visible function definition
while read -r f; do
    awk -v f="$f" '
    /^[A-Za-z_]/ && !/^static/ && !/^(typedef|struct|enum|union|extern|#)/ && !/;[ \t]*$/ {
        if (match($0, /[A-Za-z_][A-Za-z0-9_]*\(/)) {
            name = substr($0, RSTART, RLENGTH - 1)
            if (name != "main" && name != "LLVMFuzzerTestOneInput") print name, f
        }
    }' "$f"
done <"$tmp/libs" >"$tmp/defs"

allowed=tests/unused-functions-allowed
fail=0
n=0
while read -r name f; do
    n=$((n + 1))
    grep -qx "$name" "$allowed" 2>/dev/null && continue
    # used in its own file besides the definition?
    [ "$(grep -cw -- "$name" "$f")" -ge 2 ] && continue
    # used (or declared for a user) in any other file that is not its own header?
    h=${f%.c}.h
    if grep -lw -- "$name" $(cat "$tmp/all") 2>/dev/null | grep -v -x -e "$f" -e "$h" | grep -q .; then
        continue
    fi
    echo "unused-functions: $f: $name is defined but nothing calls it (delete it, or make it static)"
    fail=1
done <"$tmp/defs"
# an allow-list entry for a function that no longer exists is stale
while read -r name; do
    case "$name" in ''|'#'*) continue ;; esac
    grep -q "^$name " "$tmp/defs" || { echo "unused-functions: $allowed: '$name' is not defined any more"; fail=1; }
done <"$allowed"
[ $fail -eq 0 ] && echo "unused-functions: $n external functions, each called somewhere"
exit $fail
