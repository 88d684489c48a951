#!/bin/bash
# Load/unload robustness, run as root inside the lab VM: 50 cycles with
# sampling under way, memory compared before and after, rmmod with a
# reader attached, and the kernel log at the end.
# Usage: cycles.sh VMPROF_T VMPROF_KO
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
guest_setup "$@"

rmmod vmprof
check "the module unloads with nothing registered" test ! -e /proc/vmprof
# Loads and unloads patch no code in kernel_clone() (see stress.sh).
fork_tracepoint_hold

# A warm-up cycle, so that one-time allocations do not count as growth.
insmod "$VMPROF_KO" && rmmod vmprof
before=$(mem_snapshot)
kmemleak_clear

fails=0
for i in $(seq 50); do
	insmod "$VMPROF_KO" period_ms=10 || { fails=$((fails + 1)); continue; }
	pids=()
	for _ in $(seq 20); do
		sleep 600 &
		pids+=("$!")
		echo "R $!" > $STATUS || fails=$((fails + 1))
	done
	sleep 0.05
	# Unload with 20 processes registered and the work running.
	rmmod vmprof || fails=$((fails + 1))
	kill "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null
	[ $((i % 10)) = 0 ] && diag "cycle $i"
done
is "50 load/register/unload cycles without an error" "$fails" 0
mem_compare "$before" "$(mem_snapshot)" "50 loads of 20 registrations"
kmemleak_check

# ------------------------------------------------- rmmod with a reader
insmod "$VMPROF_KO"
spawn_sleeper
echo "R $sleeper" > $STATUS
# The reader holds the ring until told to let go, not for a fixed time: on
# a loaded host seconds of guest time can pass between two commands here.
"$T" hold 300 "$tmp/release" > "$tmp/hold" &
hp=$!
# Until it has the ring mapped (slow to start on a loaded or debug kernel).
for _ in $(seq 300); do
	grep -q '^holding' "$tmp/hold" && break
	sleep 0.05
done
check "rmmod refuses while a reader has /dev/vmprof mapped" \
	sh -c '! rmmod vmprof 2>/dev/null'
check "the module is still loaded and sampling" test -e /proc/vmprof/status
touch "$tmp/release"
wait $hp
check "the reader let go when told and finished normally" \
	sh -c "grep -q '^released' '$tmp/hold' && grep -q '^wakes' '$tmp/hold'"
check "rmmod succeeds once the reader is gone" rmmod vmprof
cleanup_bg
check "insmod again" insmod "$VMPROF_KO"

check_dmesg
done_testing
rm -rf "$tmp"
