#!/bin/bash
# The stress test of vmprof.ko, run as root inside the lab VM: sampling at
# 10 ms, 8 writer threads registering and unregistering children that
# fault memory and exit at random (reaped by their parent in the middle of
# ticks), a fuzzer, 3 ring readers checking every record, max_pids and
# period_ms changed under them all (vmprof-stress chaos); then 30
# rmmod/insmod cycles while writers keep writing through descriptors they
# keep open (vmprof-stress writers); then memory compared with before, a
# kmemleak scan when the kernel has kmemleak, and the kernel log.
# Usage: stress.sh VMPROF_T VMPROF_KO VMPROF_STRESS
# Environment: STRESS_FUZZ (default 1000000 writes), STRESS_WRITES (10000
# per writer), STRESS_CYCLES (30).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
guest_setup "$1" "$2"
S=$3
# insmod reads the module 30 times and more: from the guest's memory, not
# over 9p.
cp "$VMPROF_KO" "$tmp/vmprof.ko" && VMPROF_KO=$tmp/vmprof.ko

# run_checks COMMAND...: the PASS/FAIL lines of a vmprof-stress run as
# test points, the rest as diagnostics; a crash is a failure too.
run_checks() {
	local line st
	"$@" > "$tmp/out" 2>&1
	st=$?
	while IFS= read -r line; do
		case $line in
		"PASS "*) ok "${line#PASS }" ;;
		"FAIL "*) not_ok "${line#FAIL }" ;;
		"# "*) diag "${line#\# }" ;;
		*) diag "$line" ;;
		esac
	done < "$tmp/out"
	# 0: all passed, 1: some failed (reported above); else it crashed.
	if [ $st -gt 1 ]; then not_ok "$1 $2 exited with status $st"; fi
}

# ------------------------------------------------------------- baseline
# The module's load attaches a probe to the sched_process_fork tracepoint
# and its unload detaches it.  When that changes the tracepoint's number of
# probes from 0 to 1, or from 1 to 2, the kernel patches kernel_clone()
# (text_poke_bp()): the static key's branch, and the static call, which
# goes straight to a single probe and through the iterator for two or
# more.  Under TCG a vCPU forking at that moment has been seen to run the
# patch's int3 after the kernel had put the instruction back and
# synchronised every CPU ("Oops: int3" in kernel_clone, once in a few runs
# of the reload cycles below, at the static key's branch and, with the
# event on, at the static call): stale translated code, which the
# serialising IPIs rule out on hardware.  So tracefs holds two probes
# throughout (fork_tracepoint_hold), and the module's come and go as a
# third, which patches nothing.
# (Before the baseline: the first enabled event allocates the trace ring.)
fork_tracepoint_hold
is "sched_process_fork has two probes of tracefs's (nothing is patched at load)" \
	"$(fork_tracepoint_held)" 2
rmmod vmprof
insmod "$VMPROF_KO" && rmmod vmprof # one-time allocations do not count
before=$(mem_snapshot)
kmemleak_clear

# ---------------------------------------------------------------- chaos
insmod "$VMPROF_KO" period_ms=10 buffer_pages=1024
is "sampling at 10 ms" "$(cat "$PARAMS/period_ms")" 10
# 100 sleepers registered throughout: each tick then samples more than a
# batch (64), hands its lock over in the middle, and a "U" of the
# writers' that comes then leaves its last record to the tick
# (last_deferred).
for _ in $(seq 100); do
	spawn_sleeper
	"$1" write "R $sleeper" >/dev/null
done
t0=$SECONDS
run_checks "$S" chaos --writers 8 --writes "${STRESS_WRITES:-10000}" \
	--fuzz "${STRESS_FUZZ:-1000000}" --readers 3 --pool 48
diag "chaos: $((SECONDS - t0)) s; stats: $(tr '\n' ' ' < "$STATS")"
# (Whether one did depends on timing: module.sh asserts that path.)
diag "U during a tick, last record left to it: $(stat_value last_deferred)"
# A quarter of the writes are "R <pid> +", half the pool's children fork,
# and a process beside the pool registers itself with "R <pid> +" and
# forks every few milliseconds: forks are followed all through the chaos.
check "forks were followed through the chaos: children registered at fork ($(stat_value inherited), $(stat_value inherit_refused) refused at max_pids)" \
	test "$(stat_value inherited)" -gt 0
cleanup_bg

# ------------------------------------- unload and load under the writers
# The load at a lower priority: rmmod and insmod, run from the host's
# file system over 9p, would otherwise take seconds to start in a VM of
# two CPUs; the writers still run whenever they wait.
nice -n 10 "$S" writers --writers 8 --pool 16 --lifetime-ms 1000 > "$tmp/writers" 2>&1 &
wp=$!
for _ in $(seq 100); do
	grep -q '^# writing' "$tmp/writers" && break
	sleep 0.1
done
cycles=${STRESS_CYCLES:-30}
fails=0
t0=$SECONDS
for i in $(seq "$cycles"); do
	# Let the writers register a few processes first.
	sleep "0.0$((RANDOM % 9 + 1))"
	rmmod vmprof || fails=$((fails + 1))
	sleep "0.0$((RANDOM % 5))"
	insmod "$VMPROF_KO" period_ms=10 || fails=$((fails + 1))
	[ $((i % 10)) = 0 ] && diag "cycle $i: registered $(stat_value registered) at the reload"
done
sleep 0.2
kill -TERM "$wp"
wait "$wp"
is "$cycles rmmod/insmod cycles under 8 writers without an error" "$fails" 0
diag "cycles: $((SECONDS - t0)) s"
while IFS= read -r line; do
	case $line in
	"PASS "*) ok "${line#PASS }" ;;
	"FAIL "*) not_ok "${line#FAIL }" ;;
	*) diag "${line#\# }" ;;
	esac
done < "$tmp/writers"

# ------------------------------------------------------------ afterwards
rmmod vmprof
mem_compare "$before" "$(mem_snapshot)" "the stress test"
kmemleak_check
check_dmesg
insmod "$VMPROF_KO"
done_testing
rm -rf "$tmp"
