// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

void report_init(struct report *r, enum group_by by)
{
	memset(r, 0, sizeof(*r));
	grouping_init(&r->groups, by);
}

void report_free(struct report *r)
{
	free(r->procs);
	free(r->first);
	free(r->psi);
	free(r->psi_unavailable);
	grouping_free(&r->groups);
	memset(r, 0, sizeof(*r));
}

/* A row of the first tick, with its group, until the start is known. */
struct report_first {
	struct vmprof_row row;
	size_t group;
};

/* The line of group @i: 0, or -ENOMEM. */
static int line_for(struct report *r, size_t i)
{
	/* Groups are numbered in order: a new one takes the next line. */
	while (r->nprocs <= i) {
		struct report_proc *p = util_grow(r->procs, r->nprocs, &r->cap,
						  sizeof(*p), 16);

		if (!p)
			return -ENOMEM;
		r->procs = p;
		memset(&r->procs[r->nprocs++], 0, sizeof(*r->procs));
	}
	return 0;
}

int report_name(struct report *r, uint32_t pid, const char *command)
{
	return grouping_name(&r->groups, pid, command);
}

static double rate(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0.0;
}

/* Per-tick sums: the peaks of a group, and of the total, are those of the
 * sums of their rows of each tick. */
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

/* Add @row to the tick @sum accumulates into @p's peaks; a row of another
 * tick closes it first. */
static void tick_add(struct report_proc *p, struct vmprof_row *sum,
		     const struct vmprof_row *row)
{
	if (sum->nr_pids && sum->time_ns != row->time_ns) {
		peaks(p, sum);
		memset(sum, 0, sizeof(*sum));
	}
	vmprof_row_add(sum, row);
}

static void close_tick(struct report_proc *p, struct vmprof_row *sum)
{
	if (sum->nr_pids)
		peaks(p, sum);
	memset(sum, 0, sizeof(*sum));
}

/* Count @row, of group @group, if it lies in the window. */
static int count(struct report *r, const struct vmprof_row *row, size_t group)
{
	uint64_t begin = row->time_ns - row->interval_ns;
	int64_t from = (int64_t)(begin - r->t0), to = (int64_t)(row->time_ns - r->t0);
	struct report_proc *p;
	int err;

	if (from < (int64_t)r->from_ns || (r->has_to && to > (int64_t)r->to_ns))
		return 0;
	err = line_for(r, group);
	if (!err)
		err = grouping_count(&r->groups, row->pid, group);
	if (err)
		return err;
	p = &r->procs[group];
	if (!row->pid)
		r->aggregate = 1;
	p->flags = row->flags;
	/* The last interval of a process reaped before its last sample has
	 * no counts: it says how the process ended, nothing more. */
	if (row->flags & VMPROF_REC_REAPED)
		return r->on_count ? r->on_count(r->on_count_arg, row, group) : 0;
	if (!p->samples || begin < p->first_ns)
		p->first_ns = begin;
	if (row->time_ns > p->last_ns)
		p->last_ns = row->time_ns;
	p->samples++;
	p->min_flt += row->min_flt;
	p->maj_flt += row->maj_flt;
	p->cpu_ns += row->cpu_ns;
	p->covered_ns += row->interval_ns;
	tick_add(p, &p->tick, row);
	tick_add(&r->peak, &r->tick, row);
	return r->on_count ? r->on_count(r->on_count_arg, row, group) : 0;
}

/* The start of the data is known once the first tick is complete: count
 * its rows now. */
static int start(struct report *r)
{
	int err = 0;

	r->started = 1;
	for (size_t i = 0; i < r->nfirst; i++) {
		const struct vmprof_row *row = &r->first[i].row;

		if (!i || row->time_ns - row->interval_ns < r->t0)
			r->t0 = row->time_ns - row->interval_ns;
	}
	for (size_t i = 0; i < r->nfirst && !err; i++)
		err = count(r, &r->first[i].row, r->first[i].group);
	free(r->first);
	r->first = NULL;
	r->nfirst = 0;
	return err;
}

int report_add(struct report *r, const struct vmprof_row *row)
{
	struct report_first *f;
	size_t group;
	int err;

	/* Grouped now, after the process lines before it in the file. */
	err = grouping_add(&r->groups, row, &group);
	if (err)
		return err;
	if (!r->started && r->nfirst && row->time_ns != r->first[0].row.time_ns) {
		err = start(r);
		if (err)
			return err;
	}
	if (r->started)
		return count(r, row, group);
	f = util_grow(r->first, r->nfirst, &r->capfirst, sizeof(*f), 64);
	if (!f)
		return -ENOMEM;
	r->first = f;
	r->first[r->nfirst].row = *row;
	r->first[r->nfirst++].group = group;
	return 0;
}

int report_pressure(struct report *r, const struct pressure *p,
		    const char *reason)
{
	if (!p) {
		free(r->psi_unavailable);
		r->psi_unavailable = strdup(reason);
		return r->psi_unavailable ? 0 : -ENOMEM;
	}
	return pressure_push(&r->psi, &r->npsi, &r->cappsi, p);
}

int report_pressure_in_window(const struct report *r,
			      const struct pressure *p)
{
	uint64_t t0 = r->started ? r->t0 : r->npsi ? r->psi[0].time_ns : 0;

	/* t0 + from and t0 + to, saturated: a damaged file's times wrap */
	if (p->time_ns < t0 || p->time_ns - t0 < r->from_ns)
		return 0;
	return !r->has_to || p->time_ns - t0 <= r->to_ns;
}

int report_stall(const struct report *r, enum psi_kind k, uint64_t *stall_us,
		 uint64_t *span_ns)
{
	const struct pressure *first = NULL, *last = NULL;

	for (size_t i = 0; i < r->npsi; i++) {
		const struct pressure *p = &r->psi[i];

		if (!(p->have & 1u << k) || !report_pressure_in_window(r, p))
			continue;
		if (!first)
			first = p;
		last = p;
	}
	if (!first || first == last)
		return -ENODATA;
	/* a total never falls; a damaged file's that does counts as none */
	*stall_us = last->total_us[k] > first->total_us[k] ?
		    last->total_us[k] - first->total_us[k] : 0;
	*span_ns = last->time_ns - first->time_ns;
	return 0;
}

int report_finish(struct report *r)
{
	int err = r->started ? 0 : start(r);

	for (size_t i = 0; i < r->nprocs; i++)
		close_tick(&r->procs[i], &r->procs[i].tick);
	close_tick(&r->peak, &r->tick);
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
	size_t processes;
	double start_s, end_s;
	uint64_t samples, min_flt, maj_flt, cpu_ns, max_rss_kb;
	double util;		/* mean, 1.0 = one CPU */
	double span_s;		/* the time the rates are over */
	double peak_util, peak_min_rate, peak_maj_rate;
	const char *end;
};

/* A line for each process, and for each group of several: rates and
 * utilisation of a process over the time its samples cover, of a group
 * over the time from its first start to its last end (2.0 = two CPUs). */
static void line_of(const struct report *r, size_t i, struct line *l)
{
	const struct report_proc *p = &r->procs[i];
	const struct group *g = &r->groups.g[i];

	memset(l, 0, sizeof(*l));
	l->pid = g->pid;
	l->command = g->name ? g->name : "";
	l->processes = g->processes;
	l->start_s = (double)(int64_t)(p->first_ns - r->t0) / 1e9;
	l->end_s = (double)(int64_t)(p->last_ns - r->t0) / 1e9;
	l->samples = p->samples;
	l->min_flt = p->min_flt;
	l->maj_flt = p->maj_flt;
	l->cpu_ns = p->cpu_ns;
	l->max_rss_kb = p->max_rss_kb;
	if (r->groups.by == GROUP_PROCESS)
		l->span_s = (double)p->covered_ns / 1e9;
	else
		l->span_s = l->end_s - l->start_s;
	l->util = l->span_s > 0 ? (double)p->cpu_ns / 1e9 / l->span_s : 0;
	l->peak_util = p->peak_util;
	l->peak_min_rate = p->peak_min_rate;
	l->peak_maj_rate = p->peak_maj_rate;
	l->end = end_of(p);
}

/* The total over the groups: rates and utilisation over the time from
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
	t->processes = r->groups.processes;
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

/*
 * The columns of tsv, csv and json: by process, "pid" to "end"; by tree,
 * "pid" (the root's), "command" (the root's) and "processes", then the
 * figures; by command, the same without "pid".  A group has no "end".
 */
static const char *const columns[] = {
	"pid", "command", "processes", "start_s", "end_s", "duration_s",
	"samples", "min_flt", "maj_flt", "cpu_s", "cpu_util", "min_flt_per_s",
	"maj_flt_per_s", "peak_cpu_util", "peak_min_flt_per_s",
	"peak_maj_flt_per_s", "max_rss_kb", "end",
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

/* Does the grouping show the column? */
static int shown(enum group_by by, size_t col)
{
	if (by == GROUP_PROCESS)
		return col != 2;
	if (col == NCOLUMNS - 1)
		return 0;
	return by == GROUP_TREE || col != 0;
}

/*
 * At most @max bytes of @s for a terminal: a control character (an escape
 * sequence's ESC among them: a process names itself as it likes) and a C1
 * control (U+0080 to U+009F in UTF-8, 0xc2 0x80-0x9f) become spaces.
 */
static void put_shown(FILE *f, const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		const unsigned char *u = (const unsigned char *)s + i;
		size_t n = util_utf8_len(u);

		if (n && util_utf8_shown(u) == n) {
			fwrite(u, 1, n, f);
			i += n - 1;
		} else if (n) {
			/* a control, or a character that reorders the text
			 * after it (U+202E): a process names itself */
			putc(' ', f);
			i += n - 1;
		} else {
			putc(*u, f);	/* not UTF-8: as it is */
		}
	}
}

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

static void put_line(FILE *f, enum report_format fmt, enum group_by by,
		     const struct line *l)
{
	char sep = fmt == REPORT_TSV ? '\t' : ',';
	double dur = l->end_s - l->start_s;
	char num[NCOLUMNS][32];
	int first = 1;

	snprintf(num[0], 32, "%" PRIu32, l->pid);
	snprintf(num[2], 32, "%zu", l->processes);
	snprintf(num[3], 32, "%.3f", l->start_s);
	snprintf(num[4], 32, "%.3f", l->end_s);
	snprintf(num[5], 32, "%.3f", dur);
	snprintf(num[6], 32, "%" PRIu64, l->samples);
	snprintf(num[7], 32, "%" PRIu64, l->min_flt);
	snprintf(num[8], 32, "%" PRIu64, l->maj_flt);
	snprintf(num[9], 32, "%.6f", (double)l->cpu_ns / 1e9);
	snprintf(num[10], 32, "%.4f", l->util);
	snprintf(num[11], 32, "%.1f", l->span_s > 0 ? (double)l->min_flt / l->span_s : 0);
	snprintf(num[12], 32, "%.1f", l->span_s > 0 ? (double)l->maj_flt / l->span_s : 0);
	snprintf(num[13], 32, "%.4f", l->peak_util);
	snprintf(num[14], 32, "%.1f", l->peak_min_rate);
	snprintf(num[15], 32, "%.1f", l->peak_maj_rate);
	snprintf(num[16], 32, "%" PRIu64, l->max_rss_kb);
	if (fmt == REPORT_JSON)
		putc('{', f);
	for (size_t i = 0; i < NCOLUMNS; i++) {
		if (!shown(by, i))
			continue;
		if (!first)
			putc(fmt == REPORT_JSON ? ',' : sep, f);
		first = 0;
		if (fmt == REPORT_JSON)
			fprintf(f, "\"%s\":", columns[i]);
		if (i == 1)
			put_text(f, fmt, l->command);
		else if (i == NCOLUMNS - 1)
			put_text(f, fmt, l->end);
		else
			fputs(num[i], f);
	}
	fputs(fmt == REPORT_JSON ? "}\n" : "\n", f);
}

static void print_machine(const struct report *r, FILE *f,
			  enum report_format fmt)
{
	enum group_by by = r->groups.by;
	struct line l;

	if (fmt != REPORT_JSON) {
		int first = 1;

		for (size_t i = 0; i < NCOLUMNS; i++) {
			if (!shown(by, i))
				continue;
			fprintf(f, "%s%s", first ? "" : (fmt == REPORT_TSV ? "\t" : ","),
				columns[i]);
			first = 0;
		}
		putc('\n', f);
	}
	/* A per-tick file has one series: it is the total. */
	if (!r->aggregate) {
		for (size_t i = 0; i < r->nprocs; i++) {
			if (!r->procs[i].samples)
				continue;
			line_of(r, i, &l);
			put_line(f, fmt, by, &l);
		}
	}
	if (total_of(r, &l))
		put_line(f, fmt, by, &l);
}

/*
 * The table.  By process: pid, figures, end, command.  By tree: the
 * root's pid, how many processes, figures, the root's command.  By
 * command: how many processes, figures, the program.
 */
/*
 * The system's pressure stall over the window, from the file's pressure
 * lines (none from files of older versions: nothing is said), and why
 * there are none or no more, if the file says.
 */
static void print_pressure(const struct report *r, FILE *f)
{
	uint64_t stall, span = 0;
	const char *name, *kind;
	int any = 0, block = -1;

	for (int k = 0; k < PSI_KINDS; k++) {
		int cg = k >= PSI_CG_FIRST;

		if (report_stall(r, k, &stall, &span))
			continue;
		if (block != cg)
			fprintf(f, "%spressure stall (PSI, %s) over %.3f s:",
				any ? "\n" : "", cg ? "the command's cgroup" :
				"the whole system", (double)span / 1e9);
		/* some and full of a resource on one line */
		name = pressure_name(k) + (cg ? strlen("cgroup ") : 0);
		kind = strchr(name, ' ');
		if (k == PSI_MEMORY_SOME || k == PSI_CPU_SOME ||
		    k == PSI_IO_SOME || k == PSI_CG_MEMORY_SOME || block != cg)
			fprintf(f, "\n  %-6.*s", (int)(kind - name), name);
		fprintf(f, "  %s %9.3f s %6.1f %%", kind + 1, (double)stall / 1e6,
			span ? 100.0 * (double)stall * 1000.0 / (double)span : 0.0);
		any = 1;
		block = cg;
	}
	if (any)
		putc('\n', f);
	else if (r->npsi)
		fprintf(f, "pressure stall (PSI): fewer than two readings in the window\n");
	if (r->psi_unavailable) {
		fprintf(f, "pressure stall (PSI): %s: ", any ? "not recorded to the end" : "not available");
		put_shown(f, r->psi_unavailable, 200);
		putc('\n', f);
	}
}

static void print_text(const struct report *r, FILE *f)
{
	enum group_by by = r->groups.by;
	struct line l;
	int reaped = 0, n = 0;
	const char *end;

	if (by == GROUP_COMMAND)
		fprintf(f, "%8s ", "procs");
	else
		fprintf(f, "%8s ", r->aggregate ? "series" :
			by == GROUP_TREE ? "root" : "pid");
	if (by == GROUP_TREE)
		fprintf(f, "%6s ", "procs");
	fprintf(f, "%9s %8s %12s %10s %10s %8s %8s %12s %10s %10s ",
		"duration", "samples", "minor", "major", "cpu", "mean", "peak",
		"peak minor", "peak major", "max rss");
	if (by == GROUP_PROCESS)
		fprintf(f, "%-12s ", "end");
	fprintf(f, "command\n");
	fprintf(f, "%8s ", "");
	if (by == GROUP_TREE)
		fprintf(f, "%6s ", "");
	fprintf(f, "%9s %8s %12s %10s %10s %8s %8s %12s %10s %10s\n",
		"s", "", "faults", "faults", "s", "cpu %", "cpu %",
		"faults/s", "faults/s", "MiB");
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct report_proc *p = &r->procs[i];

		if (!p->samples)
			continue;
		n++;
		line_of(r, i, &l);
		if (by == GROUP_COMMAND)
			fprintf(f, "%8zu ", l.processes);
		else if (l.pid)
			fprintf(f, "%8" PRIu32 " ", l.pid);
		else
			fprintf(f, "%8s ", "all");
		if (by == GROUP_TREE)
			fprintf(f, "%6zu ", l.processes);
		fprintf(f, "%9.3f %8" PRIu64 " %12" PRIu64 " %10" PRIu64
			" %10.3f %8.1f %8.1f %12.0f %10.0f %10.1f",
			l.end_s - l.start_s, l.samples, l.min_flt,
			l.maj_flt, (double)l.cpu_ns / 1e9, 100.0 * l.util,
			100.0 * l.peak_util, l.peak_min_rate, l.peak_maj_rate,
			(double)l.max_rss_kb / 1024.0);
		if (by == GROUP_PROCESS) {
			end = !strcmp(l.end, "reaped") ? "exited*" :
			      !strcmp(l.end, "running") ? "-" : l.end;
			if (*l.command)
				fprintf(f, " %-12s", end);
			else
				fprintf(f, " %s", end);
			reaped |= !!(p->flags & VMPROF_REC_REAPED);
		}
		if (*l.command) {
			putc(' ', f);
			put_shown(f, l.command, 60);
		}
		else if (by == GROUP_COMMAND)
			fprintf(f, " (unnamed)");
		putc('\n', f);
	}
	if (n > 1 && total_of(r, &l)) {
		if (by == GROUP_COMMAND)
			fprintf(f, "%8zu ", l.processes);
		else
			fprintf(f, "%8s ", "total");
		if (by == GROUP_TREE)
			fprintf(f, "%6zu ", l.processes);
		fprintf(f, "%9.3f %8s %12" PRIu64 " %10" PRIu64 " %10.3f %8.1f",
			l.end_s - l.start_s, "", l.min_flt, l.maj_flt,
			(double)l.cpu_ns / 1e9, 100.0 * l.util);
		fprintf(f, by == GROUP_COMMAND ? "%44s total\n" : "\n", "");
	}
	if (!n)
		fprintf(f, "(no samples)\n");
	if (reaped)
		fprintf(f, "* reaped before its last sample: the counts of its last interval (< one period) are missing\n");
	print_pressure(r, f);
}

int report_print_pressure(const struct report *r, FILE *f,
			  enum report_format fmt)
{
	char sep = fmt == REPORT_TSV ? '\t' : ',';
	uint64_t stall, span;

	errno = 0;
	if (fmt == REPORT_TEXT)
		print_pressure(r, f);
	else if (fmt != REPORT_JSON)
		fprintf(f, "kind%cstall_s%cstall_pct%cspan_s\n", sep, sep, sep);
	for (int k = 0; k < PSI_KINDS && fmt != REPORT_TEXT; k++) {
		const char *key = pressure_key(k);
		int len = (int)(strlen(key) - strlen("_us"));
		double pct;

		if (report_stall(r, k, &stall, &span))
			continue;
		pct = span ? 100.0 * (double)stall * 1000.0 / (double)span : 0.0;
		if (fmt == REPORT_JSON)
			fprintf(f, "{\"kind\":\"%.*s\",\"stall_s\":%.6f,\"stall_pct\":%.2f,\"span_s\":%.3f}\n",
				len, key, (double)stall / 1e6, pct,
				(double)span / 1e9);
		else
			fprintf(f, "%.*s%c%.6f%c%.2f%c%.3f\n", len, key, sep,
				(double)stall / 1e6, sep, pct, sep,
				(double)span / 1e9);
	}
	if (ferror(f))
		return errno ? -errno : -EIO;
	return 0;
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
