#!/bin/bash
# Case study 1, inside the lab VM: two experiments of two vmprof-work
# processes started together and profiled together.
#   experiment 1 (work 1, 2): random and random    (R HI, R LO accesses)
#   experiment 2 (work 3, 4): random and locality  (R HI, L LO accesses)
# Usage: case1.sh BUILDDIR OUTDIR SIZE_MB HI LO ITERATIONS PAUSE_MS
set -euo pipefail
B=$1 OUT=$2 SIZE=$3 HI=$4 LO=$5 ITER=$6 PAUSE=$7
mkdir -p "$OUT"
t0=$(date +%s)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

experiment() {	# experiment NAME PATTERN-OF-THE-SECOND
	local name=$1 pat=$2 mon a b
	echo "[case 1] $name: vmprof-work $SIZE R $HI and vmprof-work $SIZE $pat $LO," \
		"$ITER iterations, elapsed $(( $(date +%s) - t0 )) s" >&2
	drop_caches
	# Each registers itself after mapping its memory, before touching it.
	"$B/utils/vmprof-work" --register --pause-ms "$PAUSE" --seed 1 \
		"$SIZE" R "$HI" "$ITER" > "$OUT/$name.work1" &
	a=$!
	"$B/utils/vmprof-work" --register --pause-ms "$PAUSE" --seed 2 \
		"$SIZE" "$pat" "$LO" "$ITER" > "$OUT/$name.work2" &
	b=$!
	# The monitor names each by its command line.
	wait_registered "$a" "$b"
	MONITOR_OPTS=--until-empty monitor_from_oldest "$OUT/$name.csv" "$a" "$b"
	mon=$monitor_pid
	wait "$a" "$b"
	wait "$mon"
	cat "$OUT/$name.log" >&2
}
{
	printf 'size_mb=%s\nhi=%s\nlo=%s\niterations=%s\npause_ms=%s\n' \
		"$SIZE" "$HI" "$LO" "$ITER" "$PAUSE"
	machine_meta
} > "$OUT/case_1.meta"
experiment case_1_work_1_2 R
experiment case_1_work_3_4 L
echo "[case 1] done in $(( $(date +%s) - t0 )) s" >&2
