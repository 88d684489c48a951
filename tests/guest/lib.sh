# shellcheck shell=bash
# The shared part of the guest scripts in tests/guest/, which run as root
# inside the lab VM (and bpf.sh and exact.sh natively too): the TAP helpers
# (tests/tap.sh), the preamble (guest_setup) and what the module tests
# share.  A guest script starts:
#	# shellcheck source=lib.sh
#	. "$(dirname "$0")/lib.sh"
#	guest_setup "$@"
set -u
# shellcheck source=../tap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tap.sh"

# guest_setup [--no-debug-state] VMPROF_T VMPROF_KO [BUILDDIR]: the
# arguments every guest script takes, as T (tests/vmprof-t), VMPROF_KO (the
# module) and, with BUILDDIR, B (the build tree, made absolute) and the
# tools in it, VMPROF, MONITOR and WORK; tmp, a new scratch directory; then
# kernel_debug_state's test points, unless --no-debug-state (the scripts
# that also run natively, where the kernel is the host's).
# shellcheck disable=SC2034 # (for the scripts that source this file)
guest_setup() {
	local debug_state=1
	if [ "${1:-}" = --no-debug-state ]; then
		debug_state=0
		shift
	fi
	T=${1:-}
	VMPROF_KO=${2:-}
	if [ $# -ge 3 ]; then
		B=$(realpath "$3")
		VMPROF=$B/utils/vmprof
		MONITOR=$B/utils/vmprof-monitor
		WORK=$B/utils/vmprof-work
	fi
	tmp=$(mktemp -d)
	if [ $debug_state = 1 ]; then kernel_debug_state; fi
}

# tail_bound NPROC CPU_NS: how much more CPU (ns) than wait4's rusage the
# records of NPROC processes that ran CPU_NS may show.  A child its parent
# reaps before its last switch off the CPU runs on a little: vmprof counts
# that time, wait4 does not.  Tens of microseconds a process on Debian's
# kernels, about 100 on the debug kernel, and more when the host
# deschedules the vCPU in that window (under TCG the guest's clock runs
# on), which no bound of a few microseconds survives on a loaded host: 2 ms,
# 1 ms a process and 1 % of the CPU.  What a bound would catch besides (a
# process counted twice, a baseline missed) changes the faults too, which
# the tests compare exactly.
tail_bound() { echo $((2000000 + 1000000 * $1 + $2 / 100)); }

STATUS=/proc/vmprof/status
STATS=/proc/vmprof/stats
# shellcheck disable=SC2034 # (for the scripts that source this file)
PARAMS=/sys/module/vmprof/parameters

# stat_value KEY: one figure from /proc/vmprof/stats
stat_value() { awk -v k="$1" '$1 == k { print $2 }' "$STATS"; }

# registered: the status file on one line
registered() { tr '\n' ' ' < "$STATUS" | sed 's/ $//'; }

# The kernel log must be free of warnings and oopses, and of the reports
# of the debug kernel's checkers (KASAN and KFENCE report as BUG, lockdep
# and DEBUG_OBJECTS as WARNING; UBSAN and kmemleak have their own).
check_dmesg() {
	local bad
	bad=$(dmesg | grep -E 'WARNING:|BUG:|BUG |Call Trace|general protection|Oops|kernel BUG|UBSAN:|ODEBUG:|new suspected memory leak' || true)
	if [ -z "$bad" ]; then
		ok "kernel log has no WARN, BUG, Call Trace, UBSAN, ODEBUG or kmemleak report"
	else
		not_ok "kernel log has no WARN, BUG, Call Trace, UBSAN, ODEBUG or kmemleak report"
		printf '%s\n' "$bad" | head -n 40 | sed 's/^/#   /'
	fi
	kernel_debug_final
}

# mem_snapshot: one line of what the module could leak: vmalloc_user()
# areas (its ring; after rmmod a leaked area could not be told by its
# caller's name, which no longer resolves), vmalloc KiB in all (less the
# areas freed but not yet purged, which come and go), and the
# active objects of kmalloc-64 (its process entries) and pid (the struct
# pid references they hold).  Caches and KASAN's quarantine of freed
# objects are drained first.
mem_snapshot() {
	local c
	sync
	echo 3 > /proc/sys/vm/drop_caches
	for c in kmalloc-64 pid; do
		[ -w "/sys/kernel/slab/$c/shrink" ] && echo 1 > "/sys/kernel/slab/$c/shrink"
	done
	echo "$(grep -c ' user' /proc/vmallocinfo)" \
		"$(awk '!/unpurged/ { s += $2 } END { print int(s / 1024) }' /proc/vmallocinfo)" \
		"$(awk '$1 == "kmalloc-64" { print $2 }' /proc/slabinfo)" \
		"$(awk '$1 == "pid" { print $2 }' /proc/slabinfo)"
}

# mem_compare BEFORE AFTER WHAT: test points that nothing leaked over WHAT
# (a description of the registrations and loads in between).  A leaked
# ring adds a vmalloc_user area (and 516 KiB); leaked entries or pid
# references add an object per registration, far above the noise allowed.
mem_compare() {
	local u0 v0 k0 p0 u1 v1 k1 p1
	read -r u0 v0 k0 p0 <<< "$1"
	read -r u1 v1 k1 p1 <<< "$2"
	diag "vmalloc $v0 -> $v1 KiB in all, $u0 -> $u1 user areas, kmalloc-64 $k0 -> $k1, pid $p0 -> $p1"
	is "as many vmalloc_user areas as before $3 (no ring left behind)" "$u1" "$u0"
	# The kernel's own vmalloc use moves by up to 2 MiB (kernel stacks
	# of the processes started; on the debug kernel more): a broad
	# bound, 8 lost rings, next to the exact count above.  (On 6.12, 25,
	# 50 and 75 cycles of cycles.sh left the total within 20 KiB.)
	in_range "vmalloc growth (KiB) over $3" $((v1 - v0)) -100000 4096
	if [ -n "$k0" ] && [ -n "$k1" ] && [ -n "$p0" ] && [ -n "$p1" ]; then
		in_range "kmalloc-64 growth over $3" $((k1 - k0)) -100000 300
		in_range "pid growth over $3" $((p1 - p0)) -100000 300
	else
		not_ok "kmalloc-64 and pid are in /proc/slabinfo"
	fi
}

# On the debug kernel (VMPROF_DEBUG_KERNEL=1, tests/check-kernels.sh
# --debug) its checkers must really be on; elsewhere nothing is checked.
KMEMLEAK=/sys/kernel/debug/kmemleak
kernel_debug_state() {
	[ "${VMPROF_DEBUG_KERNEL:-0}" = 1 ] || return 0
	diag "kernel $(uname -r), command line: $(cat /proc/cmdline)"
	check "debug kernel: KASAN is on" sh -c 'dmesg | grep -q "KernelAddressSanitizer initialized"'
	check "debug kernel: lockdep is on (/proc/lockdep_stats: debug_locks 1)" \
		grep -Eq '^ *debug_locks: +1$' /proc/lockdep_stats
	check "debug kernel: kmemleak is on" test -r $KMEMLEAK
	is "debug kernel: panic_on_warn is set" "$(cat /proc/sys/kernel/panic_on_warn)" 1
}
kernel_debug_final() {
	[ "${VMPROF_DEBUG_KERNEL:-0}" = 1 ] || return 0
	check "debug kernel: lockdep is still on (no report turned it off)" \
		grep -Eq '^ *debug_locks: +1$' /proc/lockdep_stats
}

# kmemleak_clear, then kmemleak_check after rmmod: no leak reported since.
kmemleak_clear() {
	if [ -w $KMEMLEAK ]; then echo clear > $KMEMLEAK; fi
}
kmemleak_check() {
	local n
	if [ ! -w $KMEMLEAK ]; then
		[ "${VMPROF_DEBUG_KERNEL:-0}" = 1 ] && not_ok "kmemleak scan: $KMEMLEAK missing"
		return 0
	fi
	# An object is reported once it is older than 5 s and unreferenced
	# in a scan.
	sleep 6
	echo scan > $KMEMLEAK
	sleep 1
	echo scan > $KMEMLEAK
	n=$(grep -c '^unreferenced object' $KMEMLEAK)
	is "kmemleak: no leak reported after rmmod" "$n" 0
	[ "$n" = 0 ] || head -n 60 $KMEMLEAK | sed 's/^/#   /'
}

# Background processes the tests start; all are killed at exit.
bg_pids=()
spawn_sleeper() {
	sleep 600 &
	bg_pids+=("$!")
	# shellcheck disable=SC2034 # (for the caller)
	sleeper=$!
}
cleanup_bg() {
	if [ ${#bg_pids[@]} -gt 0 ]; then
		kill "${bg_pids[@]}" 2>/dev/null || true
		wait 2>/dev/null || true
	fi
	bg_pids=()
}
trap cleanup_bg EXIT

# Enable the sched_process_fork event at the top of tracefs and in an
# instance of its own: two probes on the tracepoint besides the module's,
# so that loading and unloading the module patches no code (stress.sh).
# They stay on until the VM is gone: turning them off would patch.
TRACEFS=/sys/kernel/tracing
FORK_HOLD=$TRACEFS/instances/vmprof-fork-hold
fork_tracepoint_hold() {
	mountpoint -q $TRACEFS || mount -t tracefs nodev $TRACEFS
	mkdir -p $FORK_HOLD
	echo 16 > $FORK_HOLD/buffer_size_kb
	echo 1 > $TRACEFS/events/sched/sched_process_fork/enable
	echo 1 > $FORK_HOLD/events/sched/sched_process_fork/enable
}
# fork_tracepoint_held: how many of the two are enabled
fork_tracepoint_held() {
	cat $TRACEFS/events/sched/sched_process_fork/enable \
		$FORK_HOLD/events/sched/sched_process_fork/enable 2>/dev/null |
		grep -c '^1'
}
# reload_module ARGS...: rmmod and insmod the module with new parameters.
reload_module() {
	rmmod vmprof && insmod "$VMPROF_KO" "$@"
}
