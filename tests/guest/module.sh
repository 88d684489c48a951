#!/bin/bash
# Functional tests of vmprof.ko, run as root inside the lab VM with the
# module loaded: registration, every error, sampling, exit, the ring.
# Usage: module.sh VMPROF_T VMPROF_KO
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
guest_setup "$@"

# ---------------------------------------------------------------- files
section "files"
is "status file is mode 0666" "$(stat -c %a $STATUS)" 666
is "stats file is mode 0444" "$(stat -c %a $STATS)" 444
is "/dev/vmprof is a read-only character device" \
	"$(stat -c '%F %a' /dev/vmprof)" "character special file 444"
is "nothing registered after load" "$(registered)" ""

# ------------------------------------------------- register / deregister
section "register / deregister"
spawn_sleeper; a=$sleeper
spawn_sleeper; b=$sleeper
check "echo R a > status succeeds" sh -c "echo R $a > $STATUS"
is "cat status lists a" "$(cat $STATUS)" "$a"
is "R b without newline, in one write" "$("$T" write "R $b")" OK
is "cat status lists a and b, one per line" "$(registered)" "$a $b"
is "stats counts two registered" "$(stat_value registered)" 2
is "U a with blanks and a newline" "$("$T" write "  U	$a  
")" OK
is "only b is left" "$(registered)" "$b"
is "U b" "$("$T" write "U $b")" OK
is "empty again" "$(registered)" ""

# --------------------------------------------------------------- errors
section "errors"
"$T" write "R $a" >/dev/null
errcase() {	# errcase DESCRIPTION WANT ARGS...
	local desc=$1 want=$2
	shift 2
	is "$desc" "$("$T" "$@")" "$want"
}
errcase "unknown command: EINVAL" EINVAL write "X $b"
errcase "no pid: EINVAL" EINVAL write "R"
errcase "no pid but a newline: EINVAL" EINVAL write "R
"
errcase "letters: EINVAL" EINVAL write "R abc"
errcase "negative pid: EINVAL" EINVAL write "R -5"
errcase "pid 0: EINVAL" EINVAL write "R 0"
errcase "pid past PID_MAX_LIMIT: EINVAL" EINVAL write "R 99999999999"
errcase "two pids: EINVAL" EINVAL write "R $b $b"
errcase "no blank after R: EINVAL" EINVAL write "R$b"
errcase "lower case r: EINVAL" EINVAL write "r $b"
errcase "two commands in one write: EINVAL" EINVAL write "R $b
U $b
"
errcase "two newlines: EINVAL" EINVAL write "R $b

"
errcase "empty write: EINVAL" EINVAL write ""
errcase "NUL inside: EINVAL" EINVAL writehex "5220310031"
errcase "trailing NUL: EINVAL" EINVAL writehex "52203100"
errcase "high bytes: EINVAL" EINVAL writehex "5220ff31"
errcase "32 bytes (over the limit): EINVAL" EINVAL write \
	"R $b$(printf '%*s' $((32 - 2 - ${#b})) '')"
errcase "31 bytes of blanks around a command are fine" OK write \
	"R $b$(printf '%*s' $((31 - 2 - ${#b})) '')"
"$T" write "U $b" >/dev/null
errcase "4096 bytes: EINVAL" EINVAL write "$(head -c 4096 /dev/zero | tr '\0' ' ')R 1"
errcase "no such process: ESRCH" ESRCH write "R 4194000"
errcase "already registered: EEXIST" EEXIST write "R $a"
errcase "unregister a process not registered: ENOENT" ENOENT write "U $b"
errcase "unregister a pid that does not exist: ENOENT" ENOENT write "U 4194000"
errcase "nobody may not watch init: EPERM" EPERM write --uid 65534 "R 1"
errcase "nobody may not unregister root's process: EPERM" EPERM write \
	--uid 65534 "U $a"
setpriv --reuid 65534 --regid 65534 --clear-groups sleep 600 &
bg_pids+=("$!")
nob=$!
# Wait until setpriv has changed its uid (slow to start under load).
for _ in $(seq 200); do
	[ "$(awk '/^Uid:/ { print $2 }' /proc/$nob/status)" = 65534 ] && break
	sleep 0.05
done
errcase "nobody may watch its own process" OK write --uid 65534 "R $nob"
errcase "nobody may unregister it" OK write --uid 65534 "U $nob"
is "failed writes left the registration alone" "$(registered)" "$a"
"$T" write "U $a" >/dev/null

old_max=$(cat $PARAMS/max_pids)
echo 3 > $PARAMS/max_pids
pids=()
for _ in 1 2 3 4; do spawn_sleeper; pids+=("$sleeper"); done
for p in "${pids[@]:0:3}"; do "$T" write "R $p" >/dev/null; done
errcase "over max_pids: ENOSPC" ENOSPC write "R ${pids[3]}"
is "the three are still registered" "$(registered)" "${pids[*]:0:3}"
for p in "${pids[@]:0:3}"; do "$T" write "U $p" >/dev/null; done
echo "$old_max" > $PARAMS/max_pids

# ----------------------------------------------------------------- mmap
section "mmap"
"$T" mmapcheck > "$tmp/mmap" 2>&1
check "writable, oversized and out-of-range mappings are refused" \
	test $? -eq 0
sed 's/^/#   /' "$tmp/mmap"

# ------------------------------------------------------------- sampling
section "sampling"
# A process that touches N fresh pages: its records sum to N minor faults
# (plus the few of its own exit path), and its last record says EXITED.
pages=8000
"$T" touch $pages 300 1000 > "$tmp/touch.out" &
tp=$!
"$T" read --pid $tp --until-exit $tp --ms 60000 > "$tmp/touch.rec"
wait $tp
diag "$(cat "$tmp/touch.out")"
sum_min=$(awk '$1 == "rec" { s += $6 } END { print s + 0 }' "$tmp/touch.rec")
nrec=$(grep -c '^rec' "$tmp/touch.rec")
loop_min=$(awk '{ print $4 }' "$tmp/touch.out")
is "the loop itself took one minor fault per page (getrusage)" "$loop_min" $pages
in_range "minor faults recorded for the touching process" "$sum_min" $pages $((pages + 64))
check "several records for it ($nrec)" test "$nrec" -ge 3
last_flags=$(awk '$1 == "rec" { f = $10 } END { print f }' "$tmp/touch.rec")
is "its last record is flagged EXITED" "$((last_flags & 1))" 1
is "first record is not flagged" \
	"$(awk '$1 == "rec" { print $10; exit }' "$tmp/touch.rec")" 0
is "an exited process leaves the status list" "$(registered)" ""
sum_maj=$(awk '$1 == "rec" { s += $7 } END { print s + 0 }' "$tmp/touch.rec")
is "no major faults without swap" "$sum_maj" 0
max_rss=$(awk '$1 == "rec" && $8 > m { m = $8 } END { print m + 0 }' "$tmp/touch.rec")
in_range "resident set size seen (KiB)" "$max_rss" $((pages * 4)) $((pages * 4 + 8192))
is "reader lost nothing" "$(awk '$1 == "lost" { print $2 }' "$tmp/touch.rec")" 0

# exec gives a process a new mm: the sampler follows it (it keeps a
# reference to the mm it last saw), so the RSS is the new program's.  A
# shell registered, then exec'd into vmprof-work writing 64 MiB.
WORK=$(dirname "$T")/../utils/vmprof-work
sh -c 'sleep 0.5; exec "$1" --prefault -p 300 64 R 1000 2' sh "$WORK" \
	> "$tmp/exec.out" &
ep=$!
"$T" write "R $ep" > /dev/null
"$T" read --pid $ep --until-exit $ep --ms 60000 > "$tmp/exec.rec"
wait $ep
# Before: the records before the first one named vmprof-work.  (One may
# show 0 KiB: a sample landing in an exec, into sh or into vmprof-work,
# reads the new mm's counters before its first pages are folded into
# them, as /proc/PID/statm would; seen on the debug kernel.)
rss_before=$(awk '$1 == "rec" { if ($12 == "vmprof-work") exit; printf "%s%s %s", n++ ? ", " : "", $12, $8 }' "$tmp/exec.rec")
rss_first=$(awk '$1 == "rec" { if ($12 == "vmprof-work") exit; if ($8 > m) m = $8 } END { print m + 0 }' "$tmp/exec.rec")
rss_max=$(awk '$1 == "rec" && $8 > m { m = $8 } END { print m + 0 }' "$tmp/exec.rec")
diag "exec: before it (comm, KiB): $rss_before; at most $rss_max KiB after"
in_range "before exec, the shell's largest RSS (KiB)" "$rss_first" 1 16384
in_range "after exec, the new program's 64 MiB (KiB)" "$rss_max" 65536 $((65536 + 16384))
is "its last record is flagged EXITED" \
	"$(awk '$1 == "rec" { f = $10 } END { print f % 2 }' "$tmp/exec.rec")" 1

# U writes a final record so nothing done since the last tick is lost.
spawn_sleeper; s=$sleeper
"$T" read --pid $s --until-exit $s --ms 20000 > "$tmp/unreg.rec" &
rp=$!
sleep 0.3
"$T" write "R $s" >/dev/null
sleep 0.3
"$T" write "U $s" >/dev/null
wait $rp
is "U leaves a last record flagged UNREGISTERED" \
	"$(awk '$1 == "rec" { f = $10 } END { print f }' "$tmp/unreg.rec")" 2

# -------------------------------------------------------- process trees
section "process trees"
# "R <pid> +" registers a process and everything it forks, at fork.
is "stats: the fork hook is attached" "$(stat_value fork_hook)" 1
spawn_sleeper; g=$sleeper
errcase "R pid +: OK" OK write "R $g +"
is "stats: one process followed" "$(stat_value inheriting)" 1
errcase "R pid + again: EEXIST" EEXIST write "R $g +"
errcase "R pid after R pid +: EEXIST" EEXIST write "R $g"
errcase "U pid +: EINVAL" EINVAL write "U $g +"
"$T" write "U $g" >/dev/null
is "stats: none followed after U" "$(stat_value inheriting)" 0
errcase "+ with no blank before it: EINVAL" EINVAL write "R $g+"
errcase "two +: EINVAL" EINVAL write "R $g + +"
errcase "+ before the pid: EINVAL" EINVAL write "R + $g"
errcase "+ and more: EINVAL" EINVAL write "R $g +x"
errcase "tabs and a newline around +: OK" OK write "R $g	+ 
"
"$T" write "U $g" >/dev/null

# tree_case NAME N PAGES DEPTH: vmprof-t forktree forks N children at
# once, each a chain of DEPTH processes touching PAGES pages and spinning
# 2 ms.  Every process of the tree has exactly one last record (EXITED),
# carrying its forker's pid, and the records of the tree below the forker
# add up to the forker's getrusage(RUSAGE_CHILDREN), which counts every
# descendant reaped: faults exactly.  CPU time too, except that a child
# its parent reaps before its last switch off the CPU runs a little more
# than wait4 saw, which vmprof counts: never less than rusage's (which is
# in microseconds, truncated for user and system time each), and not much
# more (tail_bound, lib.sh).
# forktree_run TAG ARGS...: vmprof-t forktree ARGS > TAG.out, its
# records and its children's > TAG.rec, read until the forker's last
# record is in (flast=1, or 0 if it did not come in a minute); fp is the
# forker, fst its exit status.
forktree_run() {
	local f=$tmp/$1 rp
	shift
	"$T" read --until-file "$f.stop" --ms 300000 > "$f.rec" &
	rp=$!
	sleep 0.3
	"$T" forktree "$@" > "$f.out" &
	fp=$!
	wait $fp
	fst=$?
	flast=0
	for _ in $(seq 600); do
		awk -v p=$fp '$1 == "rec" && $9 == p && $10 % 2 == 1 { f = 1 } END { exit !f }' \
			"$f.rec" && { flast=1; break; }
		sleep 0.1
	done
	touch "$f.stop"
	wait $rp
}
tree_case() {
	local name=$1 n=$2 pages=$3 depth=$4 f=$tmp/tree.$1 i0
	i0=$(stat_value inherited)
	forktree_run "tree.$name" "$n" "$pages" "$depth"
	is "$name: forktree exited 0" "$fst" 0
	is "$name: the forker's last record (EXITED) came while the reader ran" "$flast" 1
	is "$name: processes in the tree" "$(grep -c '^proc' "$f.out")" $((n * depth + 1))
	is "$name: stats counts those registered at fork" \
		$(($(stat_value inherited) - i0)) $((n * depth))
	# One EXITED record per process below the forker, with its forker's pid.
	is "$name: every child's last record is EXITED, with its parent's pid" \
		"$(awk -v fp=$fp '
			FNR == NR { if ($1 == "proc" && $2 != fp) want[$2] = $3; next }
			$1 == "rec" && ($9 in want) && $10 == 1 {
				if ($11 == want[$9]) ok[$9]++; else bad++
			}
			END {
				for (p in want) if (ok[p] != 1) bad++
				print bad + 0
			}' "$f.out" "$f.rec")" 0
	is "$name: the children's records are named vmprof-t (comm)" \
		"$(awk -v fp=$fp '$1 == "rec" && $9 != fp { print $12 }' "$f.rec" | sort -u)" vmprof-t
	is "$name: the forker's records carry its parent's pid" \
		"$(awk -v fp=$fp '$1 == "rec" && $9 == fp { print $11; exit }' "$f.rec")" $$
	read -r _ cmin cmaj ccpu < <(grep '^children' "$f.out")
	read -r rmin rmaj rcpu < <(awk -v fp=$fp '
		FNR == NR { if ($1 == "proc" && $2 != fp) in_tree[$2] = 1; next }
		$1 == "rec" && ($9 in in_tree) { c += $5; mi += $6; ma += $7 }
		END { printf "%.0f %.0f %.0f\n", mi, ma, c }' "$f.out" "$f.rec")
	diag "$name: recorded $rmin minor, $rmaj major, $rcpu ns; RUSAGE_CHILDREN $cmin, $cmaj, $ccpu ns"
	is "$name: minor faults add up to RUSAGE_CHILDREN" "$rmin" "$cmin"
	is "$name: major faults add up to RUSAGE_CHILDREN" "$rmaj" "$cmaj"
	in_range "$name: CPU ns minus RUSAGE_CHILDREN's" $((rcpu - ccpu)) 0 "$(tail_bound $((n * depth)) "$ccpu")"
	is "$name: the reader lost nothing" "$(awk '$1 == "lost" { print $2 }' "$f.rec")" 0
}
tree_case burst 200 40 1
tree_case depth 5 20 3
is "the whole trees left the registry" "$(registered)" ""
is "stats: none followed at the end" "$(stat_value inheriting)" 0

# max_pids bounds the tree: with 5, the forker and 4 of its 10 children
# (alive at once) are registered, and the 6 others are refused and counted.
old_max=$(cat $PARAMS/max_pids)
echo 5 > $PARAMS/max_pids
r0=$(stat_value inherit_refused)
forktree_run max 10 10 1
echo "$old_max" > $PARAMS/max_pids
is "max_pids 5: the forker's last record came" "$flast" 1
is "max_pids 5: 6 forks refused, counted in stats" $(($(stat_value inherit_refused) - r0)) 6
is "max_pids 5: 5 processes have records" \
	"$(awk '$1 == "rec" { p[$9] = 1 } END { print length(p) }' "$tmp/max.rec")" 5

# --------------------------------------------------------- many readers
section "many readers"
for _ in 1 2 3 4 5; do spawn_sleeper; "$T" write "R $sleeper" >/dev/null; done
for i in 1 2 3; do
	"$T" read --ms 2500 > "$tmp/multi.$i" &
	eval "r$i=\$!"
done
"$T" hold 2 > "$tmp/hold"
# shellcheck disable=SC2154
wait "$r1" "$r2" "$r3"
wakes=$(awk '$1 == "wakes" { print $2 }' "$tmp/hold")
# 40 ticks in 2 s, give or take one at each end; a late tick followed by
# an early one (the absolute schedule catching up) may add one more.
in_range "poll woke a reader once per tick over 2 s" "$wakes" 30 43
for i in 1 2 3; do
	grep '^rec' "$tmp/multi.$i" | sort -n -k2 > "$tmp/multi.$i.rec"
done
# The records all three saw must be identical, byte for byte.
lo=0; hi=999999999999
for i in 1 2 3; do
	f=$(head -n1 "$tmp/multi.$i.rec" | cut -d' ' -f2)
	l=$(tail -n1 "$tmp/multi.$i.rec" | cut -d' ' -f2)
	[ "$f" -gt "$lo" ] && lo=$f
	[ "$l" -lt "$hi" ] && hi=$l
done
for i in 1 2 3; do
	awk -v a="$lo" -v b="$hi" '$2 >= a && $2 <= b' "$tmp/multi.$i.rec" > "$tmp/common.$i"
done
check "three readers at once each got records" \
	test "$(grep -c '^rec' "$tmp/multi.1")" -ge 100 -a \
	"$(grep -c '^rec' "$tmp/multi.2")" -ge 100 -a \
	"$(grep -c '^rec' "$tmp/multi.3")" -ge 100
check "readers agree on the $(wc -l < "$tmp/common.1") records they share" \
	sh -c "test -s '$tmp/common.1' && cmp -s '$tmp/common.1' '$tmp/common.2' && cmp -s '$tmp/common.1' '$tmp/common.3'"
is "no reader lost a record" \
	"$(cat "$tmp"/multi.[123] | awk '$1 == "lost" { s += $2 } END { print s }')" 0

# ----------------------------------------------------------- period change
section "period change"
one=${bg_pids[-1]}
echo 100 > $PARAMS/period_ms
"$T" read --pid "$one" --ms 2200 > "$tmp/p100"
echo 50 > $PARAMS/period_ms
mean100=$(awk '$1 == "rec" { if (n++) { s += $3 - t } t = $3 } END { if (n > 2) printf "%.2f", s / (n - 1) / 1e6 }' "$tmp/p100")
in_range "period_ms=100 at run time: mean interval in ms" "$mean100" 98 102
check "period_ms=5 is refused" sh -c "! echo 5 > $PARAMS/period_ms 2>/dev/null"
check "period_ms=junk is refused" sh -c "! echo junk > $PARAMS/period_ms 2>/dev/null"
is "period unchanged after refusals" "$(cat $PARAMS/period_ms)" 50
is "stats shows the period" "$(stat_value period_ms)" 50
"$T" read --ms 300 > "$tmp/p50"
is "the ring header shows the period" \
	"$(awk '$1 == "period" { print $2 }' "$tmp/p50")" 50
cleanup_bg

# ------------------------------------------------ U during a running tick
section "U during a running tick"
# With 1,000 processes registered a tick samples in batches and hands its
# lock between them to a U that waits for it (in this VM, without
# paravirtual spinlocks, merely letting it go would not do: see
# vmprof_ring_ask()); that U returns at once and the tick writes its
# last record after its own.  R and U of two more processes, as
# fast as they go for 2 s, one writer on each CPU (the tick runs on one of
# them and would hold off a writer on its own): every U must leave exactly
# one last record.  The ring holds all the section writes (about 100,000
# records a second for 4 s), so that a reader the busy writer on its CPU
# holds off cannot lose any, however slow the guest.
reload_module buffer_pages=16384
BENCH=$(dirname "$T")/vmprof-bench
"$BENCH" park 1000 sleep > "$tmp/parked" &
parkp=$!
for _ in $(seq 600); do
	[ "$(wc -l < "$tmp/parked")" -ge 1000 ] && break
	sleep 0.1
done
while read -r p; do echo "R $p"; done < "$tmp/parked" > $STATUS
is "1,000 more processes registered" "$(stat_value registered)" 1000
# Ticks every 10 ms: a fifth of the time is spent walking the list.
echo 10 > $PARAMS/period_ms
d0=$(stat_value last_deferred)
wp=() rp=() sl=()
for cpu in 0 1; do
	spawn_sleeper
	sl+=("$sleeper")
	"$T" read --pid "$sleeper" --until-file "$tmp/stop" --ms 120000 \
		> "$tmp/during.$cpu" &
	rp+=("$!")
done
sleep 0.5
for cpu in 0 1; do
	taskset -c "$cpu" "$BENCH" wlat "${sl[$cpu]}" 2000 > "$tmp/wlat.$cpu" &
	wp+=("$!")
done
wait "${wp[@]}"
# Every last record is out by the end of the tick after the last U.  Back
# to 50 ms before the readers drain what they are behind by: on the debug
# kernel a tick of 1,000 processes takes longer than 10 ms, and the
# sampler's kworker (nice -20) would hold its CPU for as long as they take.
sleep 0.5
echo 50 > $PARAMS/period_ms
touch "$tmp/stop"
wait "${rp[@]}"
d1=$(stat_value last_deferred)
diag "$(cat "$tmp/wlat.0") / $(cat "$tmp/wlat.1"); last_deferred $d0 -> $d1"
if [ -e /sys/kernel/realtime ]; then
	# PREEMPT_RT: ring_lock is a sleeping lock there, and the sampler
	# may take it back at a batch boundary before the waiting U runs
	# (lock stealing), so that U waits for the rest of the walk: some
	# runs defer U's, some none.  A known issue (README), not asserted.
	diag "PREEMPT_RT: U's deferred to a running tick: $((d1 - d0)) (not asserted, see README)"
else
	check "some U came during a tick and left its last record to it" \
		test "$d1" -gt "$d0"
fi
for cpu in 0 1; do
	writes=$(awk '{ print $2 }' "$tmp/wlat.$cpu")
	is "writer on CPU $cpu: one last record (UNREGISTERED) per U" \
		"$(awk '$1 == "rec" && $10 == 2' "$tmp/during.$cpu" | wc -l)" $(((writes + 1) / 2))
	is "its reader lost nothing" "$(awk '$1 == "lost" { print $2 }' "$tmp/during.$cpu")" 0
done
while read -r p; do echo "U $p"; done < "$tmp/parked" > $STATUS
kill $parkp
wait $parkp
is "all unregistered" "$(stat_value registered)" 0
cleanup_bg

# -------------------------------------------------- ring overflow, lost
section "ring overflow, lost"
# A ring of one page holds 32 records (max_pids is lowered to 16, two
# ticks' worth); 16 processes at 20 Hz write 320 a second, and a reader
# that sleeps a second between looks loses most.
reload_module buffer_pages=1
is "stats shows a ring of 32 records" "$(stat_value capacity)" 32
is "max_pids lowered to half the ring" "$(stat_value max_pids)" 16
for _ in $(seq 16); do spawn_sleeper; "$T" write "R $sleeper" >/dev/null; done
h0=$(stat_value head)
"$T" read --sleep-ms 1000 --ms 3000 > "$tmp/slow"
h1=$(stat_value head)
got=$(grep -c '^rec' "$tmp/slow")
lost=$(awk '$1 == "lost" { print $2 }' "$tmp/slow")
start=$(awk '$1 == "start" { print $2 }' "$tmp/slow")
endseq=$(awk '$1 == "rec" { s = $2 } END { print s }' "$tmp/slow")
gaps=$(awk '$1 == "rec" { if (n++ && $2 != p + 1) g += $2 - p - 1; else if (n == 1) g += $2 - '"$start"'; p = $2 } END { print g + 0 }' "$tmp/slow")
diag "head $h0 -> $h1, read from $start to $endseq: got $got, lost $lost"
check "a slow reader loses records when the ring overflows" test "$lost" -gt 0
is "lost count equals the gaps in the sequence numbers" "$gaps" "$lost"
is "received + lost = every record from start to the last read" \
	$((got + lost)) $((endseq - start + 1))
is "the reader read up to the head it saw last" \
	"$(awk '$1 == "end" { print $2 }' "$tmp/slow")" $((endseq + 1))
is "stats: records written = head" \
	"$(awk '$1 == "records" { r = $2 } $1 == "head" { h = $2 } END { print r - h }' $STATS)" 0
cleanup_bg
reload_module

# ------------------------------------------------------------------ end
check_dmesg
done_testing
rm -rf "$tmp"
