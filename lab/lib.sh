# shellcheck shell=bash
# Shared by the case-study scripts that run inside the lab VM.

# wait_registered PID...: until the module lists every one of them, or it
# has exited: a short workload can finish and leave the list before the
# first look (its records are in the ring all the same), and waiting for
# it to be listed would then never end.
wait_registered() {
	local p state
	for p in "$@"; do
		until grep -qx "$p" /proc/vmprof/status; do
			# Gone, or a zombie: never listed again.
			read -r _ _ state _ 2>/dev/null < "/proc/$p/stat" || break
			[ "$state" = Z ] && break
			sleep 0.05
		done
	done
}

# monitor_from_oldest OUT PID...: start vmprof-monitor in the background
# (its pid in $monitor_pid) on the records of PID... only, from the oldest
# still in the ring: started once the workloads are registered, it misses
# none of their records however long it takes to start.  Extra monitor
# options may be given in MONITOR_OPTS.
monitor_from_oldest() {
	local out=$1 p args=()
	shift
	for p in "$@"; do args+=(--pid "$p"); done
	# shellcheck disable=SC2086
	"$B/utils/vmprof-monitor" --mlock --oldest "${args[@]}" ${MONITOR_OPTS-} \
		-o "$out" 2> "${out%.csv}.log" &
	monitor_pid=$!
}

# monitor_ahead OUT: start vmprof-monitor in the background (its pid in
# $monitor_pid) on every process registered from now on, and return once it
# has mapped the ring: whatever registers next is recorded from its first
# sample, and named while it is alive, however slowly what follows runs.
# Stops once nothing is registered any more.
monitor_ahead() {
	"$B/utils/vmprof-monitor" --mlock --until-empty -o "$1" 2> "${1%.csv}.log" &
	monitor_pid=$!
	# Shell built-ins only: a program started now could wait long for
	# its pages.
	until has_ring "$monitor_pid"; do
		[ -e "/proc/$monitor_pid" ] || return 1
		pause 0.02
	done
}

# has_ring PID: the process has mapped /dev/vmprof
has_ring() {
	local line
	while read -r line; do
		[[ $line == */dev/vmprof ]] && return 0
	done < "/proc/$1/maps"
	return 1
}

# drop_caches: start each run from the same clean page cache
drop_caches() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
}

# pause SECONDS: sleep without exec'ing a program, which under memory
# pressure could wait long for its pages
pause() {
	local fifo
	fifo=$(mktemp -u /run/vmprof-pause.XXXXXX)
	mkfifo "$fifo"
	exec 9<> "$fifo"
	rm -f "$fifo"
	read -r -t "$1" -u 9 || true
	exec 9>&-
}

# machine_meta: the guest's figures every study records with its data
machine_meta() {
	awk '/MemTotal/ { printf "memory_mb=%d\n", $2 / 1024 }
	     /MemAvailable/ { printf "free_mb=%d\n", $2 / 1024 }
	     /SwapTotal/ { printf "swap_mb=%d\n", $2 / 1024 }' /proc/meminfo
	echo "cpus=$(nproc)"
	echo "period_ms=$(cat /sys/module/vmprof/parameters/period_ms)"
}
