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

"$(dirname "$0")/consumer.sh" "$cc" "$tmp/app" "$prefix"
echo "install: pkg-config and find_package consumers built and ran"
