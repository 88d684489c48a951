#!/bin/bash
# Case study 2, inside the lab VM (small RAM, a swap disk): N copies of a
# random-access workload for each N, profiled together, REPEAT times with
# fresh processes; one data file per run, case_2_mMEM_nN_rR.csv.  The runs
# go round by round (every N once, then again), so that a slow stretch of
# the host spreads over all N instead of spoiling one.
# Usage: case2.sh BUILDDIR OUTDIR MEM "N..." SIZE_MB ACCESSES PAUSE_MS SECONDS REPEAT
set -euo pipefail
B=$1 OUT=$2 MEM=$3 NS=$4 SIZE=$5 ACC=$6 PAUSE=$7 SECS=$8 REPEAT=$9
mkdir -p "$OUT"
t0=$(date +%s)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

{
	printf 'ns=%s\nsize_mb=%s\naccesses=%s\npause_ms=%s\nseconds=%s\nrepeat=%s\n' \
		"$NS" "$SIZE" "$ACC" "$PAUSE" "$SECS" "$REPEAT"
	machine_meta
} > "$OUT/case_2_m$MEM.meta"
# shellcheck disable=SC2086
set -- $NS
total=$(($# * REPEAT))
i=0
for r in $(seq "$REPEAT"); do
	for n in $NS; do
		i=$((i + 1))
		name=case_2_m${MEM}_n${n}_r$r
		el=$(( $(date +%s) - t0 ))
		left=
		[ $i -gt 1 ] && left=", about $(( el * (total - i + 1) / (i - 1) )) s left"
		echo "[case 2, $MEM MiB] N=$n, round $r/$REPEAT (run $i/$total), elapsed $el s$left" >&2
		drop_caches
		# The monitor first: it records the copies from their first
		# sample on, and names them while they are alive.
		monitor_ahead "$OUT/$name.csv"
		mon=$monitor_pid
		# The copies' parent is locked in memory, starts them together
		# once each has written its memory once (the window is the
		# steady state from its first sample), and stops them on time
		# however hard they thrash.
		"$B/utils/vmprof-work" --copies "$n" --duration "$SECS" --register --prefault \
			--pause-ms "$PAUSE" --seed "$((n * 100 + r))" "$SIZE" R "$ACC" 1000000000 \
			> "$OUT/$name.work" &
		sup=$!
		wait "$sup"
		wait "$mon" || true
		grep -h . "$OUT/$name.log" >&2 || true
	done
done
echo "[case 2, $MEM MiB] done in $(( $(date +%s) - t0 )) s" >&2
