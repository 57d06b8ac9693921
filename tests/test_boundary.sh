#!/bin/sh
# test_boundary.sh SOURCE_DIR LIBZGUARD_SO - the library's edges hold:
#   - tools/ and bench/ reach the library's internals only through
#     src/zguard_tools.h (no other src/ header);
#   - libzguard.so exports exactly what include/zguard.h declares;
#   - every function zguard.h declares is called by a test, a tool, a
#     benchmark or an example (an API nobody calls is an API nobody tried).
# shellcheck source=tests/cli_lib.sh
. "$(dirname "$0")/cli_lib.sh"
src=$1
so=$2
header="$src/include/zguard.h"

# 1. includes of src/ headers outside src/
for h in "$src"/src/*.h; do
    name=$(basename "$h")
    [ "$name" = zguard_tools.h ] && continue
    grep -rln --include='*.c' --include='*.h' "#include \"$name\"" \
        "$src/tools" "$src/bench" >"$tmp/inc" 2>/dev/null
    if [ -s "$tmp/inc" ]; then
        fail "src/$name included outside src/ (use zguard_tools.h): $(tr '\n' ' ' <"$tmp/inc")"
    fi
done

# 2. exported symbols
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort -u >"$tmp/exported"
[ -s "$tmp/exported" ] || fail "nm found no symbols in $so"
while read -r sym; do
    grep -qw -- "$sym" "$header" || fail "$so exports $sym, which zguard.h does not declare"
done <"$tmp/exported"
sed -n 's/^ZG_EXPORT[^(]*[ *]\([a-z_0-9]*\)(.*/\1/p' "$header" | sort -u >"$tmp/declared"
[ -s "$tmp/declared" ] || fail "no ZG_EXPORT functions found in $header"
while read -r fn; do
    grep -qx -- "$fn" "$tmp/exported" || fail "zguard.h declares $fn, which $so does not export"
done <"$tmp/declared"

# 3. every public function called somewhere outside src/
while read -r fn; do
    grep -rqw --include='*.c' --include='*.py' -- "$fn" \
        "$src/tests" "$src/tools" "$src/bench" "$src/examples" ||
        fail "no test, tool, benchmark or example calls $fn"
done <"$tmp/declared"

echo "$(wc -l <"$tmp/exported") symbols exported, $(wc -l <"$tmp/declared") functions declared"
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "boundary: ok"
