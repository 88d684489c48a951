#!/bin/bash
# make first-look runs this inside the lab VM: one
# workload under `vmprof run`, its report, its plot, and the module's own
# statistics.  Usage: first-look.sh BUILDDIR OUTDIR
set -euo pipefail
B=$1
OUT=$2
mkdir -p "$OUT"
echo "== vmprof run -- vmprof-work 64 R 30000 6 (random accesses over 64 MiB)"
"$B/utils/vmprof" run -o "$OUT/first-look.csv" -- \
	"$B/utils/vmprof-work" --pause-ms 300 64 R 30000 6
echo
echo "== the first samples (every 50 ms; deltas since the previous one)"
head -n 8 "$OUT/first-look.csv"
echo
echo "== vmprof report $OUT/first-look.csv"
"$B/utils/vmprof" report "$OUT/first-look.csv"
"$B/utils/vmprof" plot -t "vmprof-work 64 R 30000 6" "$OUT/first-look.csv" -o "$OUT/first-look.png"
echo
echo "== vmprof stats (the sampler's own cost)"
"$B/utils/vmprof" stats
echo
echo "Data: $OUT/first-look.csv   Plot: $OUT/first-look.png"
