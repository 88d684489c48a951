#!/bin/bash
# Load/unload robustness, run as root inside the lab VM: 50 cycles with
# sampling under way, memory compared before and after, rmmod with a
# reader attached, and the kernel log at the end.
# Usage: cycles.sh VMPROF_T VMPROF_KO
set -u
T=$1
VMPROF_KO=$2
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)

vmalloc_kb() { awk '{ s += $2 } END { print int(s / 1024) }' /proc/vmallocinfo; }
# vmalloc_user() areas (the ring is one); after rmmod a leaked area could
# not be told by its caller's name, which no longer resolves.
vmalloc_user_areas() { grep -c ' user' /proc/vmallocinfo; }
slab_active() { awk -v c="$1" '$1 == c { print $2 }' /proc/slabinfo; }

rmmod vmprof
check "the module unloads with nothing registered" test ! -e /proc/vmprof

# A warm-up cycle, so that one-time allocations do not count as growth.
insmod "$VMPROF_KO" && rmmod vmprof
sync; echo 3 > /proc/sys/vm/drop_caches
u0=$(vmalloc_user_areas); v0=$(vmalloc_kb); k0=$(slab_active kmalloc-64); p0=$(slab_active pid)

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
sync; echo 3 > /proc/sys/vm/drop_caches
u1=$(vmalloc_user_areas); v1=$(vmalloc_kb); k1=$(slab_active kmalloc-64); p1=$(slab_active pid)
diag "vmalloc $v0 -> $v1 KiB in all, $u0 -> $u1 user areas, kmalloc-64 $k0 -> $k1, pid $p0 -> $p1"
# A leak of the ring would add 516 KiB a cycle; of a process entry or a
# pid reference, 1000 objects in all.
is "as many vmalloc_user areas as before (no ring left behind)" "$u1" "$u0"
in_range "vmalloc growth over 50 cycles (KiB), 50 lost rings = 25800" \
	$((v1 - v0)) -100000 2048
in_range "kmalloc-64 growth over 1000 registrations" $((k1 - k0)) -100000 300
in_range "pid growth over 1000 registrations" $((p1 - p0)) -100000 300

# ------------------------------------------------- rmmod with a reader
insmod "$VMPROF_KO"
spawn_sleeper
echo "R $sleeper" > $STATUS
"$T" hold 3 > "$tmp/hold" &
hp=$!
sleep 1
check "rmmod refuses while a reader has /dev/vmprof mapped" \
	sh -c '! rmmod vmprof 2>/dev/null'
check "the module is still loaded and sampling" test -e /proc/vmprof/status
wait $hp
check "the reader finished normally" grep -q '^wakes' "$tmp/hold"
check "rmmod succeeds once the reader is gone" rmmod vmprof
cleanup_bg
check "insmod again" insmod "$VMPROF_KO"

check_dmesg
done_testing
rm -rf "$tmp"
