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
	for (size_t i = 0; i < r->nprocs; i++)
		free(r->procs[i].command);
	free(r->procs);
	free(r->first);
	pidmap_free(&r->index);
	memset(r, 0, sizeof(*r));
}

static struct report_proc *find(struct report *r, uint32_t pid)
{
	struct report_proc *p;
	size_t i;

	if (pidmap_get(&r->index, pid, &i))
		return &r->procs[i];
	if (r->nprocs == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;

		p = realloc(r->procs, cap * sizeof(*p));
		if (!p)
			return NULL;
		r->procs = p;
		r->cap = cap;
	}
	if (pidmap_put(&r->index, pid, r->nprocs))
		return NULL;
	p = &r->procs[r->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	return p;
}

int report_name(struct report *r, uint32_t pid, const char *command)
{
	struct report_proc *p = find(r, pid);
	char *c;

	if (!p)
		return -ENOMEM;
	c = strdup(command);
	if (!c)
		return -ENOMEM;
	free(p->command);
	p->command = c;
	return 0;
}

static double rate(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0.0;
}

/* Per-tick sums: the peaks of the total are those of the sums. */
static void peaks(struct report_proc *p, const struct vmprof_row *row)
{
	if (rate(row->min_flt, row->interval_ns) > p->peak_min_rate)
		p->peak_min_rate = rate(row->min_flt, row->interval_ns);
	if (rate(row->maj_flt, row->interval_ns) > p->peak_maj_rate)
		p->peak_maj_rate = rate(row->maj_flt, row->interval_ns);
	if (vmprof_row_cpu_util(row) > p->peak_util)
		p->peak_util = vmprof_row_cpu_util(row);
	if (row->rss_kb > p->max_rss_kb)
		p->max_rss_kb = row->rss_kb;
}

static void close_tick(struct report *r)
{
	if (r->tick.nr_pids)
		peaks(&r->peak, &r->tick);
	memset(&r->tick, 0, sizeof(r->tick));
}

static int count(struct report *r, const struct vmprof_row *row)
{
	/* Per-tick rows are all one series, pid 0. */
	uint32_t pid = row->nr_pids && !row->pid ? 0 : row->pid;
	uint64_t begin = row->time_ns - row->interval_ns;
	int64_t from = (int64_t)(begin - r->t0), to = (int64_t)(row->time_ns - r->t0);
	struct report_proc *p;

	if (from < (int64_t)r->from_ns || (r->has_to && to > (int64_t)r->to_ns))
		return 0;
	p = find(r, pid);
	if (!p)
		return -ENOMEM;
	if (!row->pid)
		r->aggregate = 1;
	p->flags = row->flags;
	/* The last interval of a process reaped before its last sample has
	 * no counts: it says how the process ended, nothing more. */
	if (row->flags & VMPROF_REC_REAPED)
		return 0;
	if (!p->samples || begin < p->first_ns)
		p->first_ns = begin;
	if (row->time_ns > p->last_ns)
		p->last_ns = row->time_ns;
	p->samples++;
	p->min_flt += row->min_flt;
	p->maj_flt += row->maj_flt;
	p->cpu_ns += row->cpu_ns;
	p->covered_ns += row->interval_ns;
	peaks(p, row);
	if (r->tick.nr_pids && r->tick.time_ns != row->time_ns)
		close_tick(r);
	vmprof_row_add(&r->tick, row);
	return 0;
}

/* The start of the data is known once the first tick is complete: count
 * its rows now. */
static int start(struct report *r)
{
	int err = 0;

	r->started = 1;
	for (size_t i = 0; i < r->nfirst; i++) {
		const struct vmprof_row *row = &r->first[i];

		if (!i || row->time_ns - row->interval_ns < r->t0)
			r->t0 = row->time_ns - row->interval_ns;
	}
	for (size_t i = 0; i < r->nfirst && !err; i++)
		err = count(r, &r->first[i]);
	free(r->first);
	r->first = NULL;
	r->nfirst = 0;
	return err;
}

int report_add(struct report *r, const struct vmprof_row *row)
{
	if (!r->started && r->nfirst && row->time_ns != r->first[0].time_ns) {
		int err = start(r);

		if (err)
			return err;
	}
	if (r->started)
		return count(r, row);
	if (r->nfirst == r->capfirst) {
		size_t cap = r->capfirst ? r->capfirst * 2 : 64;
		struct vmprof_row *f = realloc(r->first, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		r->first = f;
		r->capfirst = cap;
	}
	r->first[r->nfirst++] = *row;
	return 0;
}

int report_finish(struct report *r)
{
	int err = r->started ? 0 : start(r);

	close_tick(r);
	return err;
}

static const char *end_of(const struct report_proc *p)
{
	if (p->flags & VMPROF_REC_REAPED)
		return "reaped";
	if (p->flags & VMPROF_REC_EXITED)
		return "exited";
	if (p->flags & VMPROF_REC_UNREGISTERED)
		return "unregistered";
	return "running";
}

/* What a table row shows; the total is one too. */
struct line {
	uint32_t pid;
	const char *command;
	double start_s, end_s;
	uint64_t samples, min_flt, maj_flt, cpu_ns, max_rss_kb;
	double util;		/* mean, 1.0 = one CPU */
	double span_s;		/* the time the rates are over */
	double peak_util, peak_min_rate, peak_maj_rate;
	const char *end;
};

static void line_of(const struct report *r, const struct report_proc *p,
		    struct line *l)
{
	memset(l, 0, sizeof(*l));
	l->pid = p->pid;
	l->command = p->command ? p->command : "";
	l->start_s = (double)(int64_t)(p->first_ns - r->t0) / 1e9;
	l->end_s = (double)(int64_t)(p->last_ns - r->t0) / 1e9;
	l->samples = p->samples;
	l->min_flt = p->min_flt;
	l->maj_flt = p->maj_flt;
	l->cpu_ns = p->cpu_ns;
	l->max_rss_kb = p->max_rss_kb;
	l->span_s = (double)p->covered_ns / 1e9;
	l->util = p->covered_ns ? (double)p->cpu_ns / (double)p->covered_ns : 0;
	l->peak_util = p->peak_util;
	l->peak_min_rate = p->peak_min_rate;
	l->peak_maj_rate = p->peak_maj_rate;
	l->end = end_of(p);
}

/* The total over the processes: rates and utilisation over the time from
 * the first start to the last end (utilisation 2.0 = two CPUs busy). */
static int total_of(const struct report *r, struct line *t)
{
	uint64_t first = UINT64_MAX, last = 0;
	int n = 0;

	memset(t, 0, sizeof(*t));
	t->command = "total";
	t->end = "";
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct report_proc *p = &r->procs[i];

		if (!p->samples)
			continue;
		n++;
		t->samples += p->samples;
		t->min_flt += p->min_flt;
		t->maj_flt += p->maj_flt;
		t->cpu_ns += p->cpu_ns;
		if (p->first_ns < first)
			first = p->first_ns;
		if (p->last_ns > last)
			last = p->last_ns;
	}
	if (!n)
		return 0;
	t->start_s = (double)(int64_t)(first - r->t0) / 1e9;
	t->end_s = (double)(int64_t)(last - r->t0) / 1e9;
	t->span_s = t->end_s - t->start_s;
	t->util = t->span_s > 0 ? (double)t->cpu_ns / 1e9 / t->span_s : 0;
	t->peak_util = r->peak.peak_util;
	t->peak_min_rate = r->peak.peak_min_rate;
	t->peak_maj_rate = r->peak.peak_maj_rate;
	t->max_rss_kb = r->peak.max_rss_kb;
	return n;
}

static const char *const columns[] = {
	"pid", "command", "start_s", "end_s", "duration_s", "samples",
	"min_flt", "maj_flt", "cpu_s", "cpu_util", "min_flt_per_s",
	"maj_flt_per_s", "peak_cpu_util", "peak_min_flt_per_s",
	"peak_maj_flt_per_s", "max_rss_kb", "end",
};

static void put_text(FILE *f, enum report_format fmt, const char *s)
{
	int quote = fmt == REPORT_CSV && strpbrk(s, ",\"");

	if (fmt == REPORT_JSON || quote)
		putc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f) {
			if (fmt == REPORT_JSON)
				fprintf(f, "\\u%04x", c);
			else
				putc(' ', f);
			continue;
		}
		if ((fmt == REPORT_JSON && (c == '"' || c == '\\')) ||
		    (quote && c == '"'))
			putc(fmt == REPORT_JSON ? '\\' : '"', f);
		putc(c, f);
	}
	if (fmt == REPORT_JSON || quote)
		putc('"', f);
}

static void put_line(FILE *f, enum report_format fmt, const struct line *l)
{
	char sep = fmt == REPORT_TSV ? '\t' : ',';
	double dur = l->end_s - l->start_s;
	char num[15][32];
	int k = 0;

	snprintf(num[k++], 32, "%.3f", l->start_s);
	snprintf(num[k++], 32, "%.3f", l->end_s);
	snprintf(num[k++], 32, "%.3f", dur);
	snprintf(num[k++], 32, "%" PRIu64, l->samples);
	snprintf(num[k++], 32, "%" PRIu64, l->min_flt);
	snprintf(num[k++], 32, "%" PRIu64, l->maj_flt);
	snprintf(num[k++], 32, "%.6f", (double)l->cpu_ns / 1e9);
	snprintf(num[k++], 32, "%.4f", l->util);
	snprintf(num[k++], 32, "%.1f", l->span_s > 0 ? (double)l->min_flt / l->span_s : 0);
	snprintf(num[k++], 32, "%.1f", l->span_s > 0 ? (double)l->maj_flt / l->span_s : 0);
	snprintf(num[k++], 32, "%.4f", l->peak_util);
	snprintf(num[k++], 32, "%.1f", l->peak_min_rate);
	snprintf(num[k++], 32, "%.1f", l->peak_maj_rate);
	snprintf(num[k++], 32, "%" PRIu64, l->max_rss_kb);
	if (fmt == REPORT_JSON) {
		fprintf(f, "{\"pid\":%" PRIu32 ",\"command\":", l->pid);
		put_text(f, fmt, l->command);
		for (int i = 0; i < k; i++)
			fprintf(f, ",\"%s\":%s", columns[i + 2], num[i]);
		fprintf(f, ",\"end\":");
		put_text(f, fmt, l->end);
		fprintf(f, "}\n");
		return;
	}
	fprintf(f, "%" PRIu32 "%c", l->pid, sep);
	put_text(f, fmt, l->command);
	for (int i = 0; i < k; i++)
		fprintf(f, "%c%s", sep, num[i]);
	putc(sep, f);
	put_text(f, fmt, l->end);
	putc('\n', f);
}

static void print_machine(const struct report *r, FILE *f,
			  enum report_format fmt)
{
	struct line l;

	if (fmt != REPORT_JSON) {
		for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
			fprintf(f, "%s%s", i ? (fmt == REPORT_TSV ? "\t" : ",") : "",
				columns[i]);
		putc('\n', f);
	}
	/* A per-tick file has one series: it is the total. */
	if (!r->aggregate) {
		for (size_t i = 0; i < r->nprocs; i++) {
			if (!r->procs[i].samples)
				continue;
			line_of(r, &r->procs[i], &l);
			put_line(f, fmt, &l);
		}
	}
	if (total_of(r, &l))
		put_line(f, fmt, &l);
}

static void print_text(const struct report *r, FILE *f)
{
	struct line l;
	int reaped = 0, n = 0;
	const char *end;

	fprintf(f, "%8s %9s %8s %12s %10s %10s %8s %8s %12s %10s %10s %-12s %s\n",
		r->aggregate ? "series" : "pid", "duration", "samples",
		"minor", "major", "cpu", "mean", "peak", "peak minor",
		"peak major", "max rss", "end", "command");
	fprintf(f, "%8s %9s %8s %12s %10s %10s %8s %8s %12s %10s %10s\n",
		"", "s", "", "faults", "faults", "s", "cpu %", "cpu %",
		"faults/s", "faults/s", "MiB");
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct report_proc *p = &r->procs[i];
		char name[16];

		if (!p->samples)
			continue;
		n++;
		line_of(r, p, &l);
		if (p->pid)
			snprintf(name, sizeof(name), "%" PRIu32, p->pid);
		else
			snprintf(name, sizeof(name), "all");
		end = !strcmp(l.end, "reaped") ? "exited*" :
		      !strcmp(l.end, "running") ? "-" : l.end;
		fprintf(f, "%8s %9.3f %8" PRIu64 " %12" PRIu64 " %10" PRIu64
			" %10.3f %8.1f %8.1f %12.0f %10.0f %10.1f ",
			name, l.end_s - l.start_s, l.samples, l.min_flt,
			l.maj_flt, (double)l.cpu_ns / 1e9, 100.0 * l.util,
			100.0 * l.peak_util, l.peak_min_rate, l.peak_maj_rate,
			(double)l.max_rss_kb / 1024.0);
		if (*l.command)
			fprintf(f, "%-12s %.60s\n", end, l.command);
		else
			fprintf(f, "%s\n", end);
		reaped |= !!(p->flags & VMPROF_REC_REAPED);
	}
	if (n > 1 && total_of(r, &l))
		fprintf(f, "%8s %9.3f %8s %12" PRIu64 " %10" PRIu64
			" %10.3f %8.1f\n", "total", l.end_s - l.start_s, "",
			l.min_flt, l.maj_flt, (double)l.cpu_ns / 1e9,
			100.0 * l.util);
	if (!n)
		fprintf(f, "(no samples)\n");
	if (reaped)
		fprintf(f, "* reaped before its last sample: the counts of its last interval (< one period) are missing\n");
}

int report_print(const struct report *r, FILE *f, enum report_format fmt)
{
	errno = 0;
	if (fmt == REPORT_TEXT)
		print_text(r, f);
	else
		print_machine(r, f, fmt);
	if (ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
