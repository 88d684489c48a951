#!/bin/bash
# Memory pressure, as root inside the lab VM with the module loaded (and a
# swap disk): vmprof run gives the command a cgroup of its own and records
# its memory.pressure beside the system's; a workload under a memory limit
# stalls in the intervals of its major faults, the same workload without
# the limit next to never.  A user who may not make a cgroup is told so.
# Usage: pressure.sh VMPROF_T VMPROF_KO BUILDDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
guest_setup "$@"
CG=/sys/fs/cgroup
trap 'rmdir "$CG/limited" "$CG/users" 2> /dev/null; rm -rf "$tmp"' EXIT

check "the guest's kernel has PSI" cat /proc/pressure/memory
check "cgroup v2 is mounted at $CG" grep -q "^cgroup2 $CG cgroup2 " /proc/mounts

# intervals FILE: per interval between two pressure lines, the command's
# cgroup's memory stall (us) and the major faults of the rows read in it
# (the rows of a tick come before the pressure line read after it);
# prints "intervals N with_maj M with_maj_and_stall K maj F stall_us S
# span_s T".
intervals() {
	awk '/^# pressure time_ns=/ {
			t = 0; s = -1
			for (i = 3; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "time_ns") t = kv[2]
				if (kv[1] == "cgroup_memory_some_us") s = kv[2]
			}
			if (s < 0) next
			if (n++) {
				d = s - ps; total += d; span = t - first
				if (maj > 0) { wm++; if (d > 0) ws++ }
			} else {
				first = t
			}
			ps = s; maj = 0
			next
		}
		/^#/ { next }
		!hdr { for (i = 1; i <= split($0, h, ","); i++) c[h[i]] = i; hdr = 1; next }
		{ split($0, f, ","); maj += f[c["maj_flt"]]; majs += f[c["maj_flt"]] }
		END { printf "intervals %d with_maj %d with_maj_and_stall %d maj %d stall_us %d span_s %.3f\n",
			n - 1, wm, ws, majs, total, span / 1e9 }' "$1"
}
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }

# ------------------------------------------------------------ no limit
section "a workload without a memory limit"
"$VMPROF" run -o "$tmp/free.csv" -- "$WORK" 24 R 20000 3 > "$tmp/free.out" 2>&1
is "vmprof run of the workload exits 0" "$?" 0
diag "$(grep -E '^(vmprof|sampler|pressure|  )' "$tmp/free.out")"
check "the file has its cgroup's memory pressure at every tick" \
	test "$(grep -c '^# pressure time_ns=.* cgroup_memory_some_us=[0-9]* cgroup_memory_full_us=[0-9]*$' "$tmp/free.csv")" -ge 10
check "the summary gives the command's cgroup's stall" \
	grep -q "^pressure stall (PSI, the command's cgroup) over " "$tmp/free.out"
check "vmprof run says nothing about its cgroup" \
	sh -c "! grep -q \"stays in vmprof's cgroup\" '$tmp/free.out'"
check "its cgroup is removed after the run" sh -c "! ls -d $CG/vmprof-run.* 2> /dev/null"
free=$(intervals "$tmp/free.csv")
diag "without a limit: $free"
# (a few: the program's own pages, read from the host over 9p)
check "next to no major fault without a limit" test "$(echo "$free" | field maj)" -le 10
# shellcheck disable=SC2016 # (awk's fields)
check "and a memory stall of at most 1 % of the run" \
	awk -v s="$(echo "$free" | field stall_us)" -v t="$(echo "$free" | field span_s)" \
	'BEGIN { exit !(t > 0 && s / 1e6 <= 0.01 * t) }'

# ---------------------------------------------------------- a limit
# memory.max at a third of what the workload writes, with swap: every
# access to a page swapped out is a major fault, and a stall.
section "the same workload in a cgroup limited to 8 MiB"
echo +memory > "$CG/cgroup.subtree_control"
mkdir "$CG/limited"
echo $((8 << 20)) > "$CG/limited/memory.max"
(echo "$BASHPID" > "$CG/limited/cgroup.procs" &&
	exec "$VMPROF" run -o "$tmp/tight.csv" -- "$WORK" 24 R 20000 3) > "$tmp/tight.out" 2>&1
is "vmprof run of the workload, limited, exits 0" "$?" 0
diag "$(grep -E '^(vmprof|sampler|pressure|  )' "$tmp/tight.out")"
check "its cgroup was made below the limited one, and is gone" \
	sh -c "! ls -d $CG/limited/vmprof-run.* 2> /dev/null"
tight=$(intervals "$tmp/tight.csv")
diag "with the limit: $tight"
check "major faults under the limit ($(echo "$tight" | field maj))" \
	test "$(echo "$tight" | field maj)" -gt 100
check "and a memory stall ($(echo "$tight" | field stall_us) us)" \
	test "$(echo "$tight" | field stall_us)" -gt 0
wm=$(echo "$tight" | field with_maj)
ws=$(echo "$tight" | field with_maj_and_stall)
check "most intervals with major faults have a stall too ($ws of $wm)" \
	test "$wm" -gt 0 -a $((2 * ws)) -ge "$wm"
check "the report's cgroup memory stall is not 0" \
	sh -c "\"$VMPROF\" report '$tmp/tight.csv' | grep -A1 \"the command's cgroup\" | grep -qv ' some     0.000 s'"
rmdir "$CG/limited"

# ------------------------------------------------- the root cgroup
# It now gives the memory controller to its children: a cgroup of the
# command's own there would take it, and compete as a peer of the rest.
section "from the root cgroup, which gives its children a controller"
"$VMPROF" run -o "$tmp/root.csv" -- true > "$tmp/root.out" 2>&1
is "vmprof run exits 0" "$?" 0
check "it makes no cgroup there, and says why" \
	grep -q "^vmprof run: the command stays in vmprof's cgroup (.*: its cgroup gives controllers to its children" "$tmp/root.out"
check "and its file has no cgroup pressure" sh -c "! grep -q cgroup_memory '$tmp/root.csv'"

# ----------------------------------------------------- not allowed
section "a user who may not make a cgroup"
chmod 1777 "$tmp"
mkdir "$CG/users"
(echo "$BASHPID" > "$CG/users/cgroup.procs" &&
	exec setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$VMPROF" run -o "$tmp/user.csv" -- true) > "$tmp/user.out" 2>&1
is "vmprof run as nobody exits 0" "$?" 0
grep -v '^ ' "$tmp/user.out" | diag
check "it says the command stays in vmprof's cgroup, and why" \
	grep -q "^vmprof run: the command stays in vmprof's cgroup (.*: not allowed here" "$tmp/user.out"
check "and the file has the system's pressure, not the cgroup's" \
	sh -c "grep -q '^# pressure time_ns=' '$tmp/user.csv' && ! grep -q cgroup_memory '$tmp/user.csv'"
(echo "$BASHPID" > "$CG/users/cgroup.procs" &&
	exec "$VMPROF" run --no-cgroup -o "$tmp/nocg.csv" -- true) > "$tmp/nocg.out" 2>&1
is "--no-cgroup: exits 0" "$?" 0
check "--no-cgroup: no cgroup pressure, and nothing said" \
	sh -c "! grep -q cgroup_memory '$tmp/nocg.csv' && ! grep -q \"stays in vmprof's cgroup\" '$tmp/nocg.out'"
done_testing
