#!/bin/bash
# Exact on every real process tree: vmprof run of real workloads (posix_spawn,
# vfork, forks from threads, deep shells, pipelines, xargs -P, a Python
# multiprocessing pool, a burst of 1,000 short children, a daemon that
# outlives the command, a subreaper, a real C build) against the kernel's
# own figures.  For each workload:
#   - the records of the processes that ended during the run, plus what
#     the command did before its registration, add up to wait4's rusage:
#     faults exactly, CPU time within verdict_bound (below).  A process still
#     running when the command ended (the daemon's grandchild) ends with an
#     UNREGISTERED (2) record instead of EXITED (1), and wait4 does not
#     count it: it is left out of the sums and checked on its own;
#   - every other process's last record says it exited;
#   - the processes with records are exactly the processes an independent
#     observer saw created under the command: the task_newtask events
#     (CLONE_THREAD tells threads from processes) of a tracefs instance of
#     this script's own, with each event's forker TGID (record-tgid).
# As root: natively (tests/exact.test, the BPF backend) or in the lab VM
# (tests/vm-exact.test, the module and then the BPF backend).
#
# Usage: exact.sh VMPROF_T VMPROF_KO BUILDDIR [PASS...] (the first two
# unused: the arguments of every guest script).  Each PASS runs the whole
# suite once, its test points named after it:
#   module        VMPROF_BACKEND=module
#   bpf           VMPROF_BACKEND=bpf, the variant and final counts the
#                 library picks (or the environment's)
#   bpf-syscall, bpf-rawtp  that variant (VMPROF_BPF_VARIANT); on a kernel
#                 that does not take it, the check that vmprof run refuses
#   bpf-VARIANT/hold, bpf-VARIANT/release, bpf-VARIANT/free  and the final
#                 counts from there (VMPROF_BPF_FINALS): a reference held
#                 to the process (bpf-syscall only), fentry on release_task,
#                 or sched_process_free; where the kernel cannot (hold with
#                 bpf-rawtp, release where release_task cannot be traced),
#                 the check that vmprof run refuses
#   bpf-variants  bpf-syscall and bpf-rawtp, those this kernel takes (none
#                 without BTF)
#   bpf-fallback  bpf-rawtp/free where this kernel could need it (before
#                 6.10: no reference held); nothing from 6.10
# A PASS named more than once runs again, its test points named after the
# run ("bpf, run 2").
#   drop          the BPF backend ignoring every 10th fork
#                 (VMPROF_TEST_DROP_FORKS=10, a test-only knob) on two
#                 workloads: the checks must see it, and vmprof run
#                 --strict must exit 125; without it --strict exits 0
# Without a PASS: one pass with the environment's VMPROF_BACKEND.
# EXACT_SCALE=full (the default) builds a configured copy of this project
# (make distdir from BUILDDIR) under vmprof run, configure and make -j2;
# small (the VM under TCG) a make -j2 of a few generated C files instead.
# EXACT_FREE_REAPED=allow: in a pass whose final counts come from
# sched_process_free, a process without them (REAPED) is allowed if
# vmprof run's verdict names it; by default every sum must be exact there
# too.  tests/exact.test sets it natively (README: where final counts come
# from: this host's kernel does not run the program for every free).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=runs.sh
. "$(dirname "$0")/runs.sh"
guest_setup --no-debug-state "$@"
shift 3
FORKS=$B/tests/vmprof-forks
SCALE=${EXACT_SCALE:-full}
# The builds below are make's own, not the caller's (make check's jobserver).
unset MAKEFLAGS MFLAGS MAKELEVEL
passes=("$@")
given=$#
[ "$given" -gt 0 ] || passes=("${VMPROF_BACKEND:-auto}")
t_start=$SECONDS
# The pass takes final counts from sched_process_free and may end
# processes REAPED (set by run_pass, from EXACT_FREE_REAPED).
free=0

# ------------------------------------------------------------ observer
# A tracefs instance of our own: the creation of every task (task_newtask:
# the new pid, its clone flags; record-tgid: the forker's TGID) and every
# exec (sched_process_exec: to find vmprof run's own exec, after the
# libtool wrapper's, and to name processes in diagnostics), on the global
# clock (one order across CPUs).
INST=$TRACEFS/instances/vmprof-exact-$$
observer=0
observer_start() {
	mountpoint -q $TRACEFS || mount -t tracefs nodev $TRACEFS || return 1
	mkdir "$INST" || return 1
	echo 8192 > "$INST/buffer_size_kb" &&
		echo global > "$INST/trace_clock" &&
		echo 1 > "$INST/options/record-tgid" &&
		echo 1 > "$INST/events/task/task_newtask/enable" &&
		echo 1 > "$INST/events/sched/sched_process_exec/enable"
}
observer_stop() {
	[ -d "$INST" ] || return 0
	echo 0 > "$INST/events/enable" 2>/dev/null
	: > "$INST/trace" 2>/dev/null
	rmdir "$INST" || diag "cannot remove the tracefs instance $INST"
}
cleanup() {
	cleanup_bg
	observer_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
if observer_start; then
	observer=1
	ok "a tracefs instance of its own records task_newtask with the forker's TGID"
else
	not_ok "a tracefs instance of its own records task_newtask with the forker's TGID"
fi

# lost_events: the events the instance's buffer lost since it was cleared
lost_events() {
	cat "$INST"/per_cpu/cpu*/stats 2>/dev/null |
		awk '/^(overrun|commit overrun|dropped events):/ { s += $NF } END { print s + 0 }'
}

# tree_of TRACE VPID: the processes (not threads) created under the process
# that vmprof run (pid VPID) forked after its last exec, the command, and
# the command itself, one "pid name" a line (name: the last exec's file,
# else "[comm]" of the forker).  One pass in time order: a process is of
# the tree if its forker's process is, at that time (a reused pid is
# another process).  Lines "# ..." say what went wrong.
tree_of() {
	awk -v V="$2" '
	function parse() {
		if (!match($0, /-[0-9]+ +\( *[0-9-]+\) +\[[0-9]+\]/))
			return 0
		split(substr($0, RSTART + 1, RLENGTH - 1), f, /[][() ]+/)
		tid = f[1]
		# A task created in this trace: its TGID as its creation
		# said.  record-tgid keeps one TGID a pid, and shows a reused
		# pid with the TGID of the task that had it before, until it
		# saves the new one (on 6.1, with pids that had wrapped, 4
		# orphans of the subreaper were put under another process).
		tgid = tid in tg ? tg[tid] : (f[2] ~ /^[0-9]+$/ ? f[2] : tid)
		rest = substr($0, RSTART + RLENGTH)
		return 1
	}
	function num(key,   s) {
		if (!match(rest, " " key "=[0-9]+"))
			return ""
		s = substr(rest, RSTART + 1, RLENGTH - 1)
		return substr(s, index(s, "=") + 1)
	}
	# Pass 1: the line of the last exec of vmprof run.
	NR == FNR {
		if (parse() && rest ~ / sched_process_exec: / && num("pid") == V)
			last_exec = FNR
		next
	}
	!parse() { next }
	rest ~ / task_newtask: / {
		c = num("pid")
		match(rest, /clone_flags=[0-9a-f]+/)
		hex = substr(rest, RSTART + 12, RLENGTH - 12)
		d = length(hex) >= 5 ? substr(hex, length(hex) - 4, 1) : "0"
		if ((index("0123456789abcdef", d) - 1) % 2) {	# CLONE_THREAD
			tg[c] = tgid
			next
		}
		tg[c] = c
		name[c] = "[" (match(rest, /comm=/) ? substr(rest, RSTART + 5, index(rest, " clone_flags=") - RSTART - 5) : "?") "]"
		if (tgid == V && FNR > last_exec) {
			if (root == "") {
				root = c
				member[c] = 1
				order[++n] = c
			} else {
				print "# vmprof run forked more than one process: " root " and " c
				member[c] = 0
			}
			next
		}
		member[c] = (tgid in member) ? member[tgid] : 0
		if (member[c])
			order[++n] = c
		next
	}
	rest ~ / sched_process_exec: / {
		p = num("pid")
		if (match(rest, /filename=.* pid=/))
			name[p] = substr(rest, RSTART + 9, RLENGTH - 14)
	}
	END {
		if (!last_exec)
			print "# no exec of vmprof run (pid " V ") in the trace"
		if (root == "")
			print "# no process forked by vmprof run (pid " V ") in the trace"
		for (i = 1; i <= n; i++)
			print order[i], name[order[i]]
	}' "$1" "$1"
}

# verdict_bound NPROC CPU_NS: how much more CPU (ns) than wait4's rusage
# vmprof run's verdict allows the records of NPROC processes that ran
# CPU_NS (utils/builtin-run.c): 2 ms, 10 ms a child, 1 %.  A child reaped
# before its last switch off the CPU runs on, which vmprof counts and
# wait4 does not; under TCG on a loaded host for as long as the host keeps
# the vCPU waiting (8.5 ms seen for a daemon's intermediate child, beyond
# tail_bound's 1 ms a process).
verdict_bound() { echo $((2000000 + 10000000 * ($1 > 0 ? $1 - 1 : 0) + $2 / 100)); }

# ------------------------------------------------------------ the data
# procs FILE: per process of the data file, by column name: "pid last-flags
# minflt majflt cpu_ns" (the sums of its records).
procs() {
	awk -F, '/^#/ { next }
		!h { for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next }
		{ p = $c["pid"]; if (!(p in last)) o[++n] = p; last[p] = $c["flags"]
		  mi[p] += $c["min_flt"]; ma[p] += $c["maj_flt"]; cp[p] += $c["cpu_ns"] }
		END { for (i = 1; i <= n; i++) { p = o[i]
			printf "%s %s %.0f %.0f %.0f\n", p, last[p], mi[p], ma[p], cp[p] } }' "$1"
}
# recorded_name FILE PID: the data file's last name of the process
recorded_name() {
	awk -v p="$2" 'index($0, "# process pid=" p " command=") == 1 { n = substr($0, length("# process pid=" p " command=") + 1) }
		END { print n }' "$1"
}

# ------------------------------------------------------------ a workload
# run_one ID DIR ARGS-OF-VMPROF-RUN... -- COMMAND...: vmprof run of
# COMMAND in DIR, under the observer; sets st (vmprof run's exit status),
# secs and lost (events the observer lost), and leaves ID.csv, .out, .err,
# .trace, .tree and .procs in $tmp.
run_one() {
	local id=$1 dir=$2 vpid t0=$SECONDS
	shift 2
	[ "$observer" = 1 ] && : > "$INST/trace"
	(cd "$dir" && exec "$VMPROF" run -o "$tmp/$id.csv" "$@") > "$tmp/$id.out" 2> "$tmp/$id.err" &
	vpid=$!
	wait "$vpid"
	st=$?
	secs=$((SECONDS - t0))
	if [ "$observer" = 1 ]; then
		cp "$INST/trace" "$tmp/$id.trace"
		lost=$(lost_events)
		tree_of "$tmp/$id.trace" "$vpid" > "$tmp/$id.tree"
	else
		lost=0
		: > "$tmp/$id.tree"
	fi
	procs "$tmp/$id.csv" > "$tmp/$id.procs"
}

# figures_of ID: from ID's summary and data file, set rmin rmaj rcpu
# (wait4), bmin bmaj bcpu (before the registration), and over the
# processes whose last record is not UNREGISTERED (they ended during the
# run): ended (how many), min maj cpu (their records' sums); unreg: the
# pids of the others.
figures_of() {
	rmin=$(field "$tmp/$1.err" rusage minflt); rmaj=$(field "$tmp/$1.err" rusage majflt)
	rcpu=$(field "$tmp/$1.err" rusage cpu_ns)
	bmin=$(field "$tmp/$1.err" before minflt); bmaj=$(field "$tmp/$1.err" before majflt)
	bcpu=$(field "$tmp/$1.err" before cpu_ns)
	read -r ended min maj cpu < <(awk '$2 != 2 { n++; a += $3; b += $4; c += $5 }
		END { printf "%d %.0f %.0f %.0f\n", n, a, b, c }' "$tmp/$1.procs")
	unreg=$(awk '$2 == 2 { print $1 }' "$tmp/$1.procs" | tr '\n' ' ' | sed 's/ $//')
}

# set_diff ID: the pids with records but not created under the command
# (ID.extra) and created under it without records (ID.missing); their
# numbers in extra and missing.
set_diff() {
	grep -v '^#' "$tmp/$1.tree" | awk '{ print $1 }' | sort -u > "$tmp/$1.traced"
	awk '{ print $1 }' "$tmp/$1.procs" | sort -u > "$tmp/$1.recorded"
	comm -13 "$tmp/$1.traced" "$tmp/$1.recorded" > "$tmp/$1.extra"
	comm -23 "$tmp/$1.traced" "$tmp/$1.recorded" > "$tmp/$1.missing"
	extra=$(grep -c . "$tmp/$1.extra")
	missing=$(grep -c . "$tmp/$1.missing")
	traced=$(grep -c . "$tmp/$1.traced")
}
# show_diff ID: the differences as diagnostics (20 lines of each at most)
show_diff() {
	local p n
	grep '^#' "$tmp/$1.tree" | sed 's/^# /#   observer: /'
	if [ "$missing" -gt 0 ]; then
		diag "  $missing created under the command (tracefs) without records:"
		head -n 20 "$tmp/$1.missing" | while read -r p; do
			n=$(awk -v p="$p" '$1 == p { $1 = ""; print substr($0, 2) }' "$tmp/$1.tree" | tail -n 1)
			diag "    $p $n"
		done
	fi
	if [ "$extra" -gt 0 ]; then
		diag "  $extra with records but not created under the command (tracefs):"
		head -n 20 "$tmp/$1.extra" | while read -r p; do
			diag "    $p $(recorded_name "$tmp/$1.csv" "$p")"
		done
	fi
}

# workload LABEL [--min N] [--daemon] [--strict] [--dir DIR] -- COMMAND...:
# one workload, its test points named "$pass: LABEL: ...".  --min: the
# processes the observer must see at least (that it sees them at all);
# --daemon: the command leaves one process behind, the grandchild whose
# pid it prints ("grandchild PID"); --strict: vmprof run --strict; --dir:
# run it there.  Sets last_id (the workload's files in $tmp).
wid=0
workload() {
	local label="$pass: $1" nmin=1 daemon=0 strict=() dir=. id g gflags gmin bad k p f n
	local st secs lost rmin rmaj rcpu bmin bmaj bcpu ended min maj cpu unreg
	local extra missing traced reaped
	shift
	while [ "$1" != -- ]; do
		case $1 in
		--min) nmin=$2; shift 2 ;;
		--daemon) daemon=1; shift ;;
		--strict) strict=(--strict); shift ;;
		--dir) dir=$2; shift 2 ;;
		*) echo "workload: bad option $1" >&2; exit 2 ;;
		esac
	done
	shift
	wid=$((wid + 1))
	id=w$wid
	last_id=$id
	run_one "$id" "$dir" "${strict[@]}" -- "$@"
	is "$label: vmprof run exits with the command's status" "$st" 0
	[ "$st" = 0 ] || sed 's/^/#   /' "$tmp/$id.out" "$tmp/$id.err" | grep -v '^#    *[0-9]' | head -n 20
	figures_of "$id"
	set_diff "$id"
	diag "$label: ${secs} s; $traced processes created (tracefs), $(grep -c . "$tmp/$id.procs") with records, $ended of them ended; recorded $min minor, $maj major, $cpu ns; before registration $bmin, $bmaj, $bcpu; wait4 $rmin, $rmaj, $rcpu"
	check "$label: vmprof run reports what came before the registration" \
		test -n "$bmin" -a -n "$bmaj" -a -n "$bcpu" -a -n "$rmin"
	reaped=$(awk '$2 ~ /^[4-7]$/' "$tmp/$id.procs" | grep -c .)
	if [ "$free" = 1 ] && [ "$reaped" -gt 0 ]; then
		# sched_process_free's counts did not come for these
		# (README: where final counts come from): never silently.
		diag "$label: $reaped processes without their last interval (REAPED)"
		in_range "$label: minor faults short of wait4 rusage, not more" \
			$((rmin - min - ${bmin:-0})) 0 1000000000
		check "$label: vmprof run's verdict names the processes without their last interval" \
			grep -q "does not add up.* $reaped processes without their last interval (REAPED)" "$tmp/$id.err"
	else
		is "$label: minor faults of the processes that ended + before registration = wait4 rusage" \
			$((min + ${bmin:-0})) "$rmin"
		is "$label: major faults of the processes that ended + before registration = wait4 rusage" \
			$((maj + ${bmaj:-0})) "$rmaj"
		in_range "$label: CPU ns of the processes that ended + before registration - wait4 rusage" \
			$((cpu + ${bcpu:-0} - ${rcpu:-0})) 0 "$(verdict_bound "$ended" "${rcpu:-0}")"
		check "$label: vmprof run says the profile adds up" \
			grep -q "^vmprof: the profile adds up to wait4's rusage" "$tmp/$id.err"
	fi
	# Every process's last record: EXITED (1), but the daemon's
	# grandchild's, UNREGISTERED (2).
	g=''
	if [ "$daemon" = 1 ]; then
		g=$(awk '$1 == "grandchild" { print $2 }' "$tmp/$id.out")
		check "$label: the command names the grandchild it leaves behind" test -n "$g"
	fi
	bad=$(awk -v g="$g" -v free="$free" '($1 == g && $2 != 2) || ($1 != g && $2 != 1 && !(free && $2 == 5))' "$tmp/$id.procs")
	is "$label: every last record says the process exited$([ -n "$g" ] && echo ", but the grandchild's, unregistered")" \
		"$(printf '%s' "$bad" | grep -c .)" 0
	[ -z "$bad" ] || printf '%s\n' "$bad" | head -n 20 | while read -r p f n _; do
		diag "  pid $p: last flags $f ($n minor faults): $(recorded_name "$tmp/$id.csv" "$p")"
	done
	is "$label: processes left behind (UNREGISTERED)" "$unreg" "$g"
	if [ -n "$g" ]; then
		read -r gflags gmin < <(awk -v g="$g" '$1 == g { print $2, $3 }' "$tmp/$id.procs")
		in_range "$label: the grandchild's records have its minor faults" "${gmin:-0}" 1 1000000000
		is "$label: the grandchild's last record is UNREGISTERED (2)" "${gflags:-none}" 2
		# It outlives the run, however long the run waited for final
		# counts (10 s, without them: REAPED): it sleeps a minute, and
		# is ended here, gone (or a zombie) before the next.
		kill "$g" 2> /dev/null
		for ((k = 0; k < 600; k++)); do
			[ -e "/proc/$g" ] || break
			[ "$(awk '{ print $3 }' "/proc/$g/stat" 2>/dev/null)" = Z ] && break
			sleep 0.1
		done
		check "$label: the grandchild ended after the run" test $k -lt 600
	fi
	# The observer's set against the records'.
	if [ "$observer" = 1 ]; then
		is "$label: tracefs lost no events" "$lost" 0
		in_range "$label: processes created under the command (tracefs)" "$traced" "$nmin" 100000000
		is "$label: the processes with records are those created under the command (tracefs)" \
			"$missing missing, $extra extra" "0 missing, 0 extra"
		show_diff "$id"
	fi
}

# ------------------------------------------------------------ workloads
# squote STRING: STRING quoted for sh
squote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
# Shells 6 deep, each running the next and then /bin/true.
nested=/bin/true
for _ in 1 2 3 4 5; do nested="sh -c $(squote "$nested; /bin/true")"; done
nested="$nested; /bin/true"
PY=''
for p in /usr/bin/python3 "$(command -v python3)"; do
	if [ -n "$p" ] && [ -x "$p" ]; then PY=$p; break; fi
done

# The C build.  full: this project, a configured copy made by make
# distdir (once, then copied for each pass); small: a Makefile of a
# few generated C files, with a sub-make and a library, like the shape.
src0=''
prepare_build() {
	[ -n "$src0" ] && return 0
	src0=$tmp/dist
	if [ "$SCALE" = full ]; then
		# distdir must be relative: Automake's recursion into src/
		# makes an absolute one relative to src/ by prefixing "../".
		(cd "$B" && make distdir distdir="$(realpath --relative-to=. "$src0")") > "$tmp/distdir.log" 2>&1
		is "make distdir of this project from $B exits 0" "$?" 0
		[ -f "$src0/configure" ] || { tail -n 20 "$tmp/distdir.log" | sed 's/^/#   /'; return 1; }
	else
		mkdir -p "$src0/lib"
		for i in 1 2 3 4 5 6; do
			printf 'int f%d(int x) { return x * %d; }\n' $i $i > "$src0/lib/f$i.c"
		done
		printf 'int f1(int);\nint main(void) { return f1(0); }\n' > "$src0/main.c"
		# shellcheck disable=SC2016 # make's variables
		printf '%s\n' 'N := $(shell ls lib/*.c | wc -l)' \
			'prog: main.o lib/libf.a' '	cc -o $@ main.o lib/libf.a' \
			'	test $(N) = 6' \
			'lib/libf.a: FORCE' '	$(MAKE) -C lib' \
			'%.o: %.c' '	cc -O1 -c $<' 'FORCE:' > "$src0/Makefile"
		# shellcheck disable=SC2016
		printf '%s\n' 'libf.a: $(patsubst %.c,%.o,$(wildcard *.c))' \
			'	ar rc $@ $^' '%.o: %.c' '	cc -O1 -c $<' > "$src0/lib/Makefile"
	fi
}
c_build() {
	local src=$tmp/build-$wid
	prepare_build || { not_ok "$pass: the C build's sources"; return; }
	rm -rf "$src"
	cp -a "$src0" "$src"
	if [ "$SCALE" = full ]; then
		# configure is a workload of its own: deep shells, pipelines,
		# command substitutions, thousands of processes.  (Not
		# --disable-bpf: a tree configured so does not build, its
		# libvmprof lacks -I src; and a target other than all misses
		# the BPF skeleton, a BUILT_SOURCE.)
		workload "configure" --min 500 --dir "$src" -- ./configure --disable-module
		workload "make -j2" --min 100 --dir "$src" -- make -j2
		check "$pass: make -j2 built vmprof" test -x "$src/utils/.libs/vmprof"
	else
		workload "make -j2" --min 20 --dir "$src" -- make -s -j2
		check "$pass: make -j2 built the program" test -x "$src/prog"
	fi
	rm -rf "$src"
}

suite() {
	# Under TCG (small) fewer: a posix_spawn there takes 0.3 s.
	local n=100
	[ "$SCALE" = full ] || n=50
	workload "posix_spawn x$n" --min $((2 * n + 1)) -- "$FORKS" spawn $n
	workload "vfork x100" --min 101 -- "$FORKS" vfork 100
	workload "4 threads forking 25 each" --min 101 -- "$FORKS" threads 4 25
	workload "shells 6 deep" --min 7 -- sh -c "$nested"
	# shellcheck disable=SC2016 # for sh
	workload "a pipeline in a command substitution" --min 4 -- \
		sh -c 'x=$(seq 1000 | sort -n | tail -n 1); test "$x" = 1000'
	workload "xargs -P 4" --min $((2 * n + 2)) -- sh -c "seq $((2 * n)) | xargs -P 4 -n 1 sh -c true"
	if [ -n "$PY" ]; then
		workload "a Python multiprocessing pool" --min 5 -- "$PY" -c \
			'import multiprocessing as m; p=m.Pool(4); print(sum(p.map(abs, range(40)))); p.close(); p.join()'
		is "$pass: the pool's sum" "$(cat "$tmp/$last_id.out")" 780
	else
		diag "$pass: no python3 here: no multiprocessing pool"
	fi
	workload "a burst of 1000 short children 3 deep" --min 1003 -- "$FORKS" burst 1000
	workload "a daemon that outlives the command" --min 3 --daemon -- "$FORKS" daemon 60
	workload "a subreaper of 50 orphans" --min 101 -- "$FORKS" subreaper 50
	c_build
}

# ------------------------------------------------------------ passes
kver=$(uname -r | awk -F. '{ printf "%d", $1 * 1000 + $2 }')
# bpf_task_from_pid() from a syscall program needs 6.10 (as bpf.sh)
syscall_ok() { [ "$kver" -ge 6010 ]; }
# fentry on release_task needs the function to be traceable; where
# tracefs does not list it (or does not let root read the list), the
# library refuses it.
release_ok() { grep -qw release_task "$TRACEFS/available_filter_functions" 2>/dev/null; }

# refused WHAT PATTERN: vmprof run must refuse to start, exit 1, and say
# why (PATTERN, an extended regular expression, in its message).
refused() {
	"$VMPROF" run -o "$tmp/refused.csv" -- true > /dev/null 2> "$tmp/refused.err"
	is "$pass: $1: vmprof run exits 1" "$?" 1
	sed 's/^/#   /' "$tmp/refused.err" | head -n 5
	check "$pass: and says why" grep -Eqi "$2" "$tmp/refused.err"
}

# The BPF backend ignoring every 10th fork: the checks must see it.
drop_pass() {
	local label cmd st secs lost rmin rmaj rcpu bmin bmaj bcpu ended min maj cpu unreg
	local extra missing traced
	for label in "posix_spawn x100" "xargs -P 4"; do
		if [ "$label" = "xargs -P 4" ]; then
			cmd=(sh -c 'seq 200 | xargs -P 4 -n 1 sh -c true')
		else
			cmd=("$FORKS" spawn 100)
		fi
		# Clean, --strict: the command's status, and every check.
		workload "$label, --strict" --strict --min 201 -- "${cmd[@]}"
		# Every 10th fork ignored.
		wid=$((wid + 1))
		VMPROF_TEST_DROP_FORKS=10 run_one "w$wid" . -- "${cmd[@]}"
		is "$pass: $label, forks dropped: vmprof run exits with the command's status" "$st" 0
		figures_of "w$wid"
		set_diff "w$wid"
		diag "$pass: $label, forks dropped: $traced processes created, $(grep -c . "$tmp/w$wid.procs") with records; recorded $min minor, $maj major, $cpu ns; before registration $bmin, $bmaj, $bcpu; wait4 $rmin, $rmaj, $rcpu"
		check "$pass: $label, forks dropped: the minor faults + before registration differ from wait4's (seen)" \
			test "$((min + ${bmin:-0}))" != "${rmin:-}"
		check "$pass: $label, forks dropped: processes created under the command lack records (seen)" \
			test "$missing" -gt 0
		[ "$observer" = 1 ] && is "$pass: $label, forks dropped: tracefs lost no events" "$lost" 0
		# And --strict says so.
		wid=$((wid + 1))
		VMPROF_TEST_DROP_FORKS=10 run_one "w$wid" . --strict -- "${cmd[@]}"
		is "$pass: $label, forks dropped: vmprof run --strict exits 125" "$st" 125
		grep -v '^ *[0-9]' "$tmp/w$wid.err" | tail -n 4 | sed 's/^/#   /'
	done
}

# run_pass SPEC: the suite once, as SPEC says (see the top).
run_pass() {
	local spec=$1 v='' f='' t0=$SECONDS
	# A pass named again is counted: its test points say which run.
	runs[$spec]=$((${runs[$spec]:-0} + 1))
	pass=$spec
	[ "${runs[$spec]}" = 1 ] || pass="$spec, run ${runs[$spec]}"
	free=0
	section "pass $pass"
	# Passes named on the command line set their own environment.
	[ "$given" = 0 ] || unset VMPROF_BPF_VARIANT VMPROF_BPF_FINALS VMPROF_TEST_DROP_FORKS
	case $spec in
	module)
		export VMPROF_BACKEND=module
		check "$pass: the module is loaded" test -e /proc/vmprof/status ;;
	bpf | drop)
		export VMPROF_BACKEND=bpf ;;
	bpf-syscall | bpf-syscall/* | bpf-rawtp | bpf-rawtp/*)
		export VMPROF_BACKEND=bpf
		v=${spec#bpf-}
		v=${v%%/*}
		export VMPROF_BPF_VARIANT=$v
		case $spec in */*) f=${spec#*/}; export VMPROF_BPF_FINALS=$f ;; esac
		[ "$f" = free ] && [ "${EXACT_FREE_REAPED:-}" = allow ] && free=1
		if [ "$v" = syscall ] && ! syscall_ok; then
			refused "bpf-syscall before 6.10" '6\.1 or later with BTF|6\.10'
			return
		fi
		if [ "$f" = hold ] && [ "$v" != syscall ]; then
			refused "final counts from a reference held, with bpf-rawtp" 'refused|cannot start'
			return
		fi
		if [ "$f" = release ] && ! release_ok; then
			diag "$pass: release_task cannot be traced here (not in available_filter_functions)"
			refused "final counts at release_task where it cannot be traced" 'refused|cannot start'
			return
		fi ;;
	*)
		[ "$spec" = "${VMPROF_BACKEND:-auto}" ] ||
			{ not_ok "unknown pass $pass"; return; } ;;
	esac
	diag "$pass: VMPROF_BACKEND=${VMPROF_BACKEND:-} VMPROF_BPF_VARIANT=${VMPROF_BPF_VARIANT:-} VMPROF_BPF_FINALS=${VMPROF_BPF_FINALS:-}"
	if [ "$spec" = drop ]; then
		drop_pass
	else
		suite
	fi
	diag "pass $pass: $((SECONDS - t0)) s"
}

declare -A runs=()
for spec in "${passes[@]}"; do
	case $spec in
	bpf | bpf-variants | bpf-fallback | bpf-syscall* | bpf-rawtp*)
		if [ ! -e /sys/kernel/btf/vmlinux ]; then
			diag "no BTF (/sys/kernel/btf/vmlinux): no $spec pass (vm-bpf.test checks the refusal)"
			continue
		fi ;;
	esac
	case $spec in
	bpf-variants)
		syscall_ok && run_pass bpf-syscall
		run_pass bpf-rawtp ;;
	bpf-fallback)
		if syscall_ok; then
			diag "bpf-fallback: final counts from a reference held here (6.10+): sched_process_free is no fallback of this kernel's"
		else
			run_pass bpf-rawtp/free
		fi ;;
	*)
		run_pass "$spec" ;;
	esac
done
diag "exact.sh: $((SECONDS - t_start)) s in all"
done_testing
