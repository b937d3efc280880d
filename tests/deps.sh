#!/bin/sh
# Checks what `make test` / `make run` need and installs what is missing with
# apt-get when running as root; otherwise prints the exact command to run.
#   sh tests/deps.sh test|run|arm64|riscv64
# riscv64 also builds the Check library for the target (Debian 12 has no riscv64
# architecture, so no check:riscv64): see cross_check below and docs/PORTING.md.
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
    what=cross-only
elif [ "$what" = riscv64 ]; then
    # Cross build for riscv64 and its tests under qemu-user (docs/PORTING.md section 4).
    command -v riscv64-linux-gnu-gcc >/dev/null 2>&1 || missing="$missing gcc-riscv64-linux-gnu"
    [ -e /usr/riscv64-linux-gnu/include/stdint.h ] || missing="$missing libc6-dev-riscv64-cross"
    command -v qemu-riscv64 >/dev/null 2>&1 || missing="$missing qemu-user"
    command -v make >/dev/null 2>&1 || missing="$missing make"
    what=cross-only
    cross_check=riscv64-linux-gnu
fi
command -v cc >/dev/null 2>&1 || missing="$missing build-essential"
mods="openblas:libopenblas-dev sdl2:libsdl2-dev libturbojpeg:libturbojpeg0-dev"
[ "$what" = test ] && mods="check:check $mods"
[ "$what" = cross-only ] && mods=""
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

# Check for a target whose architecture the Debian release lacks (riscv64 on
# Debian 12): Debian's own source package of Check, cross-compiled as a static
# library into build/cross/<triplet>/ (lib/libcheck.a, include/check.h,
# lib/pkgconfig/check.pc). The source comes through apt (a deb-src entry in its own
# file under /etc/apt/sources.list.d/, read alone, so debian.sources and the other
# lists are untouched), so it needs no network beyond the Debian archive.
cross_check() {
    t=$1
    dest=$(pwd)/build/cross/$t
    [ -e "$dest/lib/libcheck.a" ] && [ -e "$dest/lib/pkgconfig/check.pc" ] && return 0
    src=$(pwd)/build/cross/src
    mkdir -p "$src"
    if ! ls "$src"/check_*.orig.tar.gz >/dev/null 2>&1; then
        if ! (cd "$src" && apt-get source --download-only check >/dev/null 2>&1); then
            if [ "$(id -u)" != 0 ]; then
                echo "smartmirror: the Check source package is needed for $t; run as root:" >&2
                echo "    sudo sh tests/deps.sh riscv64" >&2
                return 1
            fi
            list=/etc/apt/sources.list.d/smartmirror-deb-src.sources
            codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
            printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
                "$codename" >"$list"
            # update only this list (the others keep their cached indexes)
            apt-get update -q -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- \
                -o APT::Get::List-Cleanup=0 >/dev/null || { echo "apt-get update (deb-src) failed" >&2; return 1; }
            (cd "$src" && apt-get source --download-only check >/dev/null 2>&1) || {
                echo "apt-get source check failed" >&2; return 1; }
        fi
    fi
    orig=$(ls "$src"/check_*.orig.tar.gz | tail -n 1)
    echo "smartmirror: building Check ($(basename "$orig")) for $t into build/cross/$t"
    work=$(pwd)/build/cross/$t-build
    rm -rf "$work" && mkdir -p "$work" && tar -xzf "$orig" -C "$work" --strip-components=1 || return 1
    # static only (nothing to install on the target), no subunit, no docs
    # (the cache answers are glibc's: configure cannot run its probes for another CPU
    # and would otherwise swap in its own malloc/snprintf replacements)
    log=$work/../$t-check-build.log
    (cd "$work" && ./configure -q --host="$t" --prefix="$dest" --disable-shared --enable-static \
        --disable-subunit --disable-timeout-tests --disable-build-docs \
        ac_cv_func_malloc_0_nonnull=yes ac_cv_func_realloc_0_nonnull=yes \
        hw_cv_func_snprintf_c99=yes hw_cv_func_vsnprintf_c99=yes &&
        make -j2 -C lib && make -j2 -C src &&
        make -C src install && make install-pcdataDATA install-includeHEADERS) >"$log" 2>&1 || {
        echo "smartmirror: building Check for $t failed (see build/cross/$t-check-build.log)" >&2; return 1; }
    rm -rf "$work"
}

if [ -n "$missing" ]; then
    echo "smartmirror: missing packages:$missing"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "smartmirror: installing them with apt-get (running as root)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >/dev/null || { echo "apt-get update failed" >&2; exit 1; }
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $missing || {
            echo "apt-get install failed; run: apt-get install -y$missing" >&2; exit 1; }
    else
        echo "smartmirror: run this, then try again:" >&2
        echo "    sudo apt-get install -y$missing" >&2
        exit 1
    fi
fi
[ -n "${cross_check:-}" ] && { cross_check "$cross_check" || exit 1; }
exit 0
