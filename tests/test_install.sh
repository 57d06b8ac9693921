#!/bin/sh
# test_install.sh BUILD_DIR CC - installs zguard into a temporary prefix and
# builds a consumer against it with pkg-config and with CMake's find_package
# (tests/consumer.sh). Proves the install rules, zguard.pc and zguardConfig.cmake.
set -eu
build=$1 cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in include/zguard.h bin/zguard; do
    [ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
libdir=$(dirname "$(find "$prefix" -name zguard.pc)")/..
[ -e "$libdir/libzguard.a" ] && [ -e "$libdir/libzguard.so" ] ||
    { echo "libraries not installed"; exit 1; }
# zguard run's preload: loaded by path, kept out of ld.so's directories
[ -e "$libdir/zguard/libzguard-preload.so" ] && [ ! -e "$libdir/libzguard-preload.so" ] ||
    { echo "libzguard-preload.so not in LIBDIR/zguard/"; exit 1; }

# The man pages, when this build has them (scdoc found): each rendered page
# installed in its section's directory of GNUInstallDirs' mandir.
if [ -e "$build/man/zguard.1" ]; then
    n=0
    for page in "$build"/man/*.[0-9]; do
        name=$(basename "$page")
        [ -e "$prefix/share/man/man${name##*.}/$name" ] ||
            { echo "man page not installed: man${name##*.}/$name"; exit 1; }
        n=$((n + 1))
    done
    for f in man1/zguard.1 man1/zguard-gate.1 man3/libzguard.3 man5/zguard.policy.5; do
        [ -e "$prefix/share/man/$f" ] || { echo "not installed: share/man/$f"; exit 1; }
    done
    echo "install: $n man pages"
else
    echo "install: no man pages in this build (no scdoc): not checked"
fi

"$(dirname "$0")/consumer.sh" "$cc" "$tmp/app" "$prefix"
echo "install: pkg-config and find_package consumers built and ran"
