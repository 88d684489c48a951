# shellcheck shell=bash
# vmprof run against wait4's rusage: the checks that tools.sh runs with
# the module and bpf.sh with the BPF backend (the backend is the
# environment's, VMPROF_BACKEND).  Sourced after lib.sh; the caller sets
# VMPROF (the vmprof program), WORK (vmprof-work) and tmp (a directory).
# shellcheck disable=SC2154 # (VMPROF, WORK and tmp: the caller's)

# field FILE PREFIX KEY: the number after KEY on the line that starts with PREFIX
field() { awk -v p="$2" -v k="$3" 'index($0, p) == 1 { for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$1"; }
# csv_col FILE COLUMN-NAME: that column of every data row, by its name
csv_col() { awk -F, -v c="$2" '/^#/ { next } !h { for (i = 1; i <= NF; i++) if ($i == c) k = i; h = 1; next } k { print $k }' "$1"; }
# csv_sum FILE COLUMN-NAME
csv_sum() { csv_col "$1" "$2" | awk '{ s += $1 } END { printf "%.0f\n", s }'; }

# figures NAME: from vmprof run's summary (NAME.err) and data file
# (NAME.csv), set rmin rmaj rcpu (wait4's rusage), bmin bmaj bcpu (before
# the registration) and min maj cpu (the records' sums).
figures() {
	rmin=$(field "$tmp/$1.err" rusage minflt); rmaj=$(field "$tmp/$1.err" rusage majflt)
	rcpu=$(field "$tmp/$1.err" rusage cpu_ns)
	bmin=$(field "$tmp/$1.err" before minflt); bmaj=$(field "$tmp/$1.err" before majflt)
	bcpu=$(field "$tmp/$1.err" before cpu_ns)
	min=$(csv_sum "$tmp/$1.csv" min_flt); maj=$(csv_sum "$tmp/$1.csv" maj_flt)
	cpu=$(csv_sum "$tmp/$1.csv" cpu_ns)
}

# ---------------------------------------------------------- exactness
exact() {	# exact NAME VMPROF-WORK-ARGS...
	local name=$1
	shift
	"$VMPROF" run -o "$tmp/$name.csv" -- "$WORK" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
	is "$name: vmprof run exits with the command's status" "$?" 0
	sed 's/^/#   /' "$tmp/$name.out" "$tmp/$name.err"
	local wmin wmaj rmin rmaj rcpu bmin bmaj bcpu min maj cpu
	wmin=$(field "$tmp/$name.out" vmprof-work: minflt); wmaj=$(field "$tmp/$name.out" vmprof-work: majflt)
	figures "$name"
	# The workload printed its getrusage just before exit; the profile
	# lacks the handful of copy-on-write faults the child took between
	# fork and its registration, and has those of printing and exiting.
	in_range "$name: minor faults recorded vs the workload's getrusage ($wmin)" "$min" $((wmin - 30)) $((wmin + 30))
	in_range "$name: major faults recorded vs the workload's getrusage ($wmaj)" "$maj" "$wmaj" $((wmaj + 2))
	# wait4's rusage covers the whole life, exit included; vmprof run
	# reports what the process did between fork and its registration.
	# The two add up exactly: faults to the unit, CPU time to wait4's
	# microseconds (utime and stime are each truncated to 1 us).
	check "$name: vmprof run reports what came before the registration" \
		test -n "$bmin" -a -n "$bmaj" -a -n "$bcpu"
	is "$name: minor faults recorded + before registration = wait4 rusage" \
		$((min + ${bmin:-0})) "$rmin"
	is "$name: major faults recorded + before registration = wait4 rusage" \
		$((maj + ${bmaj:-0})) "$rmaj"
	in_range "$name: CPU ns recorded + before registration - wait4 rusage ($rcpu)" \
		$((cpu + ${bcpu:-0} - rcpu)) 0 2000
	is "$name: the last record says the process exited" \
		"$(csv_col "$tmp/$name.csv" flags | tail -n1)" 1
	is "$name: the data file names the process by its command" \
		"$(grep -c "^# process pid=[0-9]* command=$WORK $*\$" "$tmp/$name.csv")" 1
}

# tree NAME COMMAND...: vmprof run follows every process of the tree.
# wait4's rusage of the command counts the command and every descendant
# it or they waited for (RUSAGE_CHILDREN's semantics); the records of all
# the tree's processes plus what the command did before its registration
# add up to it: faults exactly.  CPU time too, except that a child its
# parent reaps before its last switch off the CPU runs a little more than
# wait4 saw, which vmprof counts: never less than wait4's (to its
# microseconds), and a few microseconds more per process (77 us over 19
# processes of make on the debug kernel, 559 us over the 6 of the pipeline
# on the debug kernel on a loaded host), not much more (tail_bound,
# lib.sh).  Every process ends with one EXITED record.  The report's last name of each process goes to
# NAME.names.
tree() {
	local name=$1 rmin rmaj rcpu bmin bmaj bcpu min maj cpu nproc
	shift
	"$VMPROF" run -o "$tmp/$name.csv" -- "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
	is "$name: vmprof run exits with the command's status" "$?" 0
	grep -v '^ *[0-9]' "$tmp/$name.err" | sed 's/^/#   /'
	figures "$name"
	nproc=$(csv_col "$tmp/$name.csv" pid | sort -u | wc -l)
	diag "$name: $nproc processes; recorded $min minor, $maj major, $cpu ns; before registration $bmin, $bmaj, $bcpu; wait4 $rmin, $rmaj, $rcpu"
	is "$name: minor faults of the tree + before registration = wait4 rusage" \
		$((min + ${bmin:-0})) "$rmin"
	is "$name: major faults of the tree + before registration = wait4 rusage" \
		$((maj + ${bmaj:-0})) "$rmaj"
	in_range "$name: CPU ns of the tree + before registration - wait4 rusage" \
		$((cpu + ${bcpu:-0} - rcpu)) 0 "$(tail_bound "$nproc" "$rcpu")"
	is "$name: every process's last record says it exited" \
		"$(awk -F, '/^#/ { next } !h { for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next }
			{ last[$c["pid"]] = $c["flags"] } END { for (p in last) if (last[p] != 1) n++; print n + 0 }' \
			"$tmp/$name.csv")" 0
	is "$name: the summary has a line per process" \
		"$(grep -cE '^ +[0-9]+ ' "$tmp/$name.err")" "$nproc"
	"$VMPROF" report -f tsv "$tmp/$name.csv" |
		awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
			$c["pid"] != 0 { print $c["command"] }' > "$tmp/$name.names"
	is "$name: the report names every process" \
		"$(grep -c . "$tmp/$name.names")" "$nproc"
}
# named NAME PROGRAM: how many processes of tree NAME ran PROGRAM last
# (their command line, or [comm] for one that had exited before it was read)
named() { grep -cE "^((\S*/)?$2( |\$)|\[$2\]\$)" "$tmp/$1.names"; }
