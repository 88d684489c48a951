# A Perfetto trace of `vmprof report --format perfetto`, as `protoc --decode`
# prints it, against `vmprof report --format tsv` of the same data file.
# Usage: awk -f perfetto-check.awk REPORT.tsv TRACE.txt
# Prints one line per fault found ("error: ..."), the integral of each
# pressure track ("stall NAME SECONDS": "stall memory some stall 0.123")
# and, last, a summary: "processes N events E" (N process tracks, E
# counter events).  Exit status 1 if it found a fault or no event.
#
# What it checks: every packet is on a sequence, the first is the clock
# snapshot making CLOCK_MONOTONIC the trace's clock; every counter event
# is on a counter track declared before it, each process track's name ends in its pid, every time stamp
# is CLOCK_MONOTONIC and rises along its track, rate tracks end at 0;
# per process, the integral of the minor and major fault rates over time
# equals the report's count, and that of the CPU utilisation its CPU
# time (to the report's microsecond), and the resident track's peak is
# the report's largest resident size; the report and the trace have the
# same processes.  Pressure tracks, under the one pressure track: time
# rising along each, ending at 0.

function fail(msg) {
	print "error: " msg
	errors++
}

FILENAME == ARGV[1] {	# the report (tab-separated), read by column name
	nf = split($0, f, "\t")
	if (FNR == 1) {
		for (i = 1; i <= nf; i++)
			col[f[i]] = i
		next
	}
	pid = f[col["pid"]]
	if (f[col["samples"]] > 0) {
		# pid 0: the total, or a per-tick file's series ("all processes")
		want_min[pid] = f[col["min_flt"]]
		want_maj[pid] = f[col["maj_flt"]]
		want_cpu[pid] = f[col["cpu_s"]]
		want_rss[pid] = f[col["max_rss_kb"]] * 1024
	}
	next
}

/^packet \{/ {
	packets++
	ts = ""; clk = ""; td = 0; ev = 0; is_counter = 0; seq = ""; snap = 0
	uuid = ""; parent = ""; name = ""; tu = ""; val = ""; type = ""
	next
}
/^  timestamp: / { ts = $2; next }
/^  trusted_packet_sequence_id: / { seq = $2; next }
/^    primary_trace_clock: BUILTIN_CLOCK_MONOTONIC$/ { snap = 1; next }
/^  timestamp_clock_id: / { clk = $2; next }
/^  track_descriptor \{/ { td = 1; next }
/^  track_event \{/ { ev = 1; next }
td && /^    counter \{/ { is_counter = 1; next }
td && /^    uuid: / { uuid = $2; next }
td && /^    parent_uuid: / { parent = $2; next }
td && /^    name: / { name = substr($0, index($0, ":") + 3); sub(/"$/, "", name); next }
ev && /^    type: / { type = $2; next }
ev && /^    track_uuid: / { tu = $2; next }
ev && /^    (double_)?counter_value: / { val = $2; next }

/^\}/ {
	# Perfetto drops a track event of no sequence; the first packet says
	# the trace's clock is CLOCK_MONOTONIC.
	if (seq == "")
		fail("packet " packets " has no trusted_packet_sequence_id")
	if (packets == 1 && !snap)
		fail("the first packet is not a clock snapshot making CLOCK_MONOTONIC the trace's clock")
	if (td) {
		if (uuid in declared)
			fail("track " uuid " declared twice")
		declared[uuid] = 1
		if (is_counter && parent == psi_track) {
			stall_name[uuid] = name
			counter_pid[uuid] = "psi"
		} else if (is_counter) {
			if (!(parent in proc_pid))
				fail("counter track " uuid " (" name ") is not under a process track")
			counter_pid[uuid] = proc_pid[parent]
			counter_name[uuid] = name
		} else if (name == "pressure stall (PSI, the whole system)") {
			if (psi_track != "")
				fail("a second pressure track")
			psi_track = uuid
		} else {
			n = split(name, w, " ")
			if (name == "all processes")
				w[n] = 0
			else if (w[n] !~ /^[1-9][0-9]*$/)
				fail("process track " uuid " is named \"" name "\", not \"COMMAND PID\"")
			proc_pid[uuid] = w[n]
			procs++
			if (parent != "" && !(parent in proc_pid))
				fail("process track " uuid " is under " parent ", not a process track declared before it")
		}
	}
	if (ev) {
		events++
		if (!(tu in counter_pid))
			fail("an event at " ts " is on track " tu ", not a counter track declared before it")
		else if (type != "TYPE_COUNTER" || val == "")
			fail("an event on track " tu " at " ts " is not a counter value")
		if (clk != 3)
			fail("an event at " ts " is not on CLOCK_MONOTONIC (clock " clk ")")
		if (tu in last_ts) {
			if (ts + 0 <= last_ts[tu] + 0)
				fail("time stamps of track " tu " do not rise: " ts " after " last_ts[tu])
			integral[tu] += last_val[tu] * (ts - last_ts[tu]) / 1e9
		}
		last_ts[tu] = ts
		last_val[tu] = val
		if (!(tu in peak) || val + 0 > peak[tu])
			peak[tu] = val + 0
	}
	next
}

END {
	# the pressure tracks: % of the time; their integral, in seconds
	for (tu in stall_name) {
		if (!(tu in last_ts))
			fail("pressure track " tu " has no value")
		else if (last_val[tu] != 0)
			fail("pressure track " stall_name[tu] " does not end at 0")
		printf "stall %s %.6f\n", stall_name[tu], integral[tu] / 100
		delete counter_pid[tu]
	}
	for (tu in counter_pid) {
		pid = counter_pid[tu]
		k = counter_name[tu]
		if (!(tu in last_ts)) {
			fail("counter track " tu " of " pid " has no value")
			continue
		}
		if (k != "resident" && last_val[tu] != 0)
			fail("the " k " track of " pid " does not end at 0")
		if (k == "minor faults/s")
			got_min[pid] = integral[tu]
		else if (k == "major faults/s")
			got_maj[pid] = integral[tu]
		else if (k == "CPU utilisation")
			got_cpu[pid] = integral[tu]
		else if (k == "resident")
			got_rss[pid] = peak[tu]
		else
			fail("counter track " tu " of " pid " is named \"" k "\"")
	}
	# A per-process file's report has a total (pid 0) and no such track.
	if (!(0 in got_min))
		delete want_min[0]
	for (pid in want_min) {
		if (!(pid in got_min)) {
			fail("process " pid " of the report has no tracks")
			continue
		}
		if (sprintf("%.0f", got_min[pid]) != want_min[pid])
			fail("process " pid ": minor faults " got_min[pid] " in the trace, " want_min[pid] " in the report")
		if (sprintf("%.0f", got_maj[pid]) != want_maj[pid])
			fail("process " pid ": major faults " got_maj[pid] " in the trace, " want_maj[pid] " in the report")
		d = got_cpu[pid] - want_cpu[pid]
		if (d > 1e-6 || d < -1e-6)
			fail("process " pid ": CPU " sprintf("%.9f", got_cpu[pid]) " s in the trace, " want_cpu[pid] " in the report")
		if (got_rss[pid] != want_rss[pid])
			fail("process " pid ": largest resident size " got_rss[pid] " bytes in the trace, " want_rss[pid] " in the report")
	}
	for (pid in got_min)
		if (!(pid in want_min))
			fail("process " pid " has tracks but no line in the report")
	if (!events)
		fail("no counter event")
	printf "processes %d events %d\n", procs, events
	exit errors > 0
}
