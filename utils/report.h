/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The summary of a profile: per process and in total. */
#ifndef VMPROF_REPORT_H
#define VMPROF_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "vmprof.h"

struct report_proc {
	uint32_t pid;
	uint64_t first_ns;	/* start of the first interval */
	uint64_t last_ns;	/* time of the last record */
	uint64_t samples;
	uint64_t min_flt;
	uint64_t maj_flt;
	uint64_t cpu_ns;
	uint64_t covered_ns;	/* sum of the intervals */
	double peak_min_rate;	/* per second, over one interval */
	double peak_maj_rate;
	double peak_util;
	uint64_t max_rss_kb;
	uint32_t flags;		/* of the last record */
};

struct report {
	struct report_proc *procs;
	size_t nprocs;
	size_t cap;
	int aggregate;		/* built from per-tick rows */
};

void report_init(struct report *r);
void report_free(struct report *r);
int report_add(struct report *r, const struct vmprof_row *row);
/* Print the tables; returns 0 or -errno of the stream. */
int report_print(const struct report *r, FILE *f);

#endif
