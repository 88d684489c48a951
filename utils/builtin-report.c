// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof report [--by WHAT] [--format FMT] [--from SEC] [--to SEC] [-o OUT] FILE */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "builtin.h"
#include "datafile.h"
#include "openmetrics.h"
#include "perfetto.h"
#include "report.h"
#include "util.h"

const char report_usage[] =
"Usage: vmprof report [OPTION]... FILE\n"
"\n"
"Summarise a data file written by `vmprof run` or vmprof-monitor (CSV or\n"
"TSV; - reads standard input): per process the duration, samples, total\n"
"minor and major faults, CPU time, mean and peak CPU utilisation (100 % =\n"
"one CPU), peak fault rates over one sample, largest resident size, how it\n"
"ended and its command; then the total.  A per-tick (--aggregate) file\n"
"gives one series.\n"
"\n"
"Options:\n"
"  -b, --by WHAT      one line per process (default), per command (the\n"
"                     program a process ran when sampled, without its\n"
"                     directory: the samples of a process that execs go\n"
"                     to its new program from the exec on), or per tree (a\n"
"                     process of the file and every descendant the file\n"
"                     has: needs the ppid column of `vmprof run`'s files).\n"
"                     A command's or a tree's peaks are those of the sums\n"
"                     of its processes at each sample\n"
"  -f, --format FMT   text (default: a table for people), or tsv, csv or\n"
"                     json (JSON lines) for programs: a header row, one row\n"
"                     per process and a total row (pid 0, command \"total\");\n"
"                     or openmetrics: every sample with its wall-clock time,\n"
"                     for promtool tsdb create-blocks-from openmetrics (see\n"
"                     below); or perfetto: a trace for the Perfetto UI\n"
"                     (binary: give -o; see below)\n"
"      --from SEC     count only samples whose interval starts SEC seconds\n"
"                     or more after the start of the data (its first\n"
"                     sample's interval start)\n"
"      --to SEC       ...and ends at most SEC seconds after it\n"
"  -o, --output OUT   write to OUT (a new or regular file, not through a\n"
"                     symbolic link) instead of standard output\n"
"  -P, --pressure     the pressure stall alone (see below): in tsv, csv or\n"
"                     json, a row per kind recorded (memory_some,\n"
"                     memory_full, cpu_some, io_some, io_full and, from\n"
"                     vmprof run, cgroup_memory_some and _full) with\n"
"                     stall_s, stall_pct and span_s (the time the file's\n"
"                     pressure lines in the window span)\n"
"  -h, --help         show this help\n"
"\n"
"Columns of tsv, csv and json: pid, command, start_s and end_s (from the\n"
"start of the data), duration_s, samples, min_flt, maj_flt, cpu_s,\n"
"cpu_util (CPU time over the sampled time, 1.0 = one CPU; for the total,\n"
"over the time from the first start to the last end: 2.0 = two CPUs busy),\n"
"min_flt_per_s and maj_flt_per_s (over the same time), peak_cpu_util,\n"
"peak_min_flt_per_s, peak_maj_flt_per_s (over one sample), max_rss_kb,\n"
"end (running, exited, unregistered, or reaped: reaped by its parent\n"
"before its last sample, whose counts are missing and left out).  By\n"
"command and by tree: processes (how many had samples in the line's\n"
"group) after command, no end, and cpu_util and the rates over the time\n"
"from the group's first start to its last end, as for the total; by\n"
"command, no pid; by tree, the root's pid and command.\n"
"\n"
"OpenMetrics: a series per line of the report, labelled pid and command\n"
"(as --by groups them): vmprof_page_faults_total{type=\"minor\"|\"major\"}\n"
"and vmprof_cpu_seconds_total, counters from the first sample in the\n"
"window, and the gauge vmprof_resident_bytes.  Time stamps come from the\n"
"file's clock line, which files of older vmprof versions lack.\n"
"\n"
"Pressure: files of vmprof run and monitor hold the system's pressure\n"
"stall information (PSI) at every tick, and run's the command's cgroup's;\n"
"the text report ends with the stall over the window, per kind, in\n"
"seconds and as a share of the time (see --pressure).\n"
"\n"
"Perfetto: Perfetto's protobuf trace format.  A track per process, under\n"
"its parent's when the parent has samples too, holding four counter\n"
"tracks: minor and major faults per second and CPU utilisation (1 = one\n"
"CPU), each a step over the interval it was measured in, and the resident\n"
"size.  Time is CLOCK_MONOTONIC, as recorded.  Open the file in\n"
"https://ui.perfetto.dev (Open trace file): the page reads it in the\n"
"browser and uploads nothing.  Per process only: --by command or tree is\n"
"refused.  The pressure lines give a track of the stall per kind.\n"
"\n"
"Examples:\n"
"  vmprof report vmprof.csv\n"
"  vmprof report --format tsv --from 2 vmprof.csv\n"
"  vmprof report --by command build.csv\n"
"  vmprof report --pressure -f tsv --from 2 --to 6 build.csv\n"
"  vmprof report -f openmetrics build.csv > build.om &&\n"
"    promtool tsdb create-blocks-from openmetrics build.om data/\n"
"  vmprof report -f perfetto -o build.perfetto-trace build.csv\n"
"  vmprof-monitor -d 5 | vmprof report -\n";

enum report_output { OUT_REPORT, OUT_OPENMETRICS, OUT_PERFETTO };

/* The report, and the exporter (if any) that collects its rows. */
struct report_job {
	struct report rep;
	enum report_output out;
	int pressure;		/* --pressure: its stall alone */
	struct openmetrics om;
	struct perfetto pf;
};

static int add(const struct vmprof_row *row, void *arg)
{
	struct report_job *job = arg;

	return report_add(&job->rep, row);
}

static int name(uint32_t pid, const char *command, void *arg)
{
	struct report_job *job = arg;

	return report_name(&job->rep, pid, command);
}

static int clock_line(uint64_t realtime_ns, uint64_t monotonic_ns, void *arg)
{
	struct report_job *job = arg;

	if (job->out == OUT_OPENMETRICS)
		return openmetrics_clock(&job->om, realtime_ns, monotonic_ns);
	if (job->out == OUT_PERFETTO)
		return perfetto_clock(&job->pf, realtime_ns, monotonic_ns);
	return 0;
}

static int pressure(const struct pressure *p, const char *reason, void *arg)
{
	struct report_job *job = arg;

	return report_pressure(&job->rep, p, reason);
}

/* Can the export be written?  EXIT_OK, or EXIT_FAIL after saying why. */
static int check_out(const struct report_job *job, const char *file)
{
	int err = job->out == OUT_OPENMETRICS ? openmetrics_check(&job->om) : 0;

	if (err == -ENODATA)
		return util_fail("%s has no clock line (written by an older vmprof, or by hand): its samples cannot be placed in wall-clock time for OpenMetrics; record the run again",
				 file);
	if (err == -ERANGE)
		return util_fail("%s: its clock line places samples before 1970 or after 2262: is the line damaged?",
				 file);
	return EXIT_OK;
}

/* Is @output the file @input (not "-")?  Then writing would destroy it. */
static int same_file(const char *input, const char *output)
{
	struct stat in, out;

	return strcmp(input, "-") && !stat(input, &in) && !stat(output, &out) &&
	       in.st_dev == out.st_dev && in.st_ino == out.st_ino;
}

/* Write the report or the export to @f, named @path in messages. */
static int write_out(struct report_job *job, enum report_format fmt,
		     FILE *f, const char *path)
{
	int err;

	errno = 0;
	switch (job->out) {
	case OUT_OPENMETRICS:
		err = openmetrics_print(&job->om, &job->rep, f);
		break;
	case OUT_PERFETTO:
		err = perfetto_print(&job->pf, &job->rep, f);
		break;
	default:
		err = job->pressure ?
		      report_print_pressure(&job->rep, f, fmt) :
		      report_print(&job->rep, f, fmt);
		break;
	}
	if (err == -ENOMEM)
		return util_fail("out of memory");
	if (err)
		return util_fail("error writing %s: %s", path, strerror(-err));
	return EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "pressure", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct datafile_ops ops = {
		.row = add, .process = name, .clock = clock_line,
		.pressure = pressure,
	};
	enum report_format fmt = REPORT_TEXT;
	enum report_output out = OUT_REPORT;
	enum group_by by = GROUP_PROCESS;
	double from = 0, to = -1;
	const char *output = NULL;
	int only_pressure = 0;
	struct report_job job;
	FILE *f = stdout;
	int c, rc, created = 0;

	while ((c = getopt_long(argc, argv, "b:f:o:Ph", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (group_by_parse(optarg, &by))
				return util_usage_error("--by must be process, command or tree");
			break;
		case 'f':
			out = OUT_REPORT;
			if (!strcmp(optarg, "text"))
				fmt = REPORT_TEXT;
			else if (!strcmp(optarg, "tsv"))
				fmt = REPORT_TSV;
			else if (!strcmp(optarg, "csv"))
				fmt = REPORT_CSV;
			else if (!strcmp(optarg, "json"))
				fmt = REPORT_JSON;
			else if (!strcmp(optarg, "openmetrics"))
				out = OUT_OPENMETRICS;
			else if (!strcmp(optarg, "perfetto"))
				out = OUT_PERFETTO;
			else
				return util_usage_error("--format must be text, tsv, csv, json, openmetrics or perfetto");
			break;
		case 'F':
			from = util_parse_double(optarg, "--from", 0, 1e9);
			break;
		case 'T':
			to = util_parse_double(optarg, "--to", 0, 1e9);
			break;
		case 'o':
			output = optarg;
			break;
		case 'P':
			only_pressure = 1;
			break;
		case 'h':
			return util_help(report_usage);
		default:
			return util_usage_error(NULL);
		}
	}
	if (argc - optind != 1)
		return util_usage_error("expected one FILE");
	if (to >= 0 && to <= from)
		return util_usage_error("--to must be later than --from");
	if (only_pressure && out != OUT_REPORT)
		return util_usage_error("--pressure is a report (text, tsv, csv or json), not an export");
	if (out == OUT_PERFETTO && by != GROUP_PROCESS)
		return util_usage_error("--format perfetto has a track per process, nested by tree: --by does not apply");
	if (out == OUT_PERFETTO && !output && isatty(STDOUT_FILENO))
		return util_usage_error("--format perfetto writes a binary trace: give -o FILE, or redirect standard output");
	if (output && same_file(argv[optind], output))
		return util_usage_error("-o names the input FILE: writing would destroy it");
	memset(&job, 0, sizeof(job));
	job.out = out;
	job.pressure = only_pressure;
	report_init(&job.rep, by);
	job.rep.from_ns = (uint64_t)(from * 1e9 + 0.5);
	if (to >= 0) {
		job.rep.has_to = 1;
		job.rep.to_ns = (uint64_t)(to * 1e9 + 0.5);
	}
	if (out == OUT_OPENMETRICS)
		openmetrics_attach(&job.om, &job.rep);
	else if (out == OUT_PERFETTO)
		perfetto_attach(&job.pf, &job.rep);
	rc = datafile_read(argv[optind], &ops, &job);
	if (rc == EXIT_OK && by != GROUP_PROCESS && job.rep.groups.per_tick)
		rc = util_fail("%s is a per-tick file (--aggregate): it has no processes to group by %s",
			       argv[optind], by == GROUP_TREE ? "tree" : "command");
	if (rc == EXIT_OK && report_finish(&job.rep))
		rc = util_fail("out of memory");
	/* The output is made only once the input has been read whole and
	 * the export can be written. */
	if (rc == EXIT_OK)
		rc = check_out(&job, argv[optind]);
	if (rc == EXIT_OK && output) {
		f = util_create(output, &created);
		if (!f)
			rc = EXIT_FAIL;
	}
	if (rc == EXIT_OK) {
		rc = write_out(&job, fmt, f, output ? output : "standard output");
		if (output && rc == EXIT_OK)
			rc = util_close_file(f, output);
		else if (output)
			fclose(f);	/* what failed has been said */
		else if (rc == EXIT_OK)
			rc = util_close_stdout();
		/* no half-written file of ours is left */
		if (rc != EXIT_OK && created)
			unlink(output);
	}
	openmetrics_free(&job.om);
	perfetto_free(&job.pf);
	report_free(&job.rep);
	return rc;
}
