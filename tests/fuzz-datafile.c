// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness: what `vmprof report` does with a data file, on any
 * bytes.  The data-file reader (utils/datafile.c over libvmprof's
 * vmprof_reader_line(), vmprof_process_line() and vmprof_clock_line()),
 * then the report of every grouping in every format (OpenMetrics too),
 * built with ASan and UBSan: a crash, a
 * leak, an out-of-bounds access or undefined behaviour is a finding.
 * tests/fuzz.test runs it over tests/fuzz/datafile/ (the seeds: real data
 * files, and every input that once failed) for a fixed number of runs.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datafile.h"
#include "openmetrics.h"
#include "perfetto.h"
#include "report.h"

static FILE *null_out;

static int add(const struct vmprof_row *row, void *arg)
{
	return report_add(arg, row);
}

static int name(uint32_t pid, const char *command, void *arg)
{
	return report_name(arg, pid, command);
}

/* The exporter attached to the report: OpenMetrics, or Perfetto. */
static int perfetto;

static int clock_line(uint64_t realtime_ns, uint64_t monotonic_ns, void *arg)
{
	struct report *r = arg;

	if (perfetto)
		return perfetto_clock(r->on_count_arg, realtime_ns, monotonic_ns);
	return openmetrics_clock(r->on_count_arg, realtime_ns, monotonic_ns);
}

static int pressure(const struct pressure *p, const char *reason, void *arg)
{
	return report_pressure(arg, p, reason);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The tools' messages on bad input, not the fuzzer's (on fd 2). */
	null_out = fopen("/dev/null", "w");
	if (!null_out)
		abort();
	stderr = null_out;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct datafile_ops ops = {
		.row = add, .process = name, .clock = clock_line,
		.pressure = pressure,
	};
	/* The last pass exports to Perfetto, which groups by process. */
	static const enum group_by by[] = {
		GROUP_PROCESS, GROUP_COMMAND, GROUP_TREE, GROUP_PROCESS,
	};
	static const enum report_format fmt[] = {
		REPORT_TEXT, REPORT_CSV, REPORT_TSV, REPORT_JSON,
	};
	struct openmetrics om;
	struct perfetto pf;
	struct report rep;

	for (size_t b = 0; b < sizeof(by) / sizeof(by[0]); b++) {
		/* fmemopen() wants at least a byte. */
		FILE *f = size ? fmemopen((void *)data, size, "r") :
				 fopen("/dev/null", "r");

		if (!f)
			abort();
		perfetto = b == 3;
		report_init(&rep, by[b]);
		memset(&om, 0, sizeof(om));
		memset(&pf, 0, sizeof(pf));
		if (perfetto)
			perfetto_attach(&pf, &rep);
		else
			openmetrics_attach(&om, &rep);
		if (datafile_read_stream(f, "fuzz", &ops, &rep) == 0 &&
		    !report_finish(&rep)) {
			for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++)
				report_print(&rep, null_out, fmt[i]);
			if (perfetto)
				perfetto_print(&pf, &rep, null_out);
			else
				openmetrics_print(&om, &rep, null_out);
		}
		openmetrics_free(&om);
		perfetto_free(&pf);
		report_free(&rep);
		fclose(f);
	}
	return 0;
}
