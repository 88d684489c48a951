/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The summary of a profile: per process, per command or per process tree,
 * and in total, over a time window.
 */
#ifndef VMPROF_REPORT_H
#define VMPROF_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "group.h"
#include "pressure.h"
#include "vmprof.h"

/* One line of the report: a process, a command or a tree (its group). */
struct report_proc {
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
	struct vmprof_row tick;	/* the sum of the current tick's rows */
};

struct report_first;

enum report_format {
	REPORT_TEXT,		/* the table for people */
	REPORT_TSV,
	REPORT_CSV,
	REPORT_JSON,		/* JSON lines */
};

struct report {
	struct report_proc *procs;	/* one a group, by index */
	size_t nprocs;
	size_t cap;
	struct grouping groups;
	int aggregate;		/* built from per-tick rows */
	/*
	 * The window: records whose whole interval lies in [from, to] seconds
	 * after the start of the data (the earliest interval start of the
	 * first tick) are counted.
	 */
	uint64_t from_ns;
	uint64_t to_ns;
	int has_to;
	uint64_t t0;		/* the start of the data */
	int started;		/* t0 is known */
	struct report_first *first;	/* the first tick's rows, until then */
	size_t nfirst;
	size_t capfirst;
	struct vmprof_row tick;	/* the sum of the current tick's rows */
	struct report_proc peak;	/* the total's peaks, over ticks */
	/* Called, if set, with every row counted (in the window; a reaped
	 * process's last, which has no counts, too) and its group: 0 or
	 * -errno. */
	int (*on_count)(void *arg, const struct vmprof_row *row, size_t group);
	void *on_count_arg;
	/* The file's pressure lines, in time order, and why it has none
	 * (or no more), if it says. */
	struct pressure *psi;
	size_t npsi, cappsi;
	char *psi_unavailable;
};

void report_init(struct report *r, enum group_by by);
void report_free(struct report *r);
int report_add(struct report *r, const struct vmprof_row *row);
/* The command of a process, from a process line; 0 or -ENOMEM. */
int report_name(struct report *r, uint32_t pid, const char *command);
/* A pressure line, or (@p NULL) why there are none: 0, -ENOMEM, or
 * -EINVAL for a line earlier than the one before. */
int report_pressure(struct report *r, const struct pressure *p,
		    const char *reason);
/* Is pressure line @p in the window? */
int report_pressure_in_window(const struct report *r,
			      const struct pressure *p);
/*
 * The pressure stall of kind @k in the window, its share of the time the
 * window's pressure lines span, and that span: 0, or -ENODATA when the
 * window has fewer than two lines with @k.
 */
int report_stall(const struct report *r, enum psi_kind k, uint64_t *stall_us,
		 uint64_t *span_ns);
/* After the last row; 0 or -ENOMEM. */
int report_finish(struct report *r);
/* Print in @fmt; returns 0 or -errno of the stream. */
int report_print(const struct report *r, FILE *f, enum report_format fmt);
/*
 * The pressure stall alone, in @fmt: text as at the end of the report;
 * tsv, csv, json: a row per kind recorded (columns kind, stall_s,
 * stall_pct, span_s), none for a file without pressure lines.  0 or
 * -errno of the stream.
 */
int report_print_pressure(const struct report *r, FILE *f,
			  enum report_format fmt);

#endif
