#!/bin/sh
# run.sh BUILD_DIR SECONDS - runs every libFuzzer target of a fuzz build.
#
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DZG_FUZZ=ON \
#         -DZG_BUILD_TESTS=OFF -DZG_BUILD_BENCH=OFF
#   cmake --build build-fuzz
#   tests/fuzz/run.sh build-fuzz 60
#
# Each BUILD_DIR/tests/fuzz/fuzz_NAME runs for SECONDS over a fresh corpus,
# .fuzz/fuzz_NAME/corpus at the top of the source tree, seeded from
# tests/fuzz/seeds/NAME/ (and, for fuzz_policy, every tests/policy/*/*.policy;
# for fuzz_audit, the audit's test corpus tests/audit/*.c, *.cpp, *.py;
# for fuzz_advisory, the real data/libzmq-advisories.ini),
# with tests/fuzz/NAME.dict when there is one. SECONDS=0 runs the seeds once.
# Crash inputs go to .fuzz/fuzz_NAME/artifacts/ (kept between runs),
# libFuzzer's output to .fuzz/fuzz_NAME/log. Exits 1 if any target fails,
# 2 on a usage error.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1 seconds=$2
case $seconds in
'' | *[!0-9]*)
    echo "$0: SECONDS must be a whole number, not '$seconds'" >&2
    exit 2
    ;;
esac

here=$(cd "$(dirname "$0")" && pwd) || exit 2
root=$(cd "$here/../.." && pwd) || exit 2
targets=$(cd "$build/tests/fuzz" 2>/dev/null && pwd) || {
    echo "$0: no $build/tests/fuzz: configure with -DZG_FUZZ=ON and build" >&2
    exit 2
}

found=0 failed=0
for exe in "$targets"/fuzz_*; do
    [ -f "$exe" ] && [ -x "$exe" ] || continue
    found=$((found + 1))
    name=$(basename "$exe")
    short=${name#fuzz_}
    work=$root/.fuzz/$name
    corpus=$work/corpus
    rm -rf "$corpus"
    mkdir -p "$corpus" "$work/artifacts" || exit 2

    # seeds, each copied under a name of its own directory
    if [ -d "$here/seeds/$short" ]; then
        for f in "$here/seeds/$short"/*; do
            [ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$f")"
        done
    fi
    if [ "$short" = policy ]; then
        for f in "$root"/tests/policy/*/*.policy; do
            [ -f "$f" ] || continue
            kind=$(basename "$(dirname "$f")")
            cp "$f" "$corpus/$kind-$(basename "$f")"
        done
    fi
    if [ "$short" = advisory ]; then
        cp "$root/data/libzmq-advisories.ini" "$corpus/data-libzmq-advisories.ini"
    fi
    if [ "$short" = audit ]; then
        for f in "$root"/tests/audit/*.c "$root"/tests/audit/*.cpp \
            "$root"/tests/audit/*.py; do
            [ -f "$f" ] && cp "$f" "$corpus/corpus-$(basename "$f")"
        done
    fi
    nseeds=$(ls "$corpus" | wc -l)

    # the real advisory database is over 8 KiB: room for it whole
    maxlen=8192
    [ "$short" = advisory ] && maxlen=32768
    set -- "-max_len=$maxlen" -timeout=10 -print_final_stats=1 \
        "-artifact_prefix=$work/artifacts/"
    if [ "$seconds" -eq 0 ]; then
        set -- "$@" -runs=0
    else
        set -- "$@" "-max_total_time=$seconds"
    fi
    [ -f "$here/$short.dict" ] && set -- "$@" "-dict=$here/$short.dict"

    echo "$name: $seconds s over $nseeds seeds (log: $work/log)"
    : >"$work/started"
    "$exe" "$@" "$corpus" >"$work/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    units=$(ls "$corpus" | wc -l)
    if [ "$rc" -eq 0 ]; then
        echo "$name: ok, ${execs:-?} runs, corpus of $units inputs"
    else
        echo "$name: FAILED (exit $rc) after ${execs:-?} runs; the end of its log:"
        tail -n 40 "$work/log" | sed 's/^/    /'
        # this run's inputs only: older ones stay for reference
        find "$work/artifacts" -type f -newer "$work/started" |
            sed 's/^/    input: /'
        failed=$((failed + 1))
    fi
done

if [ "$found" -eq 0 ]; then
    echo "$0: no fuzz_* executable in $targets" >&2
    exit 2
fi
echo "$found target(s), $failed failed"
[ "$failed" -eq 0 ]
