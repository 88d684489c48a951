#!/bin/bash
# Case study 2, inside the lab VM (small RAM, a swap disk): N copies of a
# random-access workload for each N, profiled together; one data file per N.
# Usage: case2.sh BUILDDIR OUTDIR "N..." SIZE_MB ACCESSES PAUSE_MS SECONDS
set -euo pipefail
B=$1 OUT=$2 NS=$3 SIZE=$4 ACC=$5 PAUSE=$6 SECS=$7
mkdir -p "$OUT"
t0=$(date +%s)
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

{
	printf 'ns=%s\nsize_mb=%s\naccesses=%s\npause_ms=%s\nseconds=%s\n' \
		"$NS" "$SIZE" "$ACC" "$PAUSE" "$SECS"
	machine_meta
} > "$OUT/case_2.meta"
i=0
# shellcheck disable=SC2086
set -- $NS
total=$#
for n in $NS; do
	i=$((i + 1))
	echo "[case 2] N=$n ($i/$total), ${SIZE} MiB each, elapsed $(( $(date +%s) - t0 )) s" >&2
	drop_caches
	# The copies' parent is locked in memory and stops them on time,
	# however hard they thrash.
	# Each copy fills its memory before it registers: the window that
	# follows is the steady state, whatever the pace of the machine.
	"$B/utils/vmprof-work" --copies "$n" --duration "$SECS" --register --prefault \
		--pause-ms "$PAUSE" --seed "$n" "$SIZE" R "$ACC" 1000000000 \
		> "$OUT/case_2_n$n.work" &
	sup=$!
	# "copies:" comes once every copy is registered.  Shell built-ins
	# only: a program started now could wait long for its pages.
	line=
	until [[ $line == copies:* ]]; do
		pause 0.05
		read -r line < "$OUT/case_2_n$n.work" || true
	done
	read -r -a pids <<< "${line#copies: }"
	# It stops by itself once the copies are gone (no signal to race
	# with its start: a background job of a script ignores SIGINT).
	MONITOR_OPTS=--until-empty monitor_from_oldest "$OUT/case_2_n$n.csv" "${pids[@]}"
	mon=$monitor_pid
	wait "$sup"
	wait "$mon" || true
	grep -h . "$OUT/case_2_n$n.log" >&2 || true
	free -m | sed -n 2,3p >&2
done
echo "[case 2] done in $(( $(date +%s) - t0 )) s" >&2
