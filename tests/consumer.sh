#!/bin/sh
# consumer.sh CC DIR [PREFIX] - builds a small program against an installed
# libzguard three ways and runs each: through `pkg-config --cflags --libs
# zguard`, and through CMake's find_package(zguard) shared and static. DIR
# (new or empty) keeps the programs (DIR/by-pkgconfig, DIR/build/app...).
# Without PREFIX, the system's libzguard (a package, /usr/local); with it,
# the one `cmake --install --prefix PREFIX` put there.
# Used by tests/test_install.sh and scripts/test-deb.
set -eu
cc=$1 dir=$2 prefix=${3:-}
if [ -n "$prefix" ]; then
    libdir=$(dirname "$(find "$prefix" -name zguard.pc)")/..
    export PKG_CONFIG_PATH="$libdir/pkgconfig" LD_LIBRARY_PATH="$libdir"
    export CMAKE_PREFIX_PATH="$prefix"
fi
mkdir -p "$dir"
cat >"$dir/app.c" <<'C'
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
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror -o "$dir/by-pkgconfig" "$dir/app.c" \
    $(pkg-config --cflags --libs zguard)
"$dir/by-pkgconfig" | grep -q " ok$" || { echo "the pkg-config consumer failed"; exit 1; }

cat >"$dir/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(app C)
find_package(zguard 0.1 REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE zguard::zguard)
add_executable(app_static app.c)
target_link_libraries(app_static PRIVATE zguard::zguard_static)
CM
cmake -S "$dir" -B "$dir/build" -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$dir/build" >/dev/null
for app in app app_static; do
    "$dir/build/$app" | grep -q " ok$" || { echo "the find_package consumer $app failed"; exit 1; }
done
