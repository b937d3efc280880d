#!/bin/sh
# Checks what `make test` / `make run` need and installs what is missing with
# apt-get when running as root; otherwise prints the exact command to run.
#   sh tests/deps.sh test|run|arm64
set -u
what=${1:-test}
missing=""

command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
if [ "$what" = arm64 ]; then
    # Cross build for aarch64 and its tests under qemu-user (docs/PORTING.md).
    command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing="$missing gcc-aarch64-linux-gnu"
    # the target's C headers: a Recommends of the cross gcc, so not there without recommends
    [ -e /usr/aarch64-linux-gnu/include/stdint.h ] || missing="$missing libc6-dev-arm64-cross"
    command -v qemu-aarch64 >/dev/null 2>&1 || missing="$missing qemu-user"
    [ -e /usr/lib/aarch64-linux-gnu/libcheck.a ] || missing="$missing check:arm64"
    if [ -n "$missing" ] && [ "$(id -u)" = 0 ]; then
        dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
    fi
    what=arm64-only
fi
command -v cc >/dev/null 2>&1 || missing="$missing build-essential"
mods="openblas:libopenblas-dev sdl2:libsdl2-dev libturbojpeg:libturbojpeg0-dev"
[ "$what" = test ] && mods="check:check $mods"
[ "$what" = arm64-only ] && mods=""
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
