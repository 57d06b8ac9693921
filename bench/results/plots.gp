# plots.gp - the PNGs of bench/results from the .dat files render.py
# writes (run by update.sh, in this directory): gnuplot -e "dir='DIR'" plots.gp
if (!exists("dir")) dir = "."
set terminal pngcairo size 760,460 font "sans,10"
set grid
set key top left

set output dir."/throughput.png"
set title "PUSH -> PULL over tcp loopback: throughput by message size (medians)"
set logscale x 2
set logscale y 10
set xlabel "message size (bytes)"
set ylabel "MB/s (10^6 bytes)"
set xrange [48:90000]
set xtics ("64 B" 64, "1 KiB" 1024, "64 KiB" 65536)
plot dir."/throughput.dat" index 0 using 1:2 with linespoints lw 2 lc 1 title "raw libzmq, NULL", \
     ''                    index 0 using 1:3 with linespoints lw 2 lc 2 title "zguard, NULL", \
     ''                    index 0 using 1:4 with linespoints lw 2 lc 3 title "CZMQ, NULL", \
     ''                    index 1 using 1:2 with linespoints lw 2 lc 1 dt 2 title "raw libzmq, CURVE", \
     ''                    index 1 using 1:3 with linespoints lw 2 lc 2 dt 2 title "zguard, CURVE", \
     ''                    index 1 using 1:4 with linespoints lw 2 lc 3 dt 2 title "CZMQ, CURVE"

set output dir."/handshake.png"
set title "CURVE handshakes per second by allowlist size (medians)"
set xlabel "keys in the allowlist"
set ylabel "handshakes/s"
set logscale x 10
set logscale y 10
set xrange [0.7:14000]
set xtics ("1" 1, "1,000" 1000, "10,000" 10000)
set key bottom left
plot dir."/handshake.dat" using 1:2 with lines lw 2 dt 2 lc 0 title "no ZAP handler", \
     ''                   using 1:3 with linespoints lw 2 lc 2 title "zguard authenticator", \
     ''                   using 1:4 with linespoints lw 2 lc 3 title "CZMQ zauth"

set output dir."/latency.png"
set title "REQ -> REP round trips over tcp loopback, NULL: p50, p99 (medians of rounds), max (of all)"
unset logscale x
set autoscale x
set logscale y 10
set xlabel ""
set ylabel "microseconds"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -20 nomirror
set key top left
plot dir."/latency.dat" using 2:xtic(1) title "p50", '' using 3 title "p99", '' using 4 title "max"
