#!/bin/bash
# Turn the data of the two case studies into plots and report.md.
# Every figure and every sentence of the analysis comes from the data files;
# when the data do not show an effect, the report says so.
# Usage: analyze.sh DIR   (DIR/data holds what case1.sh and case2.sh wrote)
set -euo pipefail
DIR=$1
D=$DIR/data
[ -d "$D" ] || { echo "analyze.sh: no $D" >&2; exit 1; }
meta() { sed -n "s/^$2=//p" "$D/$1.meta"; }
# gp: gnuplot, quiet about an axis with nothing on it (no major faults)
gp() {
	local st=0
	gnuplot 2> "$DIR/.gnuplot.err" || st=$?
	grep -v 'empty y2 range' "$DIR/.gnuplot.err" >&2 || true
	rm -f "$DIR/.gnuplot.err"
	return $st
}

# ---------------------------------------------------------------- case 1
# per_process FILE: one line per pid with
#   pid start_s end_s min maj cpu_s (times from the experiment's start;
#   records of a process reaped before its last sample are left out, their
#   counts are unknown)
per_process() {
	awk -F, '/^[0-9]/ && !(int($9 / 4) % 2) {
		s = $1 - $3
		if (!(($2) in first) || s < first[$2]) first[$2] = s
		if ($1 > last[$2]) last[$2] = $1
		if (!t0 || s < t0) t0 = s
		mn[$2] += $4; mj[$2] += $5; cpu[$2] += $6
	} END {
		for (p in mn)
			printf "%s %.3f %.3f %d %d %.3f\n", p, (first[p] - t0) / 1e9,
				(last[p] - t0) / 1e9, mn[p], mj[p], cpu[p] / 1e9
	}' "$1" | sort -n
}

# cumulative FILE PID: "t_s cum_min cum_maj" for one process, from 0
cumulative() {
	awk -F, -v pid="$2" '/^[0-9]/ { s = $1 - $3; if (!t0 || s < t0) t0 = s }
		/^[0-9]/ && $2 == pid && !(int($9 / 4) % 2) { r[++n] = $1 " " $4 " " $5 }
		END {
			split(r[1], a, " ")
			printf "%.3f 0 0\n", 0
			for (i = 1; i <= n; i++) {
				split(r[i], a, " "); m += a[2]; j += a[3]
				printf "%.3f %d %d\n", (a[1] - t0) / 1e9, m, j
			}
		}' "$1"
}

# rates FILE T: total fault rate of the experiment before and after T s
rates() {
	awk -F, -v t="$2" '/^[0-9]/ { s = $1 - $3; if (!t0 || s < t0) t0 = s; r[++n] = $0 }
		END {
			for (i = 1; i <= n; i++) {
				split(r[i], f, ",")
				if (int(f[9] / 4) % 2) continue
				x = (f[1] - t0) / 1e9
				if (x > end) end = x
				if (x <= t + 1e-9) b += f[4] + f[5]; else a += f[4] + f[5]
			}
			printf "%.0f %.0f\n", (t > 0 ? b / t : 0),
				(end > t ? a / (end - t) : 0)
		}' "$1"
}

plot_case1() {	# plot_case1 NAME TITLE
	local name=$1 title=$2 f=$D/$1.csv i=0 p rest plots=() lines=()
	while read -r p rest; do
		i=$((i + 1))
		cumulative "$f" "$p" > "$DIR/.$name.$p.dat"
		local label end
		label=$(sed -n "s/^pid $p: //p" "$D/$name.labels")
		end=$(echo "$rest" | awk '{ print $2 }')
		plots+=("'$DIR/.$name.$p.dat' using 1:2 with lines lw 2 lc $i title '$label minor'")
		plots+=("'$DIR/.$name.$p.dat' using 1:3 axes x1y2 with lines lw 2 dt 2 lc $i title '$label major'")
		lines+=("set arrow from $end, graph 0 to $end, graph 1 nohead dt 3 lc $i")
		lines+=("set label '$label done $(printf '%.1f' "$end") s' at $end, graph 0.96 right offset -0.5,-$((i - 1)) font ',9' tc lt $i")
	done < <(per_process "$f")
	{
		echo "set terminal pngcairo size 900,560 font ',10'"
		echo "set output '$DIR/$name.png'"
		echo "set title '$title'"
		echo "set xlabel 'time since the start (s)'"
		echo "set ylabel 'minor page faults (cumulative)'"
		echo "set y2label 'major page faults (cumulative)'"
		echo "set ytics nomirror; set y2tics; set grid; set key right center"
		echo "set yrange [0:1<*]; set y2range [0:1<*]"
		printf '%s\n' "${lines[@]}"
		echo "plot $(IFS=,; echo "${plots[*]}")"
	} | gp
	rm -f "$DIR"/."$name".*.dat
}

# ---------------------------------------------------------------- case 2
# case2_row N: "N util_pct min_per_s maj_per_s window_s" over the window in
# which the N processes ran (records of reaped processes' last intervals
# left out, their counts unknown)
case2_row() {
	awk -F, -v n="$1" -v cpus="$(meta case_2 cpus)" -v warm="$(meta case_2 warmup_s)" '
	/^[0-9]/ { s = $1 - $3; if (!t0 || s < t0) t0 = s; r[++k] = $0 }
	END {
		# The first warm seconds (the copies filling their memory)
		# are left out: the figures are those of the steady state.
		for (i = 1; i <= k; i++) {
			split(r[i], f, ",")
			if (int(f[9] / 4) % 2 || f[1] - f[3] < t0 + warm * 1e9)
				continue
			if (!a || f[1] - f[3] < a) a = f[1] - f[3]
			if (f[1] > t1) t1 = f[1]
			c += f[6]; mn += f[4]; mj += f[5]
		}
		t0 = a
		w = (t1 - t0) / 1e9
		printf "%d %.1f %.0f %.0f %.2f\n", n, 100 * c / 1e9 / w / cpus,
			mn / w, mj / w, w
	}' "$D/case_2_n$1.csv"
}

# ---------------------------------------------------------------- report
exp_section() {	# exp_section NAME TITLE
	local name=$1 title=$2 p st en mn mj cpu label
	echo "### $title"
	echo
	echo "![$title]($name.png)"
	echo
	echo "| process | workload | minor faults | major faults | CPU (s) | completed at (s) |"
	echo "| --- | --- | ---: | ---: | ---: | ---: |"
	while read -r p st en mn mj cpu; do
		label=$(sed -n "s/^pid $p: //p" "$D/$name.labels")
		echo "| $p | \`vmprof-work $(sed -n "s/^args $p: //p" "$D/$name.labels")\` ($label) | $mn | $mj | $cpu | $en |"
	done < <(per_process "$D/$name.csv")
	echo
}

plot_case1 case_1_work_1_2 "Experiment 1: two random-access processes"
plot_case1 case_1_work_3_4 "Experiment 2: random access and locality"

ns=$(meta case_2 ns)
for n in $ns; do case2_row "$n"; done > "$DIR/case_2.tsv"
gp <<EOF
set terminal pngcairo size 900,560 font ',10'
set output '$DIR/case_2.png'
set title 'CPU utilisation against the degree of multiprogramming ($(meta case_2 memory_mb) MiB RAM, $(meta case_2 size_mb) MiB per process)'
set xlabel 'processes (N)'
set ylabel 'CPU utilisation (% of $(meta case_2 cpus) CPUs)'
set y2label 'major page faults per second'
set ytics nomirror; set y2tics; set grid; set key left top
set yrange [0:1<*]; set y2range [0:1<*]
plot '$DIR/case_2.tsv' using 1:2 with linespoints lw 2 pt 7 title 'CPU utilisation', \
     '$DIR/case_2.tsv' using 1:4 axes x1y2 with linespoints lw 2 dt 2 pt 5 title 'major faults/s'
EOF

{
	echo "# vmprof case studies: $(meta case_1 date)"
	echo
	echo "Measured by vmprof every $(meta case_1 period_ms) ms in the lab VM ($(meta case_1 machine))."
	echo "Everything below is computed from the data files in \`data/\` by \`lab/analyze.sh\`."
	echo
	echo "## Case study 1: page faults of random and locality workloads"
	echo
	echo "Two experiments, each two \`vmprof-work\` processes of $(meta case_1 size_mb) MiB started together"
	echo "($(meta case_1 iterations) iterations, $(meta case_1 pause_ms) ms pause), in a VM with $(meta case_1 memory_mb) MiB of RAM."
	echo
	exp_section case_1_work_1_2 "Experiment 1: random and random"
	exp_section case_1_work_3_4 "Experiment 2: random and locality"

	read -r f1 < <(per_process "$D/case_1_work_1_2.csv" | awk '{ s += $4 + $5 } END { print s }')
	read -r f2 < <(per_process "$D/case_1_work_3_4.csv" | awk '{ s += $4 + $5 } END { print s }')
	echo "### Findings"
	echo
	awk -v a="$f1" -v b="$f2" 'BEGIN {
		if (b > 0 && a > b)
			printf "- Experiment 1 took %d page faults, experiment 2 %d: **%.1f times as many**. The second\n  process of experiment 2 keeps its accesses in a small window, so once the window is\n  mapped its accesses hit pages it already has; a random process keeps reaching pages\n  it has not touched yet.\n", a, b, a / b
		else
			printf "- Experiment 1 took %d page faults and experiment 2 %d: the data do **not** show\n  random access faulting more than locality here.\n", a, b
	}'
	# Which process of experiment 2 is the locality one, and how it compares
	per_process "$D/case_1_work_3_4.csv" > "$DIR/.e2"
	lp=$(sed -n 's/^pid \([0-9]*\): locality.*/\1/p' "$D/case_1_work_3_4.labels")
	rp=$(sed -n 's/^pid \([0-9]*\): random.*/\1/p' "$D/case_1_work_3_4.labels")
	awk -v lp="$lp" -v rp="$rp" '$1 == lp { l = $4 + $5 } $1 == rp { r = $4 + $5 }
		END { if (l > 0) printf "- Within experiment 2 the random process faulted %.1f times as often as the locality\n  process (%d against %d).\n", r / l, r, l }' "$DIR/.e2"
	rm -f "$DIR/.e2"
	for name in case_1_work_1_2 case_1_work_3_4; do
		first=$(per_process "$D/$name.csv" | sort -k3 -n | head -n1)
		set -- $first
		read -r before after < <(rates "$D/$name.csv" "$3")
		label=$(sed -n "s/^pid $1: //p" "$D/$name.labels")
		awk -v n="$name" -v l="$label" -v t="$3" -v b="$before" -v a="$after" 'BEGIN {
			printf "- %s: the first process to complete (%s) ends at %.1f s. Up to then the\n  two took %d faults per second together, afterwards %d: ", (n == "case_1_work_1_2" ? "Experiment 1" : "Experiment 2"), l, t, b, a
			if (a < b * 0.8) printf "the total curve breaks and flattens there.\n"
			else if (a > b * 1.2) printf "the total rate rose after it, no flattening.\n"
			else printf "no clear break in the total curve.\n"
		}'
	done
	echo
	echo "## Case study 2: CPU utilisation against the degree of multiprogramming"
	echo
	echo "N copies of \`vmprof-work $(meta case_2 size_mb) R $(meta case_2 accesses)\` (random access, $(meta case_2 pause_ms) ms pause between"
	echo "iterations) run together for $(meta case_2 seconds) s in a VM with $(meta case_2 memory_mb) MiB of RAM, $(meta case_2 cpus) CPUs and"
	echo "a $(meta case_2 swap_mb) MiB swap disk limited to $(meta case_2 swap_iops) requests per second (a hard disk's pace);"
	echo "about $(meta case_2 free_mb) MiB were free before the runs.  Utilisation is the processes' CPU time"
	echo "over the time they ran, as a share of all CPUs, leaving out the first $(meta case_2 warmup_s) s in which"
	echo "they fill their memory."
	echo
	echo "![CPU utilisation and major faults against N](case_2.png)"
	echo
	echo "| N | memory asked (MiB) | CPU utilisation (%) | minor faults/s | major faults/s |"
	echo "| ---: | ---: | ---: | ---: | ---: |"
	awk -v sz="$(meta case_2 size_mb)" '{ printf "| %d | %d | %.1f | %d | %d |\n", $1, $1 * sz, $2, $3, $4 }' "$DIR/case_2.tsv"
	echo
	echo "### Findings"
	echo
	awk -v sz="$(meta case_2 size_mb)" -v free="$(meta case_2 free_mb)" '
		{ n[NR] = $1; u[NR] = $2; mj[NR] = $4 }
		END {
			best = 1
			for (i = 2; i <= NR; i++) if (u[i] > u[best]) best = i
			printf "- Utilisation peaks at **N = %d (%.1f %%)**", n[best], u[best]
			if (best == NR) {
				printf ", at the largest N measured: the data do **not** show thrashing;\n  utilisation did not fall. Run larger N (CASE2_NS) or give the VM less memory.\n"
				exit
			}
			low = best
			for (i = best + 1; i <= NR; i++) if (u[i] < u[low]) low = i
			drop = 100 * (u[best] - u[low]) / u[best]
			printf " and falls to %.1f %% at N = %d, **%.0f %% below the peak**.\n", u[low], n[low], drop
			th = 0
			for (i = best + 1; i <= NR; i++) if (u[i] < 0.9 * u[best]) { th = i; break }
			if (th)
				printf "- Thrashing sets in at **N = %d**: %d MiB asked of about %d MiB free.\n", n[th], n[th] * sz, free
			else
				printf "- Utilisation never falls more than 10 %% below its peak: no clear thrashing point.\n"
			printf "- Major faults per second: %d at the peak, %d at N = %d. ", mj[best], mj[low], n[low]
			if (mj[low] > mj[best])
				printf "Past the peak the processes\n  no longer fit in memory; each access to a page that was swapped out is a major fault\n  that blocks the process until the swap disk delivers the page, so the CPUs wait\n  instead of running: more processes, less work done.\n"
			else
				printf "Major faults did not rise past the peak, so\n  swapping does not explain the fall here.\n"
		}' "$DIR/case_2.tsv"
	echo
	echo "## Data"
	echo
	echo "\`data/\` holds the per-process samples (CSV from \`vmprof-monitor\`), the workloads' own"
	echo "figures and the parameters (\`*.meta\`); \`lab/analyze.sh\` rebuilds this report from them."
} > "$DIR/report.md"
echo "report: $DIR/report.md"
