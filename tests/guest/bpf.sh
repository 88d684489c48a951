#!/bin/bash
# libvmprof's BPF backend, without the module: vmprof run's records against
# wait4's rusage (one process, threads, trees) with each program variant
# the kernel takes, the tools' errors, and, where the module is loaded
# too, the two backends' records of one process side by side.  As root:
# natively on the host (tests/bpf.test) or in the lab VM
# (tests/vm-bpf.test, on every kernel of the matrix).
# Usage: bpf.sh VMPROF_T VMPROF_KO BUILDDIR (the first two unused: the
# arguments of every guest script).  The comparison runs when the module
# is loaded.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=runs.sh
. "$(dirname "$0")/runs.sh"
guest_setup --no-debug-state "$@"
export VMPROF_BACKEND=bpf

# A kernel without BTF (the debug kernel of make check-debug is built
# without it): the BPF sampler cannot run, and the tools must say so and
# name the module.
if [ ! -e /sys/kernel/btf/vmlinux ]; then
	section "a kernel without BTF"
	"$VMPROF" run -o "$tmp/nobtf.csv" -- true 2> "$tmp/nobtf.err"
	is "no BTF: vmprof run exits 1" "$?" 1
	diag "$(cat "$tmp/nobtf.err")"
	check "and says it needs a kernel with BTF" grep -q 'with BTF' "$tmp/nobtf.err"
	check "and names the module as the way" grep -q 'modprobe vmprof' "$tmp/nobtf.err"
	VMPROF_BACKEND='' "$VMPROF" run -o "$tmp/nobtf.csv" -- true 2> /dev/null
	is "with the module loaded, auto still takes it there (exit 0)" "$?" 0
	rm -rf "$tmp"
	done_testing
	exit 0
fi

# ------------------------------------------------------------ variants
# The cheapest variant this kernel takes: bpf_task_from_pid() from a
# syscall program needs 6.10; before, the pids are looked up by hand.
# (The library probes by loading; this is the test's expectation.)
kver=$(uname -r | awk -F. '{ printf "%d", $1 * 1000 + $2 }')
if [ "$kver" -ge 6010 ]; then want=bpf-syscall; else want=bpf-rawtp; fi
"$VMPROF" stats > "$tmp/stats" 2> "$tmp/stats.err"
is "vmprof stats without the module exits 0" "$?" 0
diag "$(cat "$tmp/stats" "$tmp/stats.err")"
is "it names the BPF backend" "$(awk '$1 == "backend" { print $2 }' "$tmp/stats")" bpf
is "and the variant this kernel ($(uname -r)) takes" \
	"$(awk '$1 == "variant" { print $2 }' "$tmp/stats")" "$want"

for v in syscall rawtp; do
	section "variant bpf-$v"
	export VMPROF_BPF_VARIANT=$v
	if [ "$v" = syscall ] && [ "$want" != bpf-syscall ]; then
		"$VMPROF" run -o "$tmp/refused.csv" -- true 2> "$tmp/refused.err"
		is "bpf-syscall before 6.10: vmprof run exits 1" "$?" 1
		check "and says the kernel cannot run it" \
			grep -q '6.1 or later with BTF' "$tmp/refused.err"
		continue
	fi
	# The issue's own case: faults and CPU of one process, 3 s.
	exact "$v-random" 64 R 20000 3
	exact "$v-single" -p 100 32 R 20000 3
	exact "$v-threads" -t 3 -p 100 32 R 20000 3
	tree "$v-pipeline" sh -c "\"$WORK\" -p 0 8 R 2000 1 | cat > /dev/null; seq 1 20000 | sort -n | tail -n 1 > /dev/null"
	for c in vmprof-work cat seq sort tail; do
		is "$v-pipeline: one process ran $c" "$(named "$v-pipeline" $c)" 1
	done
	# 40 children at once, each reaped by the shell between two ticks:
	# their last counts come from the sched_process_free program.
	tree "$v-burst" sh -c "for i in \$(seq 40); do \"$WORK\" -p 0 4 R 200 1 > /dev/null & done; wait"
	is "$v-burst: the 42 processes are recorded (sh, seq, 40 workloads)" \
		"$(csv_col "$tmp/$v-burst.csv" pid | sort -u | wc -l)" 42
	is "$v-burst: no last record lacks its final counts (REAPED)" \
		"$(csv_col "$tmp/$v-burst.csv" flags | grep -c '^[4-7]$')" 0
done
unset VMPROF_BPF_VARIANT

# -------------------------------------------------------------- errors
section errors
# Without root's capabilities: a world-readable copy of the program and
# its library (a clone in root's 0700 home is out of nobody's reach); its
# data file one nobody may open (the file is opened first).
pub=$(mktemp -d) && chmod 755 "$pub" &&
	cp "$B/utils/.libs/vmprof" "$B/utils/.libs/vmprof-monitor" \
		"$B"/lib/.libs/libvmprof.so.2 "$pub"/ &&
	chmod 755 "$pub/vmprof" "$pub/vmprof-monitor" "$pub/libvmprof.so.2"
setpriv --reuid 65534 --regid 65534 --clear-groups \
	env LD_LIBRARY_PATH="$pub" "$pub/vmprof" run -o /dev/null -- true 2> "$tmp/e1"
is "as nobody: vmprof run exits 1" "$?" 1
check "and names the capabilities it needs" grep -q 'CAP_BPF and CAP_PERFMON' "$tmp/e1"
# nobody with CAP_BPF and CAP_PERFMON (ambient: as file capabilities give
# them, without AT_SECURE's loss of LD_LIBRARY_PATH): the sampler runs,
# on nobody's processes only, as the module's kill(2) rule says.
as_nobody_capable() {
	setpriv --reuid 65534 --regid 65534 --clear-groups \
		--inh-caps=+bpf,+perfmon --ambient-caps=+bpf,+perfmon \
		env LD_LIBRARY_PATH="$pub" "$@"
}
# Not every kernel lets those two capabilities load the sampler's
# programs (Linux 6.18 does; in the lab VM Debian's 6.1 and 6.12-rt
# refused them): where it refuses, the refusal must say what is needed,
# and the rule below cannot be exercised there.
as_nobody_capable "$pub/vmprof" run -o /dev/null -- true 2> "$tmp/e6"
rc=$?
diag < "$tmp/e6"
if [ $rc -ne 0 ] && grep -q 'refused its programs' "$tmp/e6"; then
	check "nobody with CAP_BPF and CAP_PERFMON: this kernel refuses the sampler, and vmprof run says what it needs" \
		grep -q 'CAP_BPF and CAP_PERFMON\|with BTF' "$tmp/e6"
else
	is "nobody with CAP_BPF and CAP_PERFMON: vmprof run exits 0" "$rc" 0
	check "and the profile adds up" grep -q 'adds up to wait4' "$tmp/e6"
	sleep 30 &
	roots=$!
	as_nobody_capable "$pub/vmprof-monitor" --backend bpf --pid "$roots" -d 1 \
		-o /dev/null 2> "$tmp/e7"
	is "nobody with the capabilities: monitoring root's process exits 1" "$?" 1
	check "and says it is not permitted" grep -q 'cannot register.*not permitted' "$tmp/e7"
	kill "$roots"
	# shellcheck disable=SC2016 # expanded by the inner sh, as nobody
	as_nobody_capable sh -c '"$0" --backend bpf --pid "$(sh -c "sleep 30 >/dev/null & echo \$!")" -d 1 -o /dev/null' \
		"$pub/vmprof-monitor" 2> "$tmp/e8"
	is "nobody with the capabilities: monitoring its own process exits 0" "$?" 0
	diag < "$tmp/e8"
fi
# A command that does not sample gives its capabilities up: plot's
# gnuplot (a stand-in that records its own) runs without them.
plotdir=$(mktemp -d) && chmod 777 "$plotdir" &&
	cp "$(dirname "$0")/../data/two.csv" "$plotdir/"
# shellcheck disable=SC2016 # the stand-in's own script, verbatim
printf '#!/bin/sh\nawk '"'"'$1 == "CapEff:" || $1 == "CapAmb:" { print $2 }'"'"' /proc/self/status > "%s/caps"\ncat > /dev/null\n' \
	"$plotdir" > "$plotdir/gnuplot" && chmod 755 "$plotdir/gnuplot"
as_nobody_capable env PATH="$plotdir:$PATH" "$pub/vmprof" plot \
	-o "$plotdir/x.png" "$plotdir/two.csv" 2> "$tmp/e9"
is "nobody with the capabilities: vmprof plot gives them up (gnuplot's effective and ambient sets)" \
	"$(tr '\n' ' ' < "$plotdir/caps")" "0000000000000000 0000000000000000 "
rm -rf "$plotdir"
"$VMPROF" register $$ 2> "$tmp/e2"
is "vmprof register without the module exits 1" "$?" 1
check "and says it has no effect without it" grep -q 'modprobe vmprof' "$tmp/e2"
"$VMPROF" run --backend=nope -- true 2> "$tmp/e3"
is "--backend=nope is a usage error" "$?" 2
VMPROF_BACKEND=nope "$VMPROF" run -- true 2> "$tmp/e4"
is "VMPROF_BACKEND=nope: exit 1" "$?" 1
check "and says what it may be" grep -q 'auto, module or bpf' "$tmp/e4"
check "this kernel makes pid namespaces (CONFIG_PID_NS)" unshare --pid --fork true
unshare --pid --fork --mount-proc "$VMPROF" run -- true 2> "$tmp/e5"
is "in a new pid namespace: vmprof run exits 1" "$?" 1
check "and says why" grep -q 'pid namespace' "$tmp/e5"
"$VMPROF" run -o "$tmp/x.csv" -- /nonexistent/cmd 2> /dev/null
is "run of a missing command exits 127" "$?" 127
check "and leaves no data file" test ! -e "$tmp/x.csv"

# An existing data file is kept as FILE.old.
echo old > "$tmp/keep.csv"
"$VMPROF" run -q -o "$tmp/keep.csv" -- true
is "a run into an existing data file exits 0" "$?" 0
check "it is kept as FILE.old, the run's data in FILE" \
	sh -c "test \"\$(cat '$tmp/keep.csv.old')\" = old && grep -q '^# process .*command=true' '$tmp/keep.csv'"
"$MONITOR" --pid $$ -d 0.2 -o "$tmp/keep.csv" 2> /dev/null
is "a monitor into it exits 0" "$?" 0
check "the run's data is FILE.old now" grep -q '^# process .*command=true' "$tmp/keep.csv.old"
# -o never through a symbolic link (as root, in a directory others may
# write); a FIFO with a reader is an output like /dev/null.
echo kept > "$tmp/target"
ln -s "$tmp/target" "$tmp/link.csv"
"$VMPROF" run -q -o "$tmp/link.csv" -- true 2> "$tmp/e8"
is "a run into a symbolic link exits 1" "$?" 1
check "and says it does not write through one" grep -q 'link.csv: it is a symbolic link' "$tmp/e8"
check "and its target is untouched" test "$(cat "$tmp/target")" = kept
# The reader: this shell, on fd 7 (opened read-write, which does not wait
# for a writer), so that it is there before vmprof run opens the FIFO;
# the data, a few hundred bytes, waits in the pipe.
mkfifo "$tmp/fifo"
exec 7<>"$tmp/fifo"
"$VMPROF" run -q -o "$tmp/fifo" -- true
is "a run into a FIFO with a reader exits 0" "$?" 0
dd iflag=nonblock bs=65536 count=1 <&7 > "$tmp/from-fifo" 2> /dev/null
exec 7<&-
check "and the reader gets the data" grep -q '^# process .*command=true' "$tmp/from-fifo"

# ------------------------------------------------ the module beside it
# One process, stopped while both backends take their baseline, then
# sampled by both until it is reaped: every record's sum is the same
# final count minus the same baseline, so the totals are equal exactly.
if [ -e /proc/vmprof/status ]; then
	section "module and BPF side by side"
	sh -c 'kill -STOP $$; exec "$0" -p 100 32 R 20000 3' "$WORK" > /dev/null &
	p=$!
	for _ in $(seq 100); do
		[ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" = T ] && break
		sleep 0.1
	done
	"$MONITOR" --backend=module -u -o "$tmp/side-module.csv" 2> "$tmp/side-module.err" &
	mon_m=$!
	"$VMPROF" register --backend=module "$p"
	is "the module registers it" "$?" 0
	"$MONITOR" --backend=bpf --pid "$p" -u -o "$tmp/side-bpf.csv" 2> "$tmp/side-bpf.err" &
	mon_b=$!
	for _ in $(seq 100); do
		[ -s "$tmp/side-bpf.csv" ] && [ -s "$tmp/side-module.csv" ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -CONT "$p"
	wait "$p"
	is "the workload exits 0" "$?" 0
	wait "$mon_m"
	is "the module's monitor ends with it (exit 0)" "$?" 0
	wait "$mon_b"
	is "the BPF monitor ends with it (exit 0)" "$?" 0
	for col in min_flt maj_flt cpu_ns; do
		m=$(csv_sum "$tmp/side-module.csv" "$col")
		b=$(csv_sum "$tmp/side-bpf.csv" "$col")
		is "side by side: $col, module $m = BPF $b" "$b" "$m"
	done
	is "side by side: both end with one EXITED record" \
		"$(csv_col "$tmp/side-module.csv" flags | tail -n 1) $(csv_col "$tmp/side-bpf.csv" flags | tail -n 1)" "1 1"
	# The two timelines, tick by tick from each one's first record with
	# CPU time (each backend ticks on its own clock).
	busy() { csv_col "$1" cpu_ns | awk '$1 > 0 { b = 1 } b { print }' | head -n 60; }
	paste -d' ' <(busy "$tmp/side-module.csv") <(busy "$tmp/side-bpf.csv") |
		awk '{ printf "#   tick %3d  cpu_ns module %10d  bpf %10d\n", NR, $1, $2 }'
fi

rm -rf "$tmp" "$pub"
done_testing
