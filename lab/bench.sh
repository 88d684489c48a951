#!/bin/bash
# make bench: what vmprof costs, next to reading /proc, in one boot of the
# lab VM.  Prints figures only, asserts nothing (README, "Measured").
#
#  1. For 1, 100, 1,000 and 10,000 processes, sleeping and busy faulting:
#     the sampler's cost per process per tick (the module's own clock, from
#     /proc/vmprof/stats, over 5 s with nothing else running, as the /proc
#     readers run) next to reading the same processes' /proc/PID/stat by
#     open+read+close and by pread on kept descriptors, and the ratios; the
#     mean and worst tick (with 1 process: the fixed cost of a tick); then
#     the latency of status writes (R and U) while the ticks run; and
#     vmprof-monitor reading every record for 30 s, with the records it
#     lost.  Beside the module, libvmprof's BPF backend on the same
#     processes: vmprof-monitor --backend=bpf for 6 s, its cost per process
#     per tick from its own clock (its summary line).
#  2. The slowdown of a fault-heavy workload sampled at 50 ms by vmprof run,
#     and by perf stat -I 50, against the same run unsampled: paired runs,
#     the median ratio of 10 and its range.
#  3. The period: mean and worst error of the tick interval over 60 s.
#
# Usage: bench.sh BUILDDIR   (inside the lab VM, the module loaded; make bench)
# Without the module (make bench runs part 1 so on the host, natively, as
# root): the BPF backend and /proc only, the module's columns "-".
# Environment: BENCH_PARTS (default "1 2 3"), BENCH_SIZES (default
# "1 100 1000 10000"), BENCH_FAULT_SIZES
# (the sizes also measured with faulting processes, default "100": in the
# 2-CPU TCG guest 1,000 busy processes, even at SCHED_IDLE, leave the bench
# too little CPU to finish in 10 minutes), BENCH_PAIRS (10),
# BENCH_PERIOD_S (60).
set -euo pipefail
B=$1
V=$B/utils/vmprof
MON=$B/utils/vmprof-monitor
WORK=$B/utils/vmprof-work
BENCH=$B/tests/vmprof-bench
KO=$B/src/vmprof.ko
PARTS=${BENCH_PARTS:-1 2 3}
SIZES=${BENCH_SIZES:-1 100 1000 10000}
FAULT_SIZES=${BENCH_FAULT_SIZES:-100}
PAIRS=${BENCH_PAIRS:-10}
PERIOD_S=${BENCH_PERIOD_S:-60}
tmp=$(mktemp -d)
park_pid=''
# shellcheck disable=SC2317 # (the trap calls it)
cleanup() {
	[ -z "$park_pid" ] || { kill "$park_pid"; wait "$park_pid"; } 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# progress STEP: where the bench is, on stderr (a 10,000-process row takes
# minutes under TCG)
progress() { echo "bench: $(date -u +%T) $*" >&2; }
stat_of() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmprof/stats; }
module=1
[ -e /proc/vmprof/stats ] || module=0
# reload: a fresh module, so that its statistics cover one measurement
reload() { [ "$module" = 0 ] || { rmmod vmprof && insmod "$KO"; }; }

# park N MODE: N children of vmprof-bench, sleeping or faulting; their pids
# in $tmp/pids.  unpark ends them.
park() {
	"$BENCH" park "$1" "$2" >"$tmp/pids" &
	park_pid=$!
	until [ "$(wc -l <"$tmp/pids")" -ge "$1" ]; do
		kill -0 "$park_pid" 2>/dev/null || { echo "bench: cannot start $1 processes" >&2; exit 1; }
		sleep 0.2
	done
}
unpark() {
	kill "$park_pid"
	wait "$park_pid" || true
	park_pid=''
}

echo "vmprof bench: $(uname -r), $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
# module_part N KIND: the module's cost for the N parked processes over
# 5 s (t0 t1 c0 c1 s0 s1 tmax), the latency of status writes meanwhile
# (lat), and vmprof-monitor reading it all for 30 s (mon).
module_part() {
	progress "$1 $2: registering them"
	xargs "$V" register <"$tmp/pids"
	sleep 1
	t0=$(stat_of ticks) c0=$(stat_of cost_total_ns) s0=$(stat_of samples)
	sleep 5
	t1=$(stat_of ticks) c1=$(stat_of cost_total_ns) s1=$(stat_of samples)
	tmax=$(stat_of cost_max_ns)
	progress "$1 $2: status write latency, then vmprof-monitor"
	# Status writes while the ticks run: R and U of one more process.
	sleep 600 &
	extra=$!
	lat=$("$BENCH" wlat "$extra" 3000)
	kill "$extra"
	"$MON" -d 30 -o /dev/null 2>"$tmp/mon.err" || true
	mon=$(awk '/records/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^records/) r = $i; else if ($(i + 1) ~ /^lost/) l = $i } END { printf "%s/%s", r, l }' "$tmp/mon.err")
	xargs "$V" unregister <"$tmp/pids" 2>/dev/null || true
}

part1() {
	echo "1. Cost per process per tick (ns), vmprof against reading /proc/PID/stat"
	printf '%-7s %-8s %9s %9s %9s %9s %10s %10s %7s %7s %7s %21s %16s\n' \
		procs kind vmprof "tick avg" "tick max" bpf open+read pread "x open" "x pread" \
		"bpf x" "status write us" "monitor 30 s"
	printf '%-7s %-8s %9s %9s %9s %9s %10s %10s %7s %7s %7s %21s %16s\n' \
		"" "" "ns" "us" "us" ns ns ns "" "" pread "median/p99/max" "records/lost"
	for n in $SIZES; do
		for kind in sleep fault; do
			[ "$kind" = sleep ] || [[ " $FAULT_SIZES " == *" $n "* ]] || continue
			progress "$n $kind: starting the processes"
			reload
			park "$n" "$kind"
			# Without the module, its columns are "-" (awk below).
			t0=0 t1=0 c0=0 c1=0 s0=0 s1=0 tmax=0 lat='- - - - - - - -' mon=-
			[ "$module" = 0 ] || module_part "$n" "$kind"
			progress "$n $kind: the BPF backend"
			# shellcheck disable=SC2046 # (one --pid per line of pids)
			"$MON" --backend=bpf $(sed 's/^/--pid /' "$tmp/pids") -d 6 \
				-o /dev/null 2>"$tmp/bpf.err" || true
			bpf=$(awk '/sampler:/ { for (i = 1; i < NF; i++) if ($(i + 1) == "us" && $(i + 2) == "per") print $i * 1000 }' "$tmp/bpf.err")
			progress "$n $kind: reading /proc"
			rounds=$((20000 / n > 2 ? 20000 / n : 2))
			op=$("$BENCH" procstat open "$rounds" <"$tmp/pids" | awk '{ print $2 }')
			pr=$("$BENCH" procstat pread "$rounds" <"$tmp/pids" | awk '{ print $2 }')
			unpark
			awk -v n="$n" -v kind="$kind" -v t=$((t1 - t0)) -v c=$((c1 - c0)) \
				-v s=$((s1 - s0)) -v m="$tmax" -v op="$op" -v pr="$pr" \
				-v lat="$lat" -v mon="$mon" -v bpf="${bpf:-0}" 'BEGIN {
				split(lat, w, " ")
				if (s > 0) {
					v = c / s
					mod = sprintf("%9.0f %9.1f %9.1f", v, c / t / 1000, m / 1000)
					x = sprintf("%7.0f %7.0f", op / v, pr / v)
					wl = sprintf("%.0f/%.0f/%.0f", w[4], w[6], w[8])
				} else {
					mod = sprintf("%9s %9s %9s", "-", "-", "-")
					x = sprintf("%7s %7s", "-", "-")
					wl = "-"
				}
				printf "%-7d %-8s %s %9.0f %10.0f %10.0f %s %7.1f %21s %16s\n",
					n, kind, mod, bpf, op, pr, x,
					(bpf > 0 ? pr / bpf : 0), wl, mon }'
		done
	done
	reload
}

part2() {
	echo
	echo "2. Slowdown of a fault-heavy workload (vmprof-work 256 R 60000 1), $PAIRS paired runs"
	wall() { awk '/^vmprof-work:/ { for (i = 1; i < NF; i++) if ($i == "wall_ns") print $(i + 1) }'; }
	: >"$tmp/pairs"
	have_perf=1
	perf stat -I 50 -e page-faults -x, -o /dev/null -- true 2>/dev/null || have_perf=0
	plain() { "$WORK" -p 0 256 R 60000 1 | wall; }
	sampled() { "$V" run -q -o /dev/null -- "$WORK" -p 0 256 R 60000 1 | wall; }
	perfed() {
		if [ "$have_perf" = 1 ]; then
			perf stat -I 50 -e page-faults,task-clock -x, -o /dev/null -- \
				"$WORK" -p 0 256 R 60000 1 | wall
		else
			echo 0
		fi
	}
	# Two runs first: the guest's first touches of its memory cost the host
	# more (qemu backs guest pages on demand).  Then the order alternates
	# within the pairs, so that neither variant always runs first.
	plain >/dev/null && plain >/dev/null
	for i in $(seq "$PAIRS"); do
		if [ $((i % 2)) = 1 ]; then
			a=$(plain) b=$(sampled) c=$(perfed)
		else
			c=$(perfed) b=$(sampled) a=$(plain)
		fi
		echo "$a $b $c" >>"$tmp/pairs"
	done
	summary() { # column of $tmp/pairs: median ratio to column 1, min, max
		awk -v k="$1" '{ print $k / $1 }' "$tmp/pairs" | sort -g |
			awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				printf "median %.3f (min %.3f, max %.3f)", m, v[1], v[NR] }'
	}
	echo "  unsampled:          median wall $(awk '{ print $1 }' "$tmp/pairs" | sort -n | awk '{ v[NR] = $1 } END { printf "%.0f ms", v[int((NR + 1) / 2)] / 1e6 }')"
	echo "  vmprof run, 50 ms:  $(summary 2) x the unsampled run"
	if [ "$have_perf" = 1 ]; then
		echo "  perf stat -I 50:    $(summary 3) x the unsampled run"
	else
		echo "  perf stat -I 50:    not measured: perf missing (apt-get install linux-perf)"
	fi
}

part3() {
	echo
	echo "3. The period over ${PERIOD_S} s (50 ms, 100 sleeping processes)"
	park 100 sleep
	xargs "$V" register <"$tmp/pids"
	"$MON" -a -d "$PERIOD_S" -o "$tmp/ticks.csv" 2>/dev/null || true
	unpark
	awk -F, '/^#/ { next }
		!c { for (i = 1; i <= NF; i++) if ($i == "time_ns") c = i; next }
		{ if (p) { e = ($c - p) / 1e6 - 50; s += e; n++; if (e < 0) e = -e; if (e > w) w = e } p = $c }
		END { printf "  %d intervals: mean error %+.3f ms, worst %.3f ms\n", n, s / n, w }' "$tmp/ticks.csv"
}

for part in $PARTS; do
	case $part in
	1 | 2 | 3) "part$part" ;;
	*) echo "bench: BENCH_PARTS: no part $part (1, 2 or 3)" >&2; exit 2 ;;
	esac
done
