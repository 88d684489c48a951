// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof report FILE */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "datafile.h"
#include "report.h"
#include "util.h"

const char report_usage[] =
"Usage: vmprof report FILE\n"
"\n"
"Summarise a data file written by `vmprof run` or vmprof-monitor (CSV or\n"
"TSV; - reads standard input): per process the duration, samples, total\n"
"minor and major faults, CPU time, mean and peak CPU utilisation (100 % =\n"
"one CPU), peak fault rates over one sample, largest resident size, and how\n"
"it ended; then the total.  A per-tick (--aggregate) file gives one series.\n"
"\n"
"Examples:\n"
"  vmprof report vmprof.csv\n"
"  vmprof-monitor -d 5 | vmprof report -\n";

static int add(const struct vmprof_row *row, void *arg)
{
	return report_add(arg, row);
}

int cmd_report(int argc, char **argv)
{
	struct report rep;
	int rc = builtin_help_opt(argc, argv, report_usage);

	if (rc >= 0)
		return rc;
	if (argc != 2)
		return util_usage_error("expected one FILE");
	report_init(&rep);
	rc = datafile_read(argv[1], add, &rep);
	if (rc == EXIT_OK) {
		report_print(&rep, stdout);
		rc = util_close_stdout();
	}
	report_free(&rep);
	return rc;
}
