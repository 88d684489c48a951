#!/bin/bash
# make bench: the sampler's own cost per process per tick, and what a
# reader costs, with 1 to 500 registered processes.  Prints figures only;
# run inside the lab VM (TCG: expect several times the cost on hardware).
# Usage: bench.sh BUILDDIR
set -euo pipefail
B=$1
V=$B/utils/vmprof
stat_of() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmprof/stats; }

printf '%-10s %12s %14s %14s %16s\n' processes ticks "tick mean us" "tick max us" "per process us"
for n in 1 10 100 500; do
	pids=()
	for _ in $(seq "$n"); do sleep 600 & pids+=("$!"); done
	"$V" register "${pids[@]}"
	sleep 0.5
	t0=$(stat_of ticks); c0=$(stat_of cost_total_ns); s0=$(stat_of samples)
	sleep 3
	t1=$(stat_of ticks); c1=$(stat_of cost_total_ns); s1=$(stat_of samples)
	awk -v n="$n" -v t=$((t1 - t0)) -v c=$((c1 - c0)) -v s=$((s1 - s0)) \
		-v m="$(stat_of cost_max_ns)" 'BEGIN {
		printf "%-10s %12d %14.1f %14.1f %16.2f\n", n, t, c / t / 1000,
			m / 1000, c / s / 1000 }'
	if [ "$n" = 500 ]; then
		# A reader keeping up with 500 processes at 20 Hz.
		"$B/utils/vmprof-monitor" -d 5 -o /tmp/bench.csv 2>/tmp/bench.err &
		m=$!
		sleep 4.9
		ticks=$(awk '{ print $14 + $15 }' "/proc/$m/stat")
		wait "$m"
		echo
		echo "vmprof-monitor, 500 processes, 5 s: $(tail -n1 /tmp/bench.err)"
		echo "  its CPU time: $((ticks * 1000 / $(getconf CLK_TCK))) ms in 5 s (user+system, clock ticks)"
	fi
	"$V" unregister "${pids[@]}"
	kill "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null || true
done
