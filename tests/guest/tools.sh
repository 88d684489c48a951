#!/bin/bash
# The tools against the real module, as root inside the lab VM: exactness
# of `vmprof run` against the workload's own figures, the monitor with 200
# processes at 20 Hz, and the commands' errors.
# Processes trees: vmprof run follows what the command forks.
# Usage: tools.sh VMPROF_T VMPROF_KO BUILDDIR
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=runs.sh
. "$(dirname "$0")/runs.sh"
guest_setup "$@"

exact single -p 100 32 R 20000 3
exact threads -t 3 -p 100 32 R 20000 3
exact local -p 0 16 L 50000 2

# ----------------------------------------------------- monitor, 200 pids
pids=()
for _ in $(seq 200); do sleep 600 & pids+=("$!"); bg_pids+=("$!"); done
"$VMPROF" register "${pids[@]}"
is "vmprof register of 200 pids" "$?" 0
is "vmprof list shows 200" "$("$VMPROF" list | wc -l)" 200
"$MONITOR" -d 30 -o "$tmp/m200.csv" 2> "$tmp/m200.err"
is "vmprof-monitor exits 0 after 30 s" "$?" 0
diag "$(cat "$tmp/m200.err")"
check "it reports zero lost records" grep -q ', 0 lost' "$tmp/m200.err"
rows=$(grep -vc '^#\|^time' "$tmp/m200.csv")
# A sampler that runs a period late skips ticks (never bursts): on a loaded
# host the TCG guest may skip some.  Every tick samples all 200.
in_range "rows for 200 processes at 20 Hz for 30 s" "$rows" $((200 * 450)) $((200 * 602))
is "every tick sampled all 200 processes" $((rows % 200)) 0
is "the monitor named each of the 200 from /proc/PID/cmdline" \
	"$(grep -c '^# process pid=[0-9]* command=sleep 600$' "$tmp/m200.csv")" 200
"$VMPROF" report --format tsv "$tmp/m200.csv" > "$tmp/m200.tsv"
is "vmprof report's total has every row as a sample" \
	"$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } $c["pid"] == 0 { print $c["samples"] }' "$tmp/m200.tsv")" "$rows"
"$VMPROF" stats > "$tmp/stats"
diag "$(cat "$tmp/stats")"
"$MONITOR" -a -d 1 -o "$tmp/agg.csv" 2>/dev/null
is "aggregate rows sum 200 processes" \
	"$(csv_col "$tmp/agg.csv" nr_pids | sort -u)" 200
# Debian's kernels have PSI on: its totals at every tick, a second's.
np=$(grep -c '^# pressure time_ns=[0-9]* memory_some_us=[0-9]* memory_full_us=[0-9]* cpu_some_us=[0-9]* io_some_us=[0-9]* io_full_us=[0-9]*$' "$tmp/agg.csv")
in_range "the monitor wrote a pressure line a tick (1 s: 20 ticks, and the first and last)" "$np" 10 30
check "and the report gives the stall over them" \
	grep -q '^pressure stall (PSI, the whole system) over [0-9.]* s:' <("$VMPROF" report "$tmp/agg.csv")
# Through a pipe, each tick's rows leave when the tick is read, not when
# a buffer fills (256 KiB: minutes of one process's rows): head gets its
# two rows and the monitor ends on the broken pipe, long before the
# time-out.
timeout 60 sh -c "\"\$1\" --pid ${pids[0]} 2>/dev/null | grep --line-buffered -v '^# pressure' | head -n 6 > \"\$2\"" \
	sh "$MONITOR" "$tmp/pipe.csv"
is "a reader through a pipe gets rows tick by tick (not timed out)" "$?" 0
is "it got the format line, the header, the clock line, the process line and two rows (pressure lines aside)" \
	"$(grep -c '^#' "$tmp/pipe.csv") $(grep -c '^[0-9]' "$tmp/pipe.csv") $(grep -c '^# clock ' "$tmp/pipe.csv")" "3 2 1"
"$VMPROF" unregister "${pids[@]}"
is "vmprof unregister of 200 pids" "$?" 0
cleanup_bg

# ------------------------------------------------------ process trees
tree pipeline sh -c "\"$WORK\" -p 0 8 R 2000 1 | cat > /dev/null; seq 1 20000 | sort -n | tail -n 1 > /dev/null"
for c in vmprof-work cat seq sort tail; do
	is "pipeline: one process ran $c" "$(named pipeline $c)" 1
done
is "pipeline: each process's ppid is the shell's" \
	"$(awk -F, '/^#/ { next } !h { for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next }
		!r { r = $c["pid"] } $c["pid"] != r { p[$c["ppid"]] = 1 } END { for (x in p) print (x == r) }' \
		"$tmp/pipeline.csv" | sort -u)" 1

# make -j2 of a tree of 4 C files: every compiler process is recorded.
mkdir -p "$tmp/mk"
for i in 1 2 3 4; do
	printf 'int f%d(int x) { return x * %d; }\n' $i $i > "$tmp/mk/f$i.c"
done
printf 'int main(void) { return 0; }\n' > "$tmp/mk/main.c"
printf 'prog: main.o f1.o f2.o f3.o f4.o\n\tcc -o $@ $^\n%%.o: %%.c\n\tcc -O1 -c $<\n' > "$tmp/mk/Makefile"
tree make make -s -j2 -C "$tmp/mk"
check "make: the program was built" test -x "$tmp/mk/prog"
is "make: five compilers proper (cc1) recorded" "$(named make cc1)" 5
is "make: five assemblers recorded" "$(named make as)" 5
is "make: one linker recorded" "$(named make ld)" 1
# The report by command and by tree (tests/tools-golden.test checks their
# sums on a file written by hand; here, on make's).
# by_col FILE KEY-COLUMN KEY COLUMN: COLUMN of the TSV report's row whose KEY-COLUMN is KEY
by_col() {
	awk -F'\t' -v k="$2" -v key="$3" -v name="$4" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c[k] == key { print $c[name] }' "$1"
}
"$VMPROF" report --by command -f tsv "$tmp/make.csv" > "$tmp/make.bycmd"
is "make: report --by command: cc1, one line of five processes" \
	"$(by_col "$tmp/make.bycmd" command cc1 processes)" 5
is "make: report --by command: as, one line of five processes" \
	"$(by_col "$tmp/make.bycmd" command as processes)" 5
"$VMPROF" report --by tree -f tsv "$tmp/make.csv" > "$tmp/make.bytree"
"$VMPROF" report -f tsv "$tmp/make.csv" > "$tmp/make.byproc"
is "make: report --by tree: one tree, make's, of every process recorded" \
	"$(($(wc -l < "$tmp/make.bytree") - 2)) $(by_col "$tmp/make.bytree" pid "$(csv_col "$tmp/make.csv" pid | head -n 1)" processes)" \
	"1 $(csv_col "$tmp/make.csv" pid | sort -u | wc -l)"
is "make: the tree's minor faults and CPU are the processes' total" \
	"$(by_col "$tmp/make.bytree" pid 0 min_flt) $(by_col "$tmp/make.bytree" pid 0 cpu_s)" \
	"$(by_col "$tmp/make.byproc" pid 0 min_flt) $(by_col "$tmp/make.byproc" pid 0 cpu_s)"

# 200 children forked at once, all exiting at once.
tree burst "$T" forktree 200 40
# Every process forktree lists ("proc PID PPID" on its standard output,
# which vmprof run passes through) is in the data file.  (Under the
# sanitizers there is one more: LeakSanitizer's tracer, which it clones
# at exit, and which vmprof rightly follows.)
is "burst: the 201 processes forktree lists are all recorded" \
	"$(awk -F, 'FNR == NR { if ($0 ~ /^proc /) { split($0, a, " "); want[a[2]] = 1; n++ } next }
		/^#/ { next } !h { for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next }
		{ seen[$c["pid"]] = 1 } END { for (p in want) k += (p in seen); print k + 0 "/" n + 0 }' \
		"$tmp/burst.out" "$tmp/burst.csv")" 201/201

# --no-children: the command alone.
"$VMPROF" run --no-children -o "$tmp/alone.csv" -- sh -c 'true; sleep 0.2; true' 2>/dev/null
is "--no-children: exit 0" "$?" 0
is "--no-children: one process recorded" "$(csv_col "$tmp/alone.csv" pid | sort -u | wc -l)" 1

# vmprof register --children: a running shell's future children.
sh -c 'while :; do sleep 0.1; done' &
bg_pids+=("$!")
loop=$!
i0=$(stat_value inherited)
"$VMPROF" register --children "$loop"
is "vmprof register --children exits 0" "$?" 0
sleep 2
inh=$(($(stat_value inherited) - i0))
in_range "the shell's sleeps were registered at fork" "$inh" 5 40
"$VMPROF" unregister "$loop"
kill "$loop"
cleanup_bg

# ---------------------------------------------------------- errors
"$VMPROF" register 4194000 2> "$tmp/e1"
is "register of a missing pid exits 1" "$?" 1
check "and says so" grep -q 'no such process' "$tmp/e1"
"$VMPROF" register abc 2> "$tmp/e2"
is "register of junk exits 2 (usage)" "$?" 2
spawn_sleeper
"$VMPROF" register "$sleeper"; "$VMPROF" register "$sleeper" 2> "$tmp/e3"
check "a second register says already registered" grep -q 'already registered' "$tmp/e3"
"$VMPROF" unregister "$sleeper"
# nobody may not be able to reach the build tree (a clone in root's 0700
# home): a world-readable copy of the program and its library.
pub=$(mktemp -d) && chmod 755 "$pub" &&
	cp "$B/utils/.libs/vmprof" "$B"/lib/.libs/libvmprof.so.2 "$pub"/ &&
	chmod 755 "$pub/vmprof" "$pub/libvmprof.so.2"
setpriv --reuid 65534 --regid 65534 --clear-groups \
	env LD_LIBRARY_PATH="$pub" "$pub/vmprof" register 1 2> "$tmp/e4"
check "nobody registering init: not permitted" grep -q 'not permitted' "$tmp/e4"
"$VMPROF" run -o "$tmp/x.csv" -- /nonexistent/cmd 2> "$tmp/e5"
is "run of a missing command exits 127" "$?" 127
"$VMPROF" run -o "$tmp/f.csv" -- sh -c 'exit 7' 2>/dev/null
is "run returns the command's exit status" "$?" 7
"$VMPROF" run -q -o /dev/full -- "$WORK" -p 0 4 R 100 1 > /dev/null 2> "$tmp/e6"
check "a full disk is an error, not a silent loss" grep -q 'error writing' "$tmp/e6"
rmmod vmprof
"$VMPROF" list 2> "$tmp/e7"
is "without the module: exit 1" "$?" 1
check "and a hint to load it" grep -q 'modprobe vmprof' "$tmp/e7"
insmod "$VMPROF_KO"

check_dmesg
done_testing
rm -rf "$tmp" "$pub"
