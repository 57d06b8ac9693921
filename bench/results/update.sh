#!/bin/sh
# update.sh [BUILD] - runs the benchmarks and rewrites bench/results: the
# JSON of each run, README.md (tables and verdicts), and the PNG plots
# (gnuplot). A full run takes about 6 minutes; run it on an otherwise idle
# machine and commit the result with the machine's description.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
zguard=$build/zguard
[ -x "$zguard" ] || { echo "update.sh: no $zguard (make first)"; exit 2; }
command -v gnuplot >/dev/null || { echo "update.sh: needs gnuplot (apt-get install gnuplot-nox)"; exit 2; }
{
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(free -m | awk '/Mem:/ {print $2}') MiB"
    echo "Linux $(uname -r), Debian $(cat /etc/debian_version)"
    echo "run $(date -u +%Y-%m-%dT%H:%MZ)"
} >"$here/machine.txt"
"$zguard" bench --json >"$here/zguard-bench.json"
"$zguard" bench gate >"$here/gate.txt"
"$zguard" bench hwm --json >"$here/hwm.json"
${PYTHON:-python3} "$here/render.py" "$here"
gnuplot -e "dir='$here'" "$here/plots.gp"
echo "bench/results updated: $(ls "$here")"
