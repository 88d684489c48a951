#!/bin/bash
# Turn the data of the two case studies into plots and report.md.
# Every figure and every sentence of the analysis comes from the data files,
# through `vmprof report --format tsv` (columns by name) and `vmprof plot`;
# when the data do not show an effect, the report says so.
# Usage: analyze.sh BUILDDIR DIR   (DIR/data holds what case1.sh and
# case2.sh wrote)
# shellcheck disable=SC2016 # awk programs are in single quotes on purpose
set -euo pipefail
B=$1
DIR=$2
D=$DIR/data
V=$B/utils/vmprof
[ -d "$D" ] || { echo "analyze.sh: no $D" >&2; exit 1; }
meta() { sed -n "s/^$2=//p" "$D/$1.meta"; }
# tsv [-v VAR=VALUE]... 'AWK-PROGRAM' [FILE]: awk over a TSV report, with
# c["column"] the index of a column by its name
tsv() {
	local opts=()
	while [ "$1" = -v ]; do opts+=(-v "$2"); shift 2; done
	local prog=$1
	shift
	awk -F'\t' "${opts[@]}" "NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } $prog" "$@"
}
report() { "$V" report --format tsv "$@"; }

# ---------------------------------------------------------------- case 1
E1=case_1_work_1_2
E2=case_1_work_3_4
for e in $E1 $E2; do
	report "$D/$e.csv" > "$DIR/.$e.tsv"
	# the timeline, for ui.perfetto.dev
	"$V" report --format perfetto -o "$DIR/$e.perfetto-trace" "$D/$e.csv"
done
"$V" plot -t "Experiment 1: two random-access processes" "$D/$E1.csv" -o "$DIR/$E1.png"
"$V" plot -t "Experiment 2: random access and locality" "$D/$E2.csv" -o "$DIR/$E2.png"
# total E COLUMN: the total row's value
total() { tsv "\$c[\"pid\"] == 0 { print \$c[\"$2\"] }" "$DIR/.$1.tsv"; }
# waited E: seconds the processes of E were neither on a CPU nor in their
# own pauses, summed over the processes
waited() {
	tsv -v p="$(awk -v i="$(meta case_1 iterations)" -v m="$(meta case_1 pause_ms)" 'BEGIN { print i * m / 1000 }')" \
		"\$c[\"pid\"] != 0 { w = \$c[\"duration_s\"] - \$c[\"cpu_s\"] - p; s += w > 0 ? w : 0 } END { printf \"%.1f\\n\", s }" \
		"$DIR/.$1.tsv"
}

exp_section() {	# exp_section E TITLE
	local e=$1 title=$2
	echo "### $title"
	echo
	echo "![$title]($e.png)"
	echo
	echo "Its timeline: [\`$e.perfetto-trace\`]($e.perfetto-trace), to open in https://ui.perfetto.dev"
	echo "(Open trace file; the page reads it in the browser and uploads nothing)."
	echo
	echo "| pid | command | minor faults | major faults | CPU (s) | completed at (s) |"
	echo "| ---: | --- | ---: | ---: | ---: | ---: |"
	# the command without the directory of its program
	tsv '$c["pid"] != 0 { cmd = $c["command"]; sub(/^[^ ]*\//, "", cmd)
		printf "| %s | `%s` | %d | %d | %.2f | %.1f |\n", $c["pid"], cmd, $c["min_flt"], $c["maj_flt"], $c["cpu_s"], $c["end_s"] }' "$DIR/.$e.tsv"
	tsv '$c["pid"] == 0 { printf "| | all | %d | %d | %.2f | %.1f |\n", $c["min_flt"], $c["maj_flt"], $c["cpu_s"], $c["end_s"] }' "$DIR/.$e.tsv"
	echo
}

case1_findings() {
	local mn1 mn2 mj1 mj2 t1 t2 c1 c2 w1 w2
	mn1=$(total $E1 min_flt) mn2=$(total $E2 min_flt)
	mj1=$(total $E1 maj_flt) mj2=$(total $E2 maj_flt)
	t1=$(total $E1 end_s) t2=$(total $E2 end_s)
	c1=$(total $E1 cpu_s) c2=$(total $E2 cpu_s)
	w1=$(waited $E1) w2=$(waited $E2)
	awk -v mn1="$mn1" -v mn2="$mn2" -v mj1="$mj1" -v mj2="$mj2" -v t1="$t1" -v t2="$t2" \
	    -v c1="$c1" -v c2="$c2" -v w1="$w1" -v w2="$w2" 'BEGIN {
		if (mn1 > mn2)
			printf "- Minor faults: experiment 1 took %d, experiment 2 %d: **%.1f times as many**.\n", mn1, mn2, mn1 / mn2
		else
			printf "- Minor faults: experiment 1 took %d, experiment 2 %d: the data do **not** show\n  experiment 1 faulting more.\n", mn1, mn2
		if (mj1 > mj2)
			printf "- Major faults: experiment 1 took %d, experiment 2 %d: **experiment 1 had to read\n  pages back from swap**; its two processes did not fit in memory together.\n", mj1, mj2
		else
			printf "- Major faults: experiment 1 took %d, experiment 2 %d: the data do **not** show more\n  major faults in experiment 1 (its processes fitted in memory).\n", mj1, mj2
		if (t1 > t2)
			printf "- Completion: experiment 1 finished after %.1f s, experiment 2 after %.1f s:\n  **%.1f times as long**.", t1, t2, t1 / t2
		else
			printf "- Completion: experiment 1 finished after %.1f s, experiment 2 after %.1f s: the data\n  do **not** show experiment 1 taking longer.", t1, t2
		printf " Its processes used %.1f s of CPU (experiment 2: %.1f s)\n", c1, c2
		printf "  and, beyond their own pauses, waited %.1f s in all (experiment 2: %.1f s)", w1, w2
		if (t1 > t2 && mj1 > mj2 && w1 > w2)
			printf ": the\n  difference is time spent on faults, and blocked on the swap disk for the major ones.\n"
		else
			printf ".\n"
	}'
	# Within experiment 2: the random process against the locality one
	tsv '$c["pid"] != 0 { f = $c["min_flt"] + $c["maj_flt"]
		if ($c["command"] ~ / L /) l = f; else if ($c["command"] ~ / R /) r = f }
		END { if (l > 0 && r > 0) printf "- Within experiment 2 the random process faulted %.1f times as often as the locality\n  process (%d against %d): the locality process keeps its accesses in a small window,\n  so once the window is mapped its accesses hit pages it already has.\n", r / l, r, l }' \
		"$DIR/.$E2.tsv"
}

# ---------------------------------------------------------------- case 2
mems=$(for f in "$D"/case_2_m*.meta; do
	[ -e "$f" ] && basename "$f" .meta | sed 's/^case_2_m//'
done | sort -n | tr '\n' ' ')
cpus=
# run_row MEM N R: "mem n r util_pct maj_per_s min_per_s window_s
# memory_pct io_pct" over the window in which all N copies ran (from the
# last start to the first end); memory_pct and io_pct, the shares of the
# window in which some runnable task waited for memory or for I/O (PSI
# "some"), are NaN for data without pressure lines (an older vmprof, a
# kernel without PSI).
run_row() {
	local f=$D/case_2_m$1_n$2_r$3.csv from to stall
	read -r from to < <(report "$f" | tsv '$c["pid"] != 0 {
		if ($c["start_s"] > s) s = $c["start_s"]
		if (e == "" || $c["end_s"] < e) e = $c["end_s"] }
		END { printf "%.4f %.4f\n", (s > 0.0005 ? s - 0.0005 : 0), e + 0.0005 }')
	stall=$(report --pressure --from "$from" --to "$to" "$f" |
		tsv '$c["kind"] == "memory_some" { m = $c["stall_pct"] } $c["kind"] == "io_some" { i = $c["stall_pct"] }
			END { print (m == "" ? "NaN" : m), (i == "" ? "NaN" : i) }')
	report --from "$from" --to "$to" "$f" | tsv -v m="$1" -v n="$2" -v r="$3" -v cpus="$cpus" -v st="$stall" \
		'$c["pid"] == 0 { printf "%d %d %d %.1f %.1f %.1f %.2f %s\n", m, n, r,
			100 * $c["cpu_util"] / cpus, $c["maj_flt_per_s"], $c["min_flt_per_s"],
			$c["duration_s"], st }'
}
: > "$DIR/case_2.runs"
for m in $mems; do
	cpus=$(meta "case_2_m$m" cpus)
	for n in $(meta "case_2_m$m" ns); do
		for r in $(seq "$(meta "case_2_m$m" repeat)"); do
			run_row "$m" "$n" "$r"
		done
	done
done >> "$DIR/case_2.runs"
# Per memory size and N: median, min and max of utilisation and major
# faults per second, median minor faults per second, the runs, and the
# median, min and max of the memory stall and of the I/O stall (NaN when a
# run has none)
awk '{ k = $1 " " $2; if (!(k in cnt)) o[++n] = k; cnt[k]++
	u[k, cnt[k]] = $4; j[k, cnt[k]] = $5; mi[k, cnt[k]] = $6
	s[k, cnt[k]] = $8; io[k, cnt[k]] = $9
	if ($8 == "NaN" || $8 == "" || $9 == "NaN" || $9 == "") nos[k] = 1 }
     function med(a, k, c,   i, x, y, t) {
	for (i = 1; i <= c; i++) x[i] = a[k, i]
	for (i = 1; i <= c; i++) for (y = i + 1; y <= c; y++) if (x[y] < x[i]) { t = x[i]; x[i] = x[y]; x[y] = t }
	lo = x[1]; hi = x[c]
	return c % 2 ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2 }
     END { for (i = 1; i <= n; i++) { k = o[i]; c = cnt[k]
	mu = med(u, k, c); ul = lo; uh = hi; mj = med(j, k, c); jl = lo; jh = hi
	printf "%s %.1f %.1f %.1f %.1f %.1f %.1f %.1f %d", k, mu, ul, uh, mj, jl, jh, med(mi, k, c), c
	if (k in nos) { printf " NaN NaN NaN NaN NaN NaN\n"; continue }
	ms = med(s, k, c); printf " %.1f %.1f %.1f", ms, lo, hi
	ms = med(io, k, c); printf " %.1f %.1f %.1f\n", ms, lo, hi } }' \
	"$DIR/case_2.runs" > "$DIR/case_2.tsv"
# Whether the runs have pressure stall data: every line of case_2.tsv.
has_stall=$(awk '$11 == "NaN" || $14 == "NaN" { bad = 1 } END { print (NR && !bad) ? 1 : 0 }' "$DIR/case_2.tsv")
# thrash MEM: the peak and the thrashing point, from case_2.tsv
# ("mem n util lo hi maj lo hi min runs"): the peak is the N of the highest
# median utilisation; the thrashing point is the first N past it whose whole
# utilisation range lies below the peak's range while its median major-fault
# rate is above the peak's.  Prints "peak_n thrash_n" (thrash_n 0: not found).
thrash() {
	awk -v m="$1" '$1 == m { n[++k] = $2; u[k] = $3; lo[k] = $4; hi[k] = $5; mj[k] = $6 }
		END { p = 1; for (i = 2; i <= k; i++) if (u[i] > u[p]) p = i
		      t = 0; for (i = p + 1; i <= k && !t; i++) if (hi[i] < lo[p] && mj[i] > mj[p]) t = i
		      print n[p], (t ? n[t] : 0) }' "$DIR/case_2.tsv"
}

plot_case2() {
	local plots=() i=0 m majs
	majs=$(awk '{ s += $8 } END { print s + 0 }' "$DIR/case_2.tsv")
	for m in $mems; do
		i=$((i + 1))
		awk -v m="$m" '$1 == m' "$DIR/case_2.tsv" > "$DIR/.case_2_m$m.dat"
		plots+=("'$DIR/.case_2_m$m.dat' using 2:3:4:5 with yerrorlines lw 2 pt 7 lc $i title 'CPU utilisation, $m MiB (median, min-max)'")
		[ "$majs" = 0 ] ||
			plots+=("'$DIR/.case_2_m$m.dat' using 2:6 axes x1y2 with linespoints lw 2 dt 2 pt 5 lc $i title 'major faults/s, $m MiB (median)'")
		[ "$has_stall" = 0 ] ||
			plots+=("'$DIR/.case_2_m$m.dat' using 2:14 with linespoints lw 1 dt 3 pt 9 lc $i title 'I/O stall (PSI, % of time), $m MiB (median)'"
				"'$DIR/.case_2_m$m.dat' using 2:11 with linespoints lw 1 dt 4 pt 11 lc $i title 'memory stall (PSI, % of time), $m MiB (median)'")
	done
	{
		echo "set terminal pngcairo noenhanced size 900,680 font ',10'"
		echo "set output '$DIR/case_2.png'"
		echo "set title 'CPU utilisation against the degree of multiprogramming ($(meta "case_2_m${mems%% *}" size_mb) MiB per process)'"
		echo "set xlabel 'processes (N)'"
		if [ "$has_stall" = 1 ]; then
			echo "set ylabel 'CPU utilisation (% of $cpus CPUs); stall (% of time)'"
		else
			echo "set ylabel 'CPU utilisation (% of $cpus CPUs)'"
		fi
		echo "set grid; set key below maxrows 4; set yrange [0:*]; set xrange [0:*]"
		if [ "$majs" != 0 ]; then
			echo "set y2label 'major page faults per second'"
			echo "set ytics nomirror; set y2tics; set y2range [0:*]"
		else
			echo "set label 'no major faults at any N' at graph 0.98, graph 0.05 right"
		fi
		echo "plot $(IFS=,; echo "${plots[*]}")"
	} | gnuplot
	rm -f "$DIR"/.case_2_m*.dat
}
plot_case2

case2_findings() {
	local m peak th p0 first
	for m in $mems; do
		read -r peak th < <(thrash "$m")
		awk -v m="$m" -v p="$peak" -v t="$th" -v sz="$(meta "case_2_m$m" size_mb)" \
		    -v free="$(meta "case_2_m$m" free_mb)" '$1 == m { u[$2] = $3; lo[$2] = $4; hi[$2] = $5; mj[$2] = $6; last = $2
			st[$2] = $11; stlo[$2] = $12; sthi[$2] = $13; io[$2] = $14; iolo[$2] = $15; iohi[$2] = $16 }
		END {
			printf "- **%d MiB**: utilisation peaks at **N = %d** (median %.1f %%, %.1f to %.1f %%)", m, p, u[p], lo[p], hi[p]
			if (p == last) {
				printf ", at the largest N\n  measured: the data do **not** show thrashing at this memory size.\n"
				exit
			}
			if (!t) {
				printf "; no larger N has\n  its whole range below the peak'"'"'s with more major faults: **no thrashing point** in these data.\n"
				exit
			}
			printf ". **Thrashing sets in\n  at N = %d** (%d MiB asked of about %d MiB free): utilisation %.1f %% (%.1f to %.1f %%),\n  below the peak in every round, with %.0f major faults/s against %.0f at the peak.\n", t, t * sz, free, u[t], lo[t], hi[t], mj[t], mj[p]
			if (st[t] == "NaN" || st[p] == "NaN") {
				printf "  The data hold no pressure stall (PSI) to check it against.\n"
				exit
			}
			# The stall: the time the tasks waited for I/O (the swap
			# disk) or for memory, above the peak'"'"'s in every round.
			printf "  Stall (PSI): the tasks waited for I/O %.1f %% of the time (%.1f to %.1f %%) against\n  %.1f %% (%.1f to %.1f %%) at the peak, and for memory %.1f %% (%.1f to %.1f %%) against %.1f %%",
				io[t], iolo[t], iohi[t], io[p], iolo[p], iohi[p], st[t], stlo[t], sthi[t], st[p]
			if (iolo[t] > iohi[p] || stlo[t] > sthi[p])
				printf ": **the stall\n  confirms it**, above the peak'"'"'s in every round.\n"
			else
				printf ": the stall does\n  **not** confirm it (not above the peak'"'"'s in every round).\n"
		}' "$DIR/case_2.tsv"
	done
	first=
	for m in $mems; do
		read -r peak th < <(thrash "$m")
		if [ -z "$first" ]; then
			first=$m p0=$th
			continue
		fi
		if [ "$p0" -gt 0 ] && [ "$th" -gt "$p0" ]; then
			echo "- With more memory the system starts thrashing at a **higher degree of multiprogramming**:"
			echo "  N = $th with $m MiB against N = $p0 with $first MiB."
		elif [ "$p0" -gt 0 ] && [ "$th" -eq 0 ]; then
			echo "- With $m MiB no thrashing point was found up to N = $(awk -v m="$m" '$1 == m { n = $2 } END { print n }' "$DIR/case_2.tsv") (with $first MiB: N = $p0):"
			echo "  more memory moved it beyond the largest N measured."
		else
			echo "- The data do **not** show the thrashing point moving to a higher N with more memory"
			echo "  ($first MiB: $( [ "$p0" -gt 0 ] && echo "N = $p0" || echo "not found"), $m MiB: $( [ "$th" -gt 0 ] && echo "N = $th" || echo "not found"))."
		fi
	done
	echo "- Past the thrashing point the processes no longer fit in memory: each access to a page that"
	echo "  was swapped out is a major fault that blocks the process until the swap disk delivers the"
	echo "  page, so the CPUs wait instead of running: more processes, less work done."
}

# ---------------------------------------------------------------- report
m1=${mems%% *}
{
	echo "# vmprof case studies: $(meta case_1 date)"
	echo
	echo "Measured by vmprof every $(meta case_1 period_ms) ms in the lab VM ($(meta case_1 machine))."
	echo "Everything below is computed from the data files in \`data/\` by \`lab/analyze.sh\`, through"
	echo "\`vmprof report --format tsv\`."
	echo
	echo "## Case study 1: page faults of random and locality workloads"
	echo
	echo "Two experiments, each two \`vmprof-work\` processes of $(meta case_1 size_mb) MiB started together"
	echo "($(meta case_1 iterations) iterations, $(meta case_1 pause_ms) ms pause), in a VM with $(meta case_1 memory_mb) MiB of RAM (about"
	echo "$(meta case_1 free_mb) MiB free) and $(meta case_1 swap_mb) MiB of swap: two random processes touch nearly all of their"
	echo "memory and do not fit together; a locality process touches a small part of its own."
	echo
	exp_section $E1 "Experiment 1: random and random"
	exp_section $E2 "Experiment 2: random and locality"
	echo "### Findings"
	echo
	case1_findings
	echo
	echo "## Case study 2: CPU utilisation against the degree of multiprogramming"
	echo
	echo "N copies of \`vmprof-work $(meta "case_2_m$m1" size_mb) R $(meta "case_2_m$m1" accesses)\` (random access, $(meta "case_2_m$m1" pause_ms) ms pause between"
	echo "iterations), started together once each has written its memory, run for $(meta "case_2_m$m1" seconds) s, in a VM with"
	echo "$(meta "case_2_m$m1" cpus) CPUs and a $(meta "case_2_m$m1" swap_mb) MiB swap disk limited to $(meta "case_2_m$m1" swap_iops) requests per second (a hard disk's"
	echo "pace), at $(echo "$mems" | sed 's/ *$//; s/ / and /') MiB of RAM; every N $(meta "case_2_m$m1" repeat) times with fresh processes,"
	echo "round by round.  Utilisation is the processes' CPU time over the time in which all N ran,"
	echo "as a share of all CPUs.  The stalls are the shares of that time in which some runnable task"
	echo "of the VM waited for I/O or for memory (pressure stall information, PSI: \`io some\`,"
	echo "\`memory some\`).  A swap-in counts as I/O stall while the task waits for the disk; the"
	echo "kernel counts memory stall for reclaim, and for the swap-in of a page that was evicted while"
	echo "still in use (a workingset refault) only while the read is submitted."
	echo
	echo "![CPU utilisation and major faults against N](case_2.png)"
	echo
	echo "| RAM (MiB) | N | memory asked (MiB) | CPU utilisation (%): median (min-max) | major faults/s: median (min-max) | minor faults/s (median) | I/O stall (% of time): median (min-max) | memory stall (% of time): median (min-max) |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	awk -v sz="$(meta "case_2_m$m1" size_mb)" '{ printf "| %d | %d | %d | %.1f (%.1f-%.1f) | %.0f (%.0f-%.0f) | %.0f | %s | %s |\n", $1, $2, $2 * sz, $3, $4, $5, $6, $7, $8, $9,
		$14 == "NaN" ? "n/a" : sprintf("%.1f (%.1f-%.1f)", $14, $15, $16),
		$11 == "NaN" ? "n/a" : sprintf("%.1f (%.1f-%.1f)", $11, $12, $13) }' "$DIR/case_2.tsv"
	echo
	echo "### Findings"
	echo
	echo "The thrashing point is the first N past the peak whose utilisation, in every round, is below"
	echo "the peak's lowest, while its median major-fault rate is above the peak's."
	echo
	case2_findings
	echo
	echo "## Data"
	echo
	echo "\`data/\` holds the per-process samples (CSV from \`vmprof-monitor\`, each process named by its"
	echo "command), the workloads' own figures and the parameters (\`*.meta\`); \`case_2.runs\` has one line"
	echo "per run (RAM, N, round, utilisation %, major and minor faults/s, window s, memory and I/O"
	echo "stall %);"
	echo "\`lab/analyze.sh BUILDDIR DIR\` rebuilds this report from them."
} > "$DIR/report.md"
rm -f "$DIR"/.case_1_*.tsv
echo "report: $DIR/report.md"
