#!/bin/sh
# test_install.sh BUILD_DIR CC - installs zguard into a temporary prefix and
# builds a consumer against it twice: with pkg-config and with CMake's
# find_package. Proves the install rules, zguard.pc and zguardConfig.cmake.
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

mkdir "$tmp/app"
cat >"$tmp/app/app.c" <<'C'
#include <zguard.h>
#include <stdio.h>
int main(void)
{
    zg_ctx_t *ctx = zg_ctx_new(NULL);
    void *s = zg_socket(ctx, ZMQ_PULL, NULL);
    int ok = s && zg_bind(s, "inproc://app") == 0;
    zg_close(&s);
    zg_ctx_destroy(&ctx);
    printf("%s %s\n", zg_version_string(), ok ? "ok" : "failed");
    return !ok;
}
C
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror -o "$tmp/app/by-pkgconfig" "$tmp/app/app.c" \
    $(pkg-config --cflags --libs zguard)
LD_LIBRARY_PATH="$libdir" "$tmp/app/by-pkgconfig" | grep -q " ok$"

cat >"$tmp/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(app C)
find_package(zguard 0.1 REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE zguard::zguard)
add_executable(app_static app.c)
target_link_libraries(app_static PRIVATE zguard::zguard_static)
CM
cmake -S "$tmp/app" -B "$tmp/app/build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$tmp/app/build" >/dev/null
"$tmp/app/build/app" | grep -q " ok$"
"$tmp/app/build/app_static" | grep -q " ok$"
echo "install: pkg-config and find_package consumers built and ran"
