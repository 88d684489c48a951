// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof report [--by WHAT] [--format FMT] [--from SEC] [--to SEC] FILE */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "datafile.h"
#include "openmetrics.h"
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
"                     below)\n"
"      --from SEC     count only samples whose interval starts SEC seconds\n"
"                     or more after the start of the data (its first\n"
"                     sample's interval start)\n"
"      --to SEC       ...and ends at most SEC seconds after it\n"
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
"Examples:\n"
"  vmprof report vmprof.csv\n"
"  vmprof report --format tsv --from 2 vmprof.csv\n"
"  vmprof report --by command build.csv\n"
"  vmprof report -f openmetrics build.csv > build.om &&\n"
"    promtool tsdb create-blocks-from openmetrics build.om data/\n"
"  vmprof-monitor -d 5 | vmprof report -\n";

static int add(const struct vmprof_row *row, void *arg)
{
	return report_add(arg, row);
}

static int name(uint32_t pid, const char *command, void *arg)
{
	return report_name(arg, pid, command);
}

static int clock_line(uint64_t realtime_ns, uint64_t monotonic_ns, void *arg)
{
	struct report *r = arg;

	return r->on_count_arg ?
		openmetrics_clock(r->on_count_arg, realtime_ns, monotonic_ns) : 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct datafile_ops ops = {
		.row = add, .process = name, .clock = clock_line,
	};
	enum report_format fmt = REPORT_TEXT;
	struct openmetrics om = { 0 };
	int openmetrics = 0;
	enum group_by by = GROUP_PROCESS;
	double from = 0, to = -1;
	struct report rep;
	int c, rc;

	while ((c = getopt_long(argc, argv, "b:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (group_by_parse(optarg, &by))
				return util_usage_error("--by must be process, command or tree");
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				fmt = REPORT_TEXT;
			else if (!strcmp(optarg, "tsv"))
				fmt = REPORT_TSV;
			else if (!strcmp(optarg, "csv"))
				fmt = REPORT_CSV;
			else if (!strcmp(optarg, "json"))
				fmt = REPORT_JSON;
			else if (!strcmp(optarg, "openmetrics"))
				openmetrics = 1;
			else
				return util_usage_error("--format must be text, tsv, csv, json or openmetrics");
			if (strcmp(optarg, "openmetrics"))
				openmetrics = 0;
			break;
		case 'F':
			from = util_parse_double(optarg, "--from", 0, 1e9);
			break;
		case 'T':
			to = util_parse_double(optarg, "--to", 0, 1e9);
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
	report_init(&rep, by);
	rep.from_ns = (uint64_t)(from * 1e9 + 0.5);
	if (to >= 0) {
		rep.has_to = 1;
		rep.to_ns = (uint64_t)(to * 1e9 + 0.5);
	}
	if (openmetrics)
		openmetrics_attach(&om, &rep);
	rc = datafile_read(argv[optind], &ops, &rep);
	if (rc == EXIT_OK && by != GROUP_PROCESS && rep.groups.per_tick)
		rc = util_fail("%s is a per-tick file (--aggregate): it has no processes to group by %s",
			       argv[optind], by == GROUP_TREE ? "tree" : "command");
	if (rc == EXIT_OK && report_finish(&rep))
		rc = util_fail("out of memory");
	if (rc == EXIT_OK && openmetrics) {
		int err = openmetrics_print(&om, &rep, stdout);

		if (err == -ENODATA)
			rc = util_fail("%s has no clock line (written by an older vmprof, or by hand): its samples cannot be placed in wall-clock time for OpenMetrics; record the run again",
				       argv[optind]);
		else if (err == -ERANGE)
			rc = util_fail("%s: its clock line places samples before 1970 or after 2262: is the line damaged?",
				       argv[optind]);
		else if (err == -ENOMEM)
			rc = util_fail("out of memory");
		else if (err)
			rc = util_fail("error writing standard output: %s", strerror(-err));
		else
			rc = util_close_stdout();
	} else if (rc == EXIT_OK) {
		report_print(&rep, stdout, fmt);
		rc = util_close_stdout();
	}
	openmetrics_free(&om);
	report_free(&rep);
	return rc;
}
