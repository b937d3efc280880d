#!/bin/sh
# Checks what `make test` / `make run` need and installs what is missing with
# apt-get when running as root; otherwise prints the exact command to run.
#   sh tests/deps.sh test|run
set -u
what=${1:-test}
missing=""

command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
command -v cc >/dev/null 2>&1 || missing="$missing build-essential"
mods="openblas:libopenblas-dev sdl2:libsdl2-dev libturbojpeg:libturbojpeg0-dev"
[ "$what" = test ] && mods="check:check $mods"
for m in $mods; do
    mod=${m%%:*}; pkg=${m#*:}
    pkg-config --exists "$mod" 2>/dev/null || missing="$missing $pkg"
done
if [ "$what" = test ]; then
    for m in torch:python3-torch sklearn:python3-sklearn numpy:python3-numpy skimage:python3-skimage; do
        mod=${m%%:*}; pkg=${m#*:}
        /usr/bin/python3 -c "import $mod" >/dev/null 2>&1 || missing="$missing $pkg"
    done
fi
[ -z "$missing" ] && exit 0

echo "smartmirror: missing packages:$missing"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "smartmirror: installing them with apt-get (running as root)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || { echo "apt-get update failed" >&2; exit 1; }
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing || {
        echo "apt-get install failed; run: apt-get install -y$missing" >&2; exit 1; }
    exit 0
fi
echo "smartmirror: run this, then try again:" >&2
echo "    sudo apt-get install -y$missing" >&2
exit 1
