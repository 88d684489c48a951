# vmprof plot: gnuplot script with its data inline
set terminal pngcairo size 1200,1000 font ',10'
set termoption noenhanced
set output 'two.png'
$s0 << EOD
0.000 0 0 NaN NaN NaN
0.050 1000 0 20000.0 0.0 100.00
0.100 4000 1 60000.0 20.0 90.00
0.150 4010 1 200.0 0.0 50.00
EOD
$s1 << EOD
0.000 0 0 NaN NaN NaN
0.050 200 2 4000.0 40.0 20.00
0.100 300 12 2000.0 200.0 10.00
0.150 300 17 0.0 100.0 5.00
0.200 300 17 0.0 0.0 2.00
EOD
$s2 << EOD
0.000 0 0 NaN NaN NaN
0.050 1200 2 24000.0 40.0 120.00
0.100 4300 13 62000.0 220.0 100.00
0.150 4310 18 200.0 100.0 55.00
0.200 4310 18 0.0 0.0 2.00
EOD
set multiplot layout 3,1 title 'two processes'
set grid
set xlabel 'time (s)'
set lmargin 12
set rmargin 58
set ylabel 'minor faults (cumulative)'
set y2label 'major faults (cumulative)'
set y2tics
set ytics nomirror
set key at screen 0.995, screen 0.955 right top
plot $s0 using 1:2 with lines lw 2 lc 1 title '100 sort -t, -k2 "big file"_1 minor', \
     $s0 using 1:3 axes x1y2 with lines lw 2 dt 2 lc 1 title '100 sort -t, -k2 "big file"_1 major', \
     $s1 using 1:2 with lines lw 2 lc 2 title 'pid 200 minor', \
     $s1 using 1:3 axes x1y2 with lines lw 2 dt 2 lc 2 title 'pid 200 major', \
     $s2 using 1:2 with lines lw 2 lc 3 title 'total minor', \
     $s2 using 1:3 axes x1y2 with lines lw 2 dt 2 lc 3 title 'total major'
set ylabel 'minor faults per second'
set y2label 'major faults per second'
set y2tics
set ytics nomirror
set key at screen 0.995, screen 0.625 right top
plot $s0 using 1:4 with lines lw 2 lc 1 title '100 sort -t, -k2 "big file"_1 minor', \
     $s0 using 1:5 axes x1y2 with lines lw 2 dt 2 lc 1 title '100 sort -t, -k2 "big file"_1 major', \
     $s1 using 1:4 with lines lw 2 lc 2 title 'pid 200 minor', \
     $s1 using 1:5 axes x1y2 with lines lw 2 dt 2 lc 2 title 'pid 200 major', \
     $s2 using 1:4 with lines lw 2 lc 3 title 'total minor', \
     $s2 using 1:5 axes x1y2 with lines lw 2 dt 2 lc 3 title 'total major'
set ylabel 'CPU utilisation (%)'
unset y2label
unset y2tics
set ytics mirror
set key at screen 0.995, screen 0.295 right top
plot $s0 using 1:6 with lines lw 2 lc 1 title '100 sort -t, -k2 "big file"_1', \
     $s1 using 1:6 with lines lw 2 lc 2 title 'pid 200', \
     $s2 using 1:6 with lines lw 2 lc 3 title 'total'
unset multiplot
