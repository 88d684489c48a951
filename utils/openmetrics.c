// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmprof report --format openmetrics: the OpenMetrics text format
 * (https://openmetrics.io), every sample with its time stamp.  A
 * MetricFamily's samples come together, each series' in time order, and
 * "# EOF" ends the exposition, as the format requires.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "openmetrics.h"
#include "util.h"

/* One time stamp of a group: its counters since its first sample in the
 * window, and the sum of its processes' resident sizes then. */
struct om_point {
	uint64_t tick_ns;	/* CLOCK_MONOTONIC, as recorded */
	uint64_t time_ns;	/* the same, or moved (OM_SPACING_NS) */
	uint64_t min_flt;
	uint64_t maj_flt;
	uint64_t cpu_ns;
	uint64_t rss_kb;
};

struct om_series {
	struct om_point *pts;
	size_t n, cap;
	uint64_t rss_kb;	/* its processes' latest resident sizes */
};

/* A process's share of its group's resident size. */
struct om_proc {
	size_t group;
	uint64_t rss_kb;
};

/*
 * Prometheus keeps time stamps in milliseconds, and refuses two samples of
 * a series at one: a row less than this after a series' last point (a
 * process's last record, taken when it exits, just after a tick) is placed
 * this long after it instead.  So a process's series has a point per
 * sample, and the points of a group (by command or tree) are its ticks.
 */
#define OM_SPACING_NS	1000000u

#define OM_LAST	(VMPROF_REC_EXITED | VMPROF_REC_UNREGISTERED | VMPROF_REC_REAPED)

static struct om_series *series_of(struct openmetrics *om, size_t group)
{
	while (om->n <= group) {
		struct om_series *s = util_grow(om->series, om->n, &om->cap,
						sizeof(*s), 16);

		if (!s)
			return NULL;
		om->series = s;
		memset(&om->series[om->n++], 0, sizeof(*s));
	}
	return &om->series[group];
}

static struct om_proc *proc_of(struct openmetrics *om, uint32_t pid,
			       size_t group)
{
	struct om_proc *p;
	size_t i;

	if (pidmap_get(&om->pids, pid, &i))
		return &om->procs[i];
	p = util_grow(om->procs, om->nprocs, &om->capprocs, sizeof(*p), 64);
	if (!p)
		return NULL;
	om->procs = p;
	if (pidmap_put(&om->pids, pid, om->nprocs))
		return NULL;
	p = &om->procs[om->nprocs++];
	p->group = group;
	p->rss_kb = 0;
	return p;
}

/*
 * A row the report counts (and a reaped process's last, which has no
 * counts): its counts go to its group's point of its tick, made if it is
 * the first; the group's resident size is the sum of the latest of each
 * of its processes that is still watched.
 */
static int on_count(void *arg, const struct vmprof_row *row, size_t group)
{
	struct openmetrics *om = arg;
	struct om_series *s = series_of(om, group);
	struct om_proc *p = s ? proc_of(om, row->pid, group) : NULL;
	struct om_point *pt;

	if (!p)
		return -ENOMEM;
	if (p->group != group) {
		/* An exec took the process to another command's group. */
		om->series[p->group].rss_kb -= p->rss_kb;
		s = &om->series[group];
		p->group = group;
		p->rss_kb = 0;
	}
	s->rss_kb -= p->rss_kb;
	p->rss_kb = row->flags & VMPROF_REC_REAPED ? 0 : row->rss_kb;
	s->rss_kb += p->rss_kb;
	if (row->flags & VMPROF_REC_REAPED) {
		/* No counts, no sample: only the group's point of its tick
		 * loses the process. */
		if (s->n && row->time_ns == s->pts[s->n - 1].tick_ns)
			s->pts[s->n - 1].rss_kb = s->rss_kb;
		return 0;
	}
	if (!s->n || row->time_ns != s->pts[s->n - 1].tick_ns) {
		pt = util_grow(s->pts, s->n, &s->cap, sizeof(*pt), 64);
		if (!pt)
			return -ENOMEM;
		s->pts = pt;
		pt = &s->pts[s->n++];
		*pt = s->n > 1 ? pt[-1] : (struct om_point){ 0 };
		pt->tick_ns = row->time_ns;
		if (s->n > 1 && row->time_ns < pt->time_ns + OM_SPACING_NS)
			pt->time_ns += OM_SPACING_NS;
		else
			pt->time_ns = row->time_ns;
	}
	pt = &s->pts[s->n - 1];
	pt->min_flt += row->min_flt;
	pt->maj_flt += row->maj_flt;
	pt->cpu_ns += row->cpu_ns;
	pt->rss_kb = s->rss_kb;
	/* Its last record: from now on it is no longer resident here. */
	if (row->flags & OM_LAST) {
		s->rss_kb -= p->rss_kb;
		p->rss_kb = 0;
	}
	return 0;
}

void openmetrics_attach(struct openmetrics *om, struct report *r)
{
	memset(om, 0, sizeof(*om));
	r->on_count = on_count;
	r->on_count_arg = om;
}

int openmetrics_clock(struct openmetrics *om, uint64_t realtime_ns,
		      uint64_t monotonic_ns)
{
	om->has_clock = 1;
	om->realtime_ns = realtime_ns;
	om->monotonic_ns = monotonic_ns;
	return 0;
}

void openmetrics_free(struct openmetrics *om)
{
	for (size_t i = 0; i < om->n; i++)
		free(om->series[i].pts);
	free(om->series);
	free(om->procs);
	pidmap_free(&om->pids);
	memset(om, 0, sizeof(*om));
}

/*
 * A label value, which must be UTF-8, from a command, which is bytes: a
 * byte that is not part of valid UTF-8, and each byte of a control
 * character or of one that reorders bidirectional text (util_utf8_shown()),
 * becomes the four characters \xHH, and a backslash two, so that two commands
 * never give one value (a command's label, by command, is all that tells
 * its series apart).  Then the format's escapes: \\ and \".
 */
static void put_label(FILE *f, const char *name, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;

	fprintf(f, "%s=\"", name);
	while (*s) {
		size_t n = util_utf8_shown(s);

		if (!n) {
			fprintf(f, "\\\\x%02x", *s++);
		} else if (*s == '\\') {
			fputs("\\\\\\\\", f);
			s++;
		} else if (*s == '"') {
			fputs("\\\"", f);
			s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	putc('"', f);
}

enum om_value { OM_MIN, OM_MAJ, OM_CPU, OM_RSS };

/* The labels of group @i and @type, without braces: 0, or -ENOMEM. */
static int labels_of(const struct report *r, size_t i, const char *type,
		     char **text)
{
	const struct group *g = &r->groups.g[i];
	const char *sep = "";
	size_t len;
	int bad;
	FILE *f = open_memstream(text, &len);

	if (!f)
		return -ENOMEM;
	if (g->pid) {
		fprintf(f, "pid=\"%" PRIu32 "\"", g->pid);
		sep = ",";
	}
	if (g->name) {
		fputs(sep, f);
		put_label(f, "command", g->name);
		sep = ",";
	}
	if (type)
		fprintf(f, "%stype=\"%s\"", sep, type);
	bad = ferror(f);
	if (fclose(f) || bad) {
		free(*text);	/* fclose() has set it, even when it fails */
		return -ENOMEM;
	}
	return 0;
}

/* A series' samples: name{labels} value time, in time order. */
static int put_series(FILE *f, const struct openmetrics *om,
		      const struct report *r, size_t i, const char *name,
		      const char *type, enum om_value v)
{
	const struct om_series *s = &om->series[i];
	char *labels;
	int err = labels_of(r, i, type, &labels);

	if (err)
		return err;
	for (size_t k = 0; k < s->n; k++) {
		const struct om_point *pt = &s->pts[k];
		/* modulo 2^64: a sample may precede the clock line (in range:
		 * wall_clock_ok()) */
		uint64_t t = om->realtime_ns + (pt->time_ns - om->monotonic_ns);

		fputs(name, f);
		if (*labels)
			fprintf(f, "{%s}", labels);
		switch (v) {
		case OM_MIN:
			fprintf(f, " %" PRIu64, pt->min_flt);
			break;
		case OM_MAJ:
			fprintf(f, " %" PRIu64, pt->maj_flt);
			break;
		case OM_CPU:
			fprintf(f, " %" PRIu64 ".%09" PRIu64,
				pt->cpu_ns / 1000000000u, pt->cpu_ns % 1000000000u);
			break;
		case OM_RSS:
			fprintf(f, " %" PRIu64, pt->rss_kb * 1024);
			break;
		}
		/* seconds, to the millisecond Prometheus keeps */
		fprintf(f, " %" PRIu64 ".%03" PRIu64 "\n", t / 1000000000u,
			t % 1000000000u / 1000000u);
	}
	free(labels);
	return 0;
}

/* The families in their order; a family's later series have no header. */
static const struct om_family {
	const char *header;	/* TYPE, UNIT and HELP lines, or NULL */
	const char *name;
	const char *type;	/* the type label, or NULL */
	enum om_value v;
} families[] = {
	{ "# TYPE vmprof_page_faults counter\n"
	  "# HELP vmprof_page_faults Page faults (minor: no I/O; major: I/O) since the first sample.\n",
	  "vmprof_page_faults_total", "minor", OM_MIN },
	{ NULL, "vmprof_page_faults_total", "major", OM_MAJ },
	{ "# TYPE vmprof_cpu_seconds counter\n"
	  "# UNIT vmprof_cpu_seconds seconds\n"
	  "# HELP vmprof_cpu_seconds CPU time, user and system, since the first sample.\n",
	  "vmprof_cpu_seconds_total", NULL, OM_CPU },
	{ "# TYPE vmprof_resident_bytes gauge\n"
	  "# UNIT vmprof_resident_bytes bytes\n"
	  "# HELP vmprof_resident_bytes Resident set size (anonymous, file and shared memory pages).\n",
	  "vmprof_resident_bytes", NULL, OM_RSS },
};

/* Is monotonic @t, by the clock line, between 1970 and 2262 (the int64
 * nanoseconds Prometheus's milliseconds come from)? */
static bool wall_clock_ok(const struct openmetrics *om, uint64_t t)
{
	if (t >= om->monotonic_ns)
		return t - om->monotonic_ns <= (uint64_t)INT64_MAX - om->realtime_ns &&
		       om->realtime_ns <= (uint64_t)INT64_MAX;
	return om->monotonic_ns - t <= om->realtime_ns &&
	       om->realtime_ns <= (uint64_t)INT64_MAX;
}

int openmetrics_check(const struct openmetrics *om)
{
	if (!om->has_clock)
		return -ENODATA;
	/* A series' points are in time order: its first and last decide. */
	for (size_t i = 0; i < om->n; i++) {
		const struct om_series *s = &om->series[i];

		if (s->n && (!wall_clock_ok(om, s->pts[0].time_ns) ||
			     !wall_clock_ok(om, s->pts[s->n - 1].time_ns)))
			return -ERANGE;
	}
	return 0;
}

int openmetrics_print(const struct openmetrics *om, const struct report *r,
		      FILE *f)
{
	int err = openmetrics_check(om);

	if (err)
		return err;
	errno = 0;
	for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++) {
		const struct om_family *fam = &families[k];

		if (fam->header)
			fputs(fam->header, f);
		for (size_t i = 0; i < om->n && !err; i++)
			err = put_series(f, om, r, i, fam->name, fam->type, fam->v);
	}
	/* Not after an error: "# EOF" says the exposition is whole. */
	if (!err)
		fputs("# EOF\n", f);
	if (!err && ferror(f))
		err = errno ? -errno : -EIO;
	return err;
}
