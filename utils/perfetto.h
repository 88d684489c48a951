/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A run as a Perfetto trace (vmprof report --format perfetto): Perfetto's
 * native protobuf format, for ui.perfetto.dev and trace_processor.  A
 * track per process, nested under its parent's when the parent has
 * samples too, holding four counter tracks: minor and major faults per
 * second and CPU utilisation, each a step over the interval it was
 * measured in, and the resident size at each sample.  Time stamps are
 * CLOCK_MONOTONIC, as recorded; the file's clock line, when it has one,
 * goes into the trace's clock snapshot, so the UI can show wall-clock
 * time too.
 */
#ifndef VMPROF_PERFETTO_H
#define VMPROF_PERFETTO_H

#include <stdint.h>
#include <stdio.h>

#include "pidmap.h"
#include "report.h"

struct pf_proc;

struct perfetto {
	struct pf_proc *procs;		/* by group (process) index */
	size_t n, cap;
	struct pidmap pids;		/* pid -> group index */
	int has_clock;
	uint64_t realtime_ns, monotonic_ns;	/* the file's clock line */
};

/* Collect the rows @r counts (it calls back for each): set before reading;
 * @r must group by process. */
void perfetto_attach(struct perfetto *pf, struct report *r);
/* The clock line of the file: 0. */
int perfetto_clock(struct perfetto *pf, uint64_t realtime_ns,
		   uint64_t monotonic_ns);
/* Write the trace after report_finish(@r): 0, -ENOMEM, or -errno of the
 * stream (-EIO if it set none). */
int perfetto_print(const struct perfetto *pf, const struct report *r,
		   FILE *f);
void perfetto_free(struct perfetto *pf);

#endif
