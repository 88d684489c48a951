// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmprof-monitor: stream the vmprof ring to standard output or a file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "stream.h"
#include "util.h"
#include "vmprof.h"

static const char usage_text[] =
"Usage: vmprof-monitor [OPTION]...\n"
"\n"
"Stream the samples of the vmprof module (minor and major page faults, CPU\n"
"time and resident size of every registered process, every period_ms) until\n"
"Ctrl-C, --duration or --until-empty.  Register processes with\n"
"`vmprof register PID` or run them with `vmprof run`.\n"
"\n"
"Without the module (or with --backend bpf), a BPF sampler runs inside\n"
"vmprof-monitor and samples the processes given with --pid, which it\n"
"registers, until it stops (root, or CAP_BPF and CAP_PERFMON; Linux 6.1 or\n"
"later with BTF; not in a container's pid namespace).  At the end a line\n"
"on standard error gives the sampler's cost.\n"
"\n"
"Options:\n"
"  -o, --output FILE    write to FILE instead of standard output\n"
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
"  vmprof-monitor -a -o ticks.csv -u       per-tick totals until empty\n"
"  vmprof-monitor -f json --pid 1234 -d 10\n"
"  sudo vmprof-monitor --backend bpf --pid 1234 -u -o p.csv\n";

/*
 * The BPF sampler samples only what this session registers: the --pid
 * processes, which it then samples until it stops.  EXIT_OK or EXIT_FAIL.
 */
static int register_pids(struct vmprof_session *s, const pid_t *pids,
			 size_t npids, enum vmprof_backend backend)
{
	if (!npids)
		return util_fail("the BPF sampler%s samples only the processes given with --pid PID, which vmprof-monitor registers: name them; or, to watch those `vmprof register` registered, load the vmprof module: run `modprobe vmprof` (as root)",
				 util_bpf_why(backend));
	for (size_t i = 0; i < npids; i++) {
		int err = vmprof_register(s, pids[i]);

		if (err && err != -EEXIST)
			return util_fail_errno(err, "cannot register %d",
					       (int)pids[i]);
	}
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "per-process", no_argument, NULL, 'p' },
		{ "aggregate", no_argument, NULL, 'a' },
		{ "pid", required_argument, NULL, 'P' },
		{ "backend", required_argument, NULL, 'B' },
		{ "duration", required_argument, NULL, 'd' },
		{ "until-empty", no_argument, NULL, 'u' },
		{ "oldest", no_argument, NULL, 'O' },
		{ "mlock", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct stream_opts o = { .fmt = VMPROF_FMT_CSV };
	enum vmprof_backend backend = VMPROF_BACKEND_AUTO;
	struct vmprof_stats from, to;
	struct stream_result res;
	struct vmprof_session *s;
	const char *out = NULL;
	unsigned int flags = VMPROF_OPEN_RING;
	pid_t *pids = NULL;
	size_t npids = 0;
	int c, rc, lock = 0, shared, have_from, have_to;
	char sampler[256];

	util_set_prog("vmprof-monitor");
	while ((c = getopt_long(argc, argv, "o:f:pad:uhV", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			if (vmprof_format_parse(optarg, &o.fmt))
				return util_usage_error("--format must be csv, tsv or json");
			break;
		case 'p':
			o.aggregate = 0;
			break;
		case 'a':
			o.aggregate = 1;
			break;
		case 'P':
			pids = realloc(pids, (npids + 1) * sizeof(*pids));
			if (!pids)
				return util_fail("out of memory");
			pids[npids++] = (pid_t)util_parse_ulong(optarg, "pid", 1, INT_MAX);
			break;
		case 'B':
			backend = util_parse_backend(optarg);
			break;
		case 'd':
			o.duration_s = util_parse_double(optarg, "duration", 0.001, 1e9);
			break;
		case 'u':
			o.until_empty = 1;
			break;
		case 'O':
			flags |= VMPROF_OPEN_OLDEST;
			break;
		case 'L':
			lock = 1;
			break;
		case 'h':
			return util_help(usage_text);
		case 'V':
			return util_version();
		default:
			return util_usage_error(NULL);
		}
	}
	if (optind < argc)
		return util_usage_error("unexpected argument");
	o.pids = pids;
	o.npids = npids;
	if (lock && mlockall(MCL_CURRENT | MCL_FUTURE))
		return util_fail("cannot lock memory: %s (needs CAP_IPC_LOCK or a larger RLIMIT_MEMLOCK)",
				 strerror(errno));

	rc = util_session_open(&s, flags, backend);
	if (rc)
		goto out_free;
	/* A sampler of its own samples what it is given. */
	shared = vmprof_session_caps(s) & VMPROF_SAMPLER_SHARED;
	rc = shared ? EXIT_OK : register_pids(s, pids, npids, backend);
	if (rc)
		goto out_close;
	if (out) {
		o.out = fopen(out, "w");
		if (!o.out) {
			rc = util_fail("cannot create %s: %s", out, strerror(errno));
			goto out_close;
		}
		o.out_name = out;
	} else {
		o.out = stdout;
		o.out_name = "standard output";
	}
	have_from = !vmprof_stats_read(s, &from);
	stream_catch_signals();
	rc = stream_run(s, &o, &res);
	have_to = !vmprof_stats_read(s, &to);
	util_sampler_line(sampler, sizeof(sampler), s,
			  have_from ? &from : NULL, have_to ? &to : NULL);
	if (out ? util_close_file(o.out, out) : util_close_stdout())
		rc = EXIT_FAIL;
	if (res.lost) {
		util_warn("%llu records lost: the reader fell behind and the ring overflowed (%swrite to a faster file)",
			  res.lost, !shared ? "" :
			  "load the module with a larger buffer_pages, or ");
		rc = EXIT_FAIL;
	}
	fprintf(stderr, "%s: %llu records, %llu lost\n", util_prog(),
		res.records, res.lost);
	util_warn("%s", sampler);
out_close:
	vmprof_session_close(s);
out_free:
	free(pids);
	return rc;
}
