/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A run's samples in the OpenMetrics text format, with their time stamps,
 * for `promtool tsdb create-blocks-from openmetrics`: vmprof report
 * --format openmetrics.  A series per group of the report (process,
 * command or tree): its page faults and CPU time as counters, cumulative
 * from the group's first sample in the window, and its resident size as a
 * gauge.
 */
#ifndef VMPROF_OPENMETRICS_H
#define VMPROF_OPENMETRICS_H

#include <stdint.h>
#include <stdio.h>

#include "pidmap.h"
#include "report.h"

struct om_series;
struct om_proc;

struct openmetrics {
	struct om_series *series;	/* by group index */
	size_t n, cap;
	struct om_proc *procs;		/* by pidmap index */
	size_t nprocs, capprocs;
	struct pidmap pids;
	int has_clock;
	uint64_t realtime_ns, monotonic_ns;	/* the file's clock line */
};

/* Collect the rows @r counts (it calls back for each): set before reading. */
void openmetrics_attach(struct openmetrics *om, struct report *r);
/* The clock line of the file. */
int openmetrics_clock(struct openmetrics *om, uint64_t realtime_ns,
		      uint64_t monotonic_ns);
/* Can the exposition be written (after report_finish(@r))?  0, -ENODATA
 * or -ERANGE, as openmetrics_print() would fail before writing. */
int openmetrics_check(const struct openmetrics *om);
/*
 * Write the exposition, "# EOF" last, after report_finish(@r): 0,
 * -ENODATA if the file had no clock line (written by an older vmprof),
 * -ERANGE if by that line a sample lies before 1970 or after 2262 (and
 * then nothing is written), -ENOMEM, or -errno of the stream.
 */
int openmetrics_print(const struct openmetrics *om, const struct report *r,
		      FILE *f);
void openmetrics_free(struct openmetrics *om);

#endif
