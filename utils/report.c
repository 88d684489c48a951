// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void report_init(struct report *r)
{
	memset(r, 0, sizeof(*r));
}

void report_free(struct report *r)
{
	free(r->procs);
	memset(r, 0, sizeof(*r));
}

static struct report_proc *find(struct report *r, uint32_t pid)
{
	struct report_proc *p;

	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].pid == pid)
			return &r->procs[i];
	if (r->nprocs == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;

		p = realloc(r->procs, cap * sizeof(*p));
		if (!p)
			return NULL;
		r->procs = p;
		r->cap = cap;
	}
	p = &r->procs[r->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	return p;
}

static double rate(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0.0;
}

int report_add(struct report *r, const struct vmprof_row *row)
{
	/* Per-tick rows are all one series, shown as pid 0 "all". */
	struct report_proc *p = find(r, row->nr_pids && !row->pid ? 0 : row->pid);
	uint64_t start = row->time_ns - row->interval_ns;

	if (!p)
		return -ENOMEM;
	if (!row->pid)
		r->aggregate = 1;
	if (!p->samples || start < p->first_ns)
		p->first_ns = start;
	if (row->time_ns > p->last_ns)
		p->last_ns = row->time_ns;
	p->samples++;
	p->min_flt += row->min_flt;
	p->maj_flt += row->maj_flt;
	p->cpu_ns += row->cpu_ns;
	p->covered_ns += row->interval_ns;
	if (rate(row->min_flt, row->interval_ns) > p->peak_min_rate)
		p->peak_min_rate = rate(row->min_flt, row->interval_ns);
	if (rate(row->maj_flt, row->interval_ns) > p->peak_maj_rate)
		p->peak_maj_rate = rate(row->maj_flt, row->interval_ns);
	if (row->interval_ns &&
	    (double)row->cpu_ns / (double)row->interval_ns > p->peak_util)
		p->peak_util = (double)row->cpu_ns / (double)row->interval_ns;
	if (row->rss_kb > p->max_rss_kb)
		p->max_rss_kb = row->rss_kb;
	p->flags = row->flags;
	return 0;
}

static const char *end_of(const struct report_proc *p)
{
	if (p->flags & VMPROF_REC_REAPED)
		return "exited*";
	if (p->flags & VMPROF_REC_EXITED)
		return "exited";
	if (p->flags & VMPROF_REC_UNREGISTERED)
		return "unregistered";
	return "-";
}

int report_print(const struct report *r, FILE *f)
{
	uint64_t min = 0, maj = 0, cpu = 0, first = UINT64_MAX, last = 0;
	int reaped = 0;

	errno = 0;
	fprintf(f, "%8s %9s %8s %12s %10s %10s %8s %8s %12s %10s %10s %s\n",
		r->aggregate ? "series" : "pid", "duration", "samples",
		"minor", "major", "cpu", "mean", "peak", "peak minor",
		"peak major", "max rss", "end");
	fprintf(f, "%8s %9s %8s %12s %10s %10s %8s %8s %12s %10s %10s\n",
		"", "s", "", "faults", "faults", "s", "cpu %", "cpu %",
		"faults/s", "faults/s", "MiB");
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct report_proc *p = &r->procs[i];
		double dur = (double)(p->last_ns - p->first_ns) / 1e9;
		char name[16];

		if (p->pid)
			snprintf(name, sizeof(name), "%" PRIu32, p->pid);
		else
			snprintf(name, sizeof(name), "all");
		fprintf(f, "%8s %9.3f %8" PRIu64 " %12" PRIu64 " %10" PRIu64
			" %10.3f %8.1f %8.1f %12.0f %10.0f %10.1f %s\n",
			name, dur, p->samples, p->min_flt, p->maj_flt,
			(double)p->cpu_ns / 1e9,
			p->covered_ns ? 100.0 * (double)p->cpu_ns /
					(double)p->covered_ns : 0.0,
			100.0 * p->peak_util, p->peak_min_rate,
			p->peak_maj_rate, (double)p->max_rss_kb / 1024.0,
			end_of(p));
		min += p->min_flt;
		maj += p->maj_flt;
		cpu += p->cpu_ns;
		if (p->first_ns < first)
			first = p->first_ns;
		if (p->last_ns > last)
			last = p->last_ns;
		reaped |= !!(p->flags & VMPROF_REC_REAPED);
	}
	if (r->nprocs > 1) {
		double dur = (double)(last - first) / 1e9;

		fprintf(f, "%8s %9.3f %8s %12" PRIu64 " %10" PRIu64
			" %10.3f %8.1f\n", "total", dur, "", min, maj,
			(double)cpu / 1e9,
			dur > 0 ? 100.0 * (double)cpu / 1e9 / dur : 0.0);
	}
	if (!r->nprocs)
		fprintf(f, "(no samples)\n");
	if (reaped)
		fprintf(f, "* reaped before its last sample: the counts of its last interval (< one period) are missing\n");
	if (ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
