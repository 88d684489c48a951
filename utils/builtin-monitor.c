// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmprof monitor (and vmprof-monitor): stream the vmprof ring to standard
 * output or a file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "record.h"
#include "util.h"
#include "vmprof.h"

const char monitor_usage[] =
"Usage: vmprof monitor [OPTION]...\n"
"  or:  vmprof-monitor [OPTION]...\n"
"\n"
"Stream the samples of the vmprof module (minor and major page faults, CPU\n"
"time and resident size of every registered process, every period_ms) until\n"
"Ctrl-C, --duration or --until-empty.  Register processes with\n"
"`vmprof register PID` or run them with `vmprof run`.\n"
"\n"
"Without the module (or with --backend bpf), a BPF sampler runs inside\n"
"the monitor and samples the processes given with --pid, which it\n"
"registers, until it stops (root, or CAP_BPF and CAP_PERFMON; Linux 6.1 or\n"
"later with BTF; not in a container's pid namespace).  At the end a line\n"
"on standard error gives the sampler's cost.\n"
"\n"
"Options:\n"
"  -o, --output FILE    write to FILE instead of standard output (- for\n"
"                       standard output); an existing FILE is kept as\n"
"                       FILE.old\n"
"  -f, --format FMT     csv (default, with a header row), tsv or json\n"
"                       (JSON lines: one object per line)\n"
"  -p, --per-process    one row per process per tick (default)\n"
"  -a, --aggregate      one row per tick, summed over processes: time,\n"
"                       processes, minor, major, CPU time, CPU utilisation\n"
"      --pid PID        only this process (repeatable); with BPF, the\n"
"                       processes to sample (one at least)\n"
"      --backend B      auto (default: VMPROF_BACKEND if set, else the\n"
"                       module if loaded, else bpf), module or bpf\n"
"  -d, --duration SEC   stop after SEC seconds\n"
"  -u, --until-empty    stop once no process is registered any more\n"
"      --oldest         start with the oldest records still in the ring\n"
"                       (default: only records written from now on)\n"
"      --mlock          lock the monitor in memory, so that the memory\n"
"                       pressure it watches does not page it out\n"
"  -h, --help           show this help\n"
"  -V, --version        show the version\n"
"\n"
"Columns (CSV/TSV): time_ns (CLOCK_MONOTONIC), pid, interval_ns (time the\n"
"deltas cover), min_flt, maj_flt, cpu_ns (deltas), cpu_util (cpu_ns /\n"
"interval_ns; 1.0 = one CPU), rss_kb, flags (1 exited, 2 unregistered,\n"
"4 reaped before its last sample).  Per process, a line\n"
"\"# process pid=PID command=TEXT\" comes before a process's first row,\n"
"with its command line from /proc/PID/cmdline.\n"
"\n"
"Lost records (the ring overflowed because the reader fell behind) are\n"
"counted and reported at the end; exit status 1 if any were lost.\n"
"\n"
"Examples:\n"
"  vmprof-monitor                          stream CSV to the terminal\n"
"  vmprof monitor -d 5 -o five.csv         the same command, 5 s into a file\n"
"  vmprof-monitor -a -o ticks.csv -u       per-tick totals until empty\n"
"  vmprof-monitor -f json --pid 1234 -d 10\n"
"  sudo vmprof-monitor --backend bpf --pid 1234 -u -o p.csv\n";

/*
 * A sampler of the session's own (BPF) samples only what it registers: the
 * --pid processes, which it then samples until it stops.  EXIT_OK or
 * EXIT_FAIL.
 */
static int register_pids(const struct record *r)
{
	if (!r->npids)
		return util_fail("the BPF sampler%s samples only the processes given with --pid PID, which %s registers: name them; or, to watch those `vmprof register` registered, load the vmprof module: run `modprobe vmprof` (as root)",
				 util_bpf_why(r->backend), util_prog());
	for (size_t i = 0; i < r->npids; i++) {
		int err = vmprof_register(r->s, r->pids[i]);

		if (err && err != -EEXIST)
			return util_fail_errno(err, "cannot register %d",
					       (int)r->pids[i]);
	}
	return EXIT_OK;
}

/* Stream until told to stop; then the counts and the sampler's cost. */
static int monitor(struct record *r)
{
	char sampler[256];
	int rc;

	rc = record_open(r);
	if (rc == EXIT_OK && !r->shared)
		rc = register_pids(r);
	if (rc)
		return record_close(r, rc);
	stream_catch_signals();
	rc = record_stream(r);
	record_sampler_line(r, sampler, sizeof(sampler));
	if (record_close_output(r))
		rc = EXIT_FAIL;
	if (r->res.lost) {
		util_warn("%llu records lost: the reader fell behind and the ring overflowed (%swrite to a faster file)",
			  r->res.lost, !r->shared ? "" :
			  "load the module with a larger buffer_pages, or ");
		rc = EXIT_FAIL;
	}
	fprintf(stderr, "%s: %llu records, %llu lost\n", util_prog(),
		r->res.records, r->res.lost);
	util_warn("%s", sampler);
	return record_close(r, rc);
}

int cmd_monitor(int argc, char **argv)
{
	struct record r = RECORD_INIT(RECORD_MONITOR, "-");
	int rc;

	rc = record_parse(&r, monitor_usage, argc, argv);
	if (rc < 0 && optind < argc)
		rc = util_usage_error("unexpected argument");
	if (rc < 0)
		return monitor(&r);
	return record_close(&r, rc);
}
