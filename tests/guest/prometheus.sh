#!/bin/bash
# A recorded run loaded into a real Prometheus (Debian's prometheus and
# promtool) at its full 50 ms resolution: vmprof report --format
# openmetrics, promtool tsdb create-blocks-from openmetrics, and the
# server's answers against vmprof report's totals.  As root, natively on
# the host (tests/prometheus.test, with the sampler the tools pick).
# Usage: prometheus.sh VMPROF_T VMPROF_KO BUILDDIR (the first two unused:
# the arguments of every guest script).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
guest_setup --no-debug-state "$@"
trap 'if [ -n "${prom:-}" ]; then kill "$prom" 2> /dev/null; wait "$prom"; fi; rm -rf "$tmp"' EXIT

for p in prometheus promtool; do
	command -v $p > /dev/null || tap_bail "$p not found: install Debian's prometheus (./bootstrap --install-deps)"
done

# A tree of short processes over about a second: a shell forking sort and
# ls, each for a tick or two.
before=$(date +%s)
# shellcheck disable=SC2016 # (the workload's shell expands it)
"$VMPROF" run -o "$tmp/run.csv" -- sh -c 'for i in $(seq 15); do sort /etc/services > /dev/null; ls -R /usr/share/doc > /dev/null; done; sleep 0.3' \
	> "$tmp/run.out" 2>&1
is "vmprof run of the workload exits 0" "$?" 0
after=$(($(date +%s) + 1))
diag "$(grep -E '^(vmprof|sampler):' "$tmp/run.out")"
"$VMPROF" report --format tsv "$tmp/run.csv" > "$tmp/r.tsv"
total() {	# total COLUMN: the total row's COLUMN
	awk -F'\t' -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["pid"] == 0 { print $c[name] }' "$tmp/r.tsv"
}
nproc=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	$c["pid"] != 0 && $c["samples"] > 0 { n++ } END { print n + 0 }' "$tmp/r.tsv")
diag "report: $nproc processes, $(total samples) samples, $(total min_flt) minor and $(total maj_flt) major faults, $(total cpu_s) s of CPU"
check "the run has more than 20 processes ($nproc)" test "$nproc" -gt 20

"$VMPROF" report --format openmetrics "$tmp/run.csv" > "$tmp/run.om"
is "report --format openmetrics exits 0" "$?" 0
"$VMPROF" report --by command --format openmetrics "$tmp/run.csv" > "$tmp/cmd.om"
is "...and --by command" "$?" 0
# Time stamps in wall-clock time: within the run, as date(1) saw it.
# shellcheck disable=SC2016 # (awk's fields)
check "every time stamp lies within the run ($before to $after s)" \
	awk -v lo="$before" -v hi="$after" '$1 !~ /^#/ { n++; if ($NF < lo || $NF > hi) bad++ } END { exit !(n > 0 && !bad) }' "$tmp/run.om"
promtool tsdb create-blocks-from openmetrics "$tmp/run.om" "$tmp/data" > "$tmp/blocks.out" 2>&1
is "promtool tsdb create-blocks-from openmetrics takes the per-process exposition" "$?" 0
promtool tsdb create-blocks-from openmetrics "$tmp/cmd.om" "$tmp/data" >> "$tmp/blocks.out" 2>&1
is "...and the per-command one" "$?" 0
diag "$(grep -v '^$' "$tmp/blocks.out")"

# The server, on the blocks, on a free port of the loopback; its first
# answer comes a few seconds after it starts (90 s at most: a port
# another program took makes it exit at once, and another is tried).
printf 'global:\n  scrape_interval: 15s\n' > "$tmp/prometheus.yml"
for _ in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
		--web.listen-address="127.0.0.1:$port" > "$tmp/prometheus.log" 2>&1 &
	prom=$!
	url=http://127.0.0.1:$port
	for _ in $(seq 900); do
		kill -0 "$prom" 2> /dev/null || break
		promtool query instant "$url" 'vector(1)' > /dev/null 2>&1 && break 2
		sleep 0.1
	done
	kill "$prom" 2> /dev/null
	wait "$prom"
	prom=
done
check "prometheus answers on 127.0.0.1" test -n "$prom"
[ -n "$prom" ] || diag "$(tail -n 5 "$tmp/prometheus.log")"

# Queried a second after the last sample, over the hour before it.
at=$(awk '$1 !~ /^#/ { t = $NF > t ? $NF : t } END { printf "%d", t + 1 }' "$tmp/run.om")
q() {	# q EXPR: the value of a one-element vector
	promtool query instant --time="$at" "$url" "$1" 2>&1 | awk '$2 == "=>" { print $3 }'
}
P='pid!=""'
is "count_over_time: a point a sample (Prometheus's sum over the processes)" \
	"$(q "sum(count_over_time(vmprof_page_faults_total{type=\"minor\",$P}[1h]))")" "$(total samples)"
is "a series a process" \
	"$(q "count(count_over_time(vmprof_page_faults_total{type=\"minor\",$P}[1h]))")" "$nproc"
is "minor faults: the counters' last values add up to the report's total" \
	"$(q "sum(max_over_time(vmprof_page_faults_total{type=\"minor\",$P}[1h]))")" "$(total min_flt)"
is "major faults: the same" \
	"$(q "sum(max_over_time(vmprof_page_faults_total{type=\"major\",$P}[1h]))")" "$(total maj_flt)"
cpu=$(q "sum(max_over_time(vmprof_cpu_seconds_total{$P}[1h]))")
# (The report rounds to the microsecond, the server sums doubles: 1 us.)
check "CPU seconds: the same, to the report's microsecond ($cpu against $(total cpu_s))" \
	awk -v a="$cpu" -v b="$(total cpu_s)" 'BEGIN { d = a - b; exit !(a != "" && d <= 1e-6 && d >= -1e-6) }'
is "--by command: the commands' counters add up to the same total" \
	"$(q "sum(max_over_time(vmprof_page_faults_total{type=\"minor\",pid=\"\"}[1h]))")" "$(total min_flt)"
is "no counter goes back (resets() over every series)" \
	"$(q 'sum(resets(vmprof_page_faults_total[1h])) + sum(resets(vmprof_cpu_seconds_total[1h]))')" 0
done_testing
