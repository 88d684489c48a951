// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof plot FILE -o OUT.png|OUT.svg */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>

#include "builtin.h"
#include "datafile.h"
#include "group.h"
#include "util.h"

const char plot_usage[] =
"Usage: vmprof plot [OPTION]... FILE -o OUT.png|OUT.svg\n"
"\n"
"Draw a data file with gnuplot, in panels sharing the time axis:\n"
"  1. cumulative minor faults (left axis, solid) and major faults (right\n"
"     axis, dashed) since the start;\n"
"  2. fault rates in faults per second over each sample (minor left, major\n"
"     right);\n"
"  3. CPU utilisation in % (100 % = one CPU busy);\n"
"  4. when the file has pressure lines (vmprof run and monitor write them\n"
"     where the kernel has PSI): the whole system's pressure stall, the\n"
"     share of each tick in which some (solid) or all (dashed) runnable\n"
"     tasks waited for memory, I/O or a CPU.\n"
"One line per process, named by its pid and command when the file has\n"
"them, plus their total when there are several; or one per command or\n"
"per process tree (--by), each the sum of its processes at each sample.\n"
"When no process took a major fault, the major-fault curves and axes are\n"
"left out and the title says so.\n"
"\n"
"Options:\n"
"  -b, --by WHAT       process (default), command or tree: as vmprof\n"
"                      report --by\n"
"  -o, --output OUT    the picture; its extension picks PNG or SVG\n"
"  -t, --title TEXT    title (default: the data file's name)\n"
"  -s, --script FILE   also save the gnuplot script (with its data) to FILE\n"
"  -h, --help          show this help\n"
"\n"
"Examples:\n"
"  vmprof plot vmprof.csv -o vmprof.png\n"
"  vmprof plot -t 'sort, 1 GiB' sort.csv -o sort.svg\n"
"  vmprof plot --by command build.csv -o build.png\n";

/* The rows of a group (groups.g[i] for s[i]), or their total. */
struct series {
	int total;		/* the sum of the other series */
	struct vmprof_row *rows;
	size_t n, cap;
};

struct plot {
	struct series *s;
	size_t n;
	struct grouping groups;
	uint64_t t0;
	uint64_t maj_flt;	/* all major faults: 0 draws no major curve */
	struct pressure *psi;	/* the pressure lines: two or more draw */
	size_t npsi, cappsi;	/* a fourth panel */
};

static int push(struct series *s, const struct vmprof_row *row)
{
	struct vmprof_row *r = util_grow(s->rows, s->n, &s->cap, sizeof(*r), 256);

	if (!r)
		return -ENOMEM;
	s->rows = r;
	s->rows[s->n++] = *row;
	return 0;
}

/* The series of group @i: NULL when out of memory. */
static struct series *series_for(struct plot *p, size_t i)
{
	/* Groups are numbered in order: a new one takes the next series. */
	while (p->n <= i) {
		struct series *s = realloc(p->s, (p->n + 1) * sizeof(*s));

		if (!s)
			return NULL;
		p->s = s;
		memset(&p->s[p->n++], 0, sizeof(*s));
	}
	return &p->s[i];
}

static int add(const struct vmprof_row *row, void *arg)
{
	struct plot *p = arg;
	uint64_t start = row->time_ns - row->interval_ns;
	struct series *s;
	size_t g;
	int err;

	if (!p->t0 || start < p->t0)
		p->t0 = start;
	err = grouping_add(&p->groups, row, &g);
	if (!err)
		err = grouping_count(&p->groups, row->pid, g);
	if (err)
		return err;
	s = series_for(p, g);
	if (!s)
		return -ENOMEM;
	p->maj_flt += row->maj_flt;
	return push(s, row);
}

static int name(uint32_t pid, const char *command, void *arg)
{
	struct plot *p = arg;

	return grouping_name(&p->groups, pid, command);
}

static int pressure(const struct pressure *psi, const char *reason,
		    void *arg)
{
	struct plot *p = arg;

	(void)reason;
	return psi ? pressure_push(&p->psi, &p->npsi, &p->cappsi, psi) : 0;
}

static int by_time(const void *a, const void *b)
{
	const struct vmprof_row *x = a, *y = b;

	return x->time_ns < y->time_ns ? -1 : x->time_ns > y->time_ns;
}

/* Sum the rows of @all (sorted here) into @sum: one row per distinct time
 * stamp. */
static int sum_by_time(struct series *all, struct series *sum)
{
	int err = 0;

	qsort(all->rows, all->n, sizeof(*all->rows), by_time);
	for (size_t j = 0; j < all->n && !err; j++) {
		const struct vmprof_row *r = &all->rows[j];
		struct vmprof_row *t = sum->n ? &sum->rows[sum->n - 1] : NULL;

		if (!t || t->time_ns != r->time_ns) {
			struct vmprof_row row = { 0 };

			vmprof_row_add(&row, r);
			err = push(sum, &row);
			continue;
		}
		vmprof_row_add(t, r);
	}
	return err;
}

/* The total of several series. */
static int make_total(struct plot *p, struct series *total)
{
	struct series all = { 0 };
	int err = 0;

	memset(total, 0, sizeof(*total));
	total->total = 1;
	for (size_t i = 0; i < p->n && !err; i++)
		for (size_t j = 0; j < p->s[i].n && !err; j++)
			err = push(&all, &p->s[i].rows[j]);
	if (!err)
		err = sum_by_time(&all, total);
	free(all.rows);
	return err;
}

/* A command's or a tree's series: the sum of its processes' rows. */
static int sum_group(struct series *s)
{
	struct series sum = { 0 };
	int err = sum_by_time(s, &sum);

	free(s->rows);
	*s = sum;
	return err;
}

/* The longest command shown in the key. */
#define NAME_MAX_CHARS	26

/* The key's name of series @i. */
static void name_of(const struct plot *p, size_t i, char *buf, size_t size)
{
	const struct group *g = i < p->groups.n ? &p->groups.g[i] : NULL;
	enum group_by by = p->groups.by;
	size_t used;

	if (p->s[i].total || !g) {
		snprintf(buf, size, "total");
		return;
	}
	if (by == GROUP_COMMAND) {
		snprintf(buf, size, "%s", g->name ? g->name : "(unnamed)");
	} else if (g->pid && g->name && *g->name) {
		/* The program without its directory; when too long, its name
		 * and the end of its arguments (what tells runs apart). */
		const char *cmd = g->name, *sp = strchr(cmd, ' ');
		const char *slash = memrchr(cmd, '/', sp ? (size_t)(sp - cmd) : strlen(cmd));
		size_t len, prog;

		if (slash)
			cmd = slash + 1;
		len = strlen(cmd);
		sp = strchr(cmd, ' ');
		prog = sp ? (size_t)(sp - cmd) : len;
		if (len <= NAME_MAX_CHARS || prog + 8 > NAME_MAX_CHARS)
			snprintf(buf, size, "%" PRIu32 " %.*s%s", g->pid,
				 NAME_MAX_CHARS, cmd,
				 len > NAME_MAX_CHARS ? "..." : "");
		else
			snprintf(buf, size, "%" PRIu32 " %.*s ...%s", g->pid,
				 (int)prog, cmd,
				 cmd + len - (NAME_MAX_CHARS - prog - 4));
	} else if (g->pid) {
		snprintf(buf, size, "pid %" PRIu32, g->pid);
	} else {
		snprintf(buf, size, "all (per tick)");
	}
	used = strlen(buf);
	if (by != GROUP_PROCESS && used < size)
		snprintf(buf + used, size - used, " (%zu process%s)",
			 g->processes, g->processes == 1 ? "" : "es");
}

static void write_block(FILE *f, const struct plot *p, const struct series *s,
			size_t idx)
{
	uint64_t min = 0, maj = 0;

	fprintf(f, "$s%zu << EOD\n", idx);
	/* The cumulative curves start from 0 where the first interval does. */
	if (s->n)
		fprintf(f, "%.3f 0 0 NaN NaN NaN\n",
			(double)(s->rows[0].time_ns - s->rows[0].interval_ns -
				 p->t0) / 1e9);
	for (size_t j = 0; j < s->n; j++) {
		const struct vmprof_row *r = &s->rows[j];
		double secs = (double)r->interval_ns / 1e9;

		min += r->min_flt;
		maj += r->maj_flt;
		fprintf(f, "%.3f %" PRIu64 " %" PRIu64 " %.1f %.1f %.2f\n",
			(double)(r->time_ns - p->t0) / 1e9, min, maj,
			secs > 0 ? (double)r->min_flt / secs : 0.0,
			secs > 0 ? (double)r->maj_flt / secs : 0.0,
			100.0 * vmprof_row_cpu_util(r));
	}
	fprintf(f, "EOD\n");
}

/* The kinds of pressure the fourth panel draws, in its order. */
static const enum psi_kind psi_drawn[] = {
	PSI_MEMORY_SOME, PSI_MEMORY_FULL, PSI_IO_SOME, PSI_IO_FULL,
	PSI_CPU_SOME, PSI_CG_MEMORY_SOME, PSI_CG_MEMORY_FULL,
};
#define PSI_DRAWN	(sizeof(psi_drawn) / sizeof(psi_drawn[0]))
/* A colour a resource: the system's memory, I/O, CPU; the cgroup's memory. */
static const int psi_colour[PSI_DRAWN] = { 1, 1, 2, 2, 3, 4, 4 };

/* The pressure panel's data: the share of each interval between two
 * pressure lines stalled, from its start (drawn as steps); 0 at the end. */
static void write_pressure_block(FILE *f, const struct plot *p)
{
	fprintf(f, "$psi << EOD\n");
	for (size_t j = 0; j < p->npsi; j++) {
		const struct pressure *a = &p->psi[j];
		const struct pressure *b = j + 1 < p->npsi ? a + 1 : NULL;

		/* before the first sample's interval: negative seconds */
		fprintf(f, "%.3f", ((double)a->time_ns - (double)p->t0) / 1e9);
		for (size_t k = 0; k < PSI_DRAWN; k++)
			fprintf(f, " %.2f", b ? pressure_pct(a, b, psi_drawn[k]) : 0.0);
		fputc('\n', f);
	}
	fprintf(f, "EOD\n");
}

/* A control character, which would end or bend a line of the script. */
static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * gnuplot's single-quoted strings: double every quote.  A newline would
 * end the command, and the next line run as one (`!` runs a shell): a
 * control character becomes a space (a title from a data file, a file
 * name); the output's name, which must stay what it is, has none
 * (cmd_plot refuses it).
 */
static void put_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(is_control((unsigned char)*s) ? ' ' : *s, f);
	}
	fputc('\'', f);
}

/* A key title: @name (quoted) followed by @what. */
static void put_titled(FILE *f, const char *name, const char *what)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s%s", name, what);
	put_quoted(f, buf);
}

/* The script that draws @out (into @path: @out, or where it is open). */
static void write_script(FILE *f, const struct plot *p, size_t nseries,
			 const char *out, const char *path, const char *title)
{
	size_t len = strlen(out);
	int svg = len > 4 && !strcmp(out + len - 4, ".svg");
	static const char *const panel[3][2] = {
		{ "1:2", "1:3" }, { "1:4", "1:5" }, { "1:6", NULL },
	};
	static const char *const ylabel[3] = {
		"minor faults (cumulative)", "minor faults per second",
		"CPU utilisation (%)",
	};
	int panels = p->npsi >= 2 ? 4 : 3;

	fprintf(f, "# vmprof plot: gnuplot script with its data inline\n");
	fprintf(f, "set terminal %s size 1200,%d font ',10'\n",
		svg ? "svg dynamic" : "pngcairo", panels == 4 ? 1300 : 1000);
	/* Commands are shown as they are: no _ subscripts or ^ powers. */
	fprintf(f, "set termoption noenhanced\n");
	fprintf(f, "set output ");
	put_quoted(f, path);
	fputc('\n', f);
	for (size_t i = 0; i < nseries; i++)
		write_block(f, p, &p->s[i], i);
	if (panels == 4)
		write_pressure_block(f, p);
	fprintf(f, "set multiplot layout %d,1 title ", panels);
	if (p->maj_flt) {
		put_quoted(f, title);
	} else {
		char *t = NULL;

		put_quoted(f, asprintf(&t, "%s (no major faults)", title) < 0 ?
			   title : t);
		free(t);
	}
	/* The keys sit right of the panels, clear of the right axis. */
	fprintf(f, "\nset grid\nset xlabel 'time (s)'\n"
		"set lmargin 12\nset rmargin 58\n");
	if (panels == 4) {
		/* One time axis for all: the pressure lines span the run,
		 * from before the first sample to after the last. */
		double lo = ((double)p->psi[0].time_ns - (double)p->t0) / 1e9;
		double hi = ((double)p->psi[p->npsi - 1].time_ns - (double)p->t0) / 1e9;

		for (size_t i = 0; i < nseries; i++) {
			const struct series *s = &p->s[i];
			double end = s->n ? (double)(s->rows[s->n - 1].time_ns - p->t0) / 1e9 : 0;

			hi = end > hi ? end : hi;
		}
		fprintf(f, "set xrange [%.3f:%.3f]\n", lo < 0 ? lo : 0, hi);
	}
	for (int k = 0; k < 3; k++) {
		fprintf(f, "set ylabel '%s'\n", ylabel[k]);
		if (k < 2 && p->maj_flt)
			fprintf(f, "set y2label 'major faults%s'\n"
				"set y2tics\nset ytics nomirror\n",
				k == 0 ? " (cumulative)" : " per second");
		else
			fprintf(f, "unset y2label\nunset y2tics\nset ytics mirror\n");
		fprintf(f, "set key at screen 0.995, screen %.3f right top\n",
			0.955 - 0.99 / panels * k);
		fprintf(f, "plot ");
		for (size_t i = 0; i < nseries; i++) {
			char label[64];

			name_of(p, i, label, sizeof(label));
			fprintf(f, "%s$s%zu using %s with lines lw 2 lc %zu title ",
				i ? ", \\\n     " : "", i, panel[k][0], i + 1);
			put_titled(f, label, k == 2 ? "" : " minor");
			if (panel[k][1] && p->maj_flt) {
				fprintf(f, ", \\\n     $s%zu using %s%s with lines lw 2 dt 2 lc %zu title ",
					i, panel[k][1], " axes x1y2", i + 1);
				put_titled(f, label, " major");
			}
		}
		fputc('\n', f);
	}
	if (panels == 4) {
		/* The system's pressure stall (PSI), % of each interval. */
		fprintf(f, "set ylabel 'pressure stall, whole system (%% of time)'\n"
			"unset y2label\nunset y2tics\nset ytics mirror\n"
			"set key at screen 0.995, screen %.3f right top\n"
			"plot ", 0.955 - 0.99 / panels * 3);
		unsigned int have = 0;
		const char *sep = "";

		for (size_t j = 0; j < p->npsi; j++)
			have |= p->psi[j].have;
		for (size_t k = 0; k < PSI_DRAWN; k++) {
			const char *kind = pressure_name(psi_drawn[k]);

			/* a kind no line has (the cgroup's, but in run's) */
			if (!(have & 1u << psi_drawn[k]))
				continue;
			fprintf(f, "%s$psi using 1:%zu with steps lw 2 lc %d%s title ",
				sep, k + 2, psi_colour[k],
				strstr(kind, "full") ? " dt 2" : "");
			put_quoted(f, kind);
			sep = ", \\\n     ";
		}
		fputc('\n', f);
	}
	fprintf(f, "unset multiplot\n");
}

int cmd_plot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "title", required_argument, NULL, 't' },
		{ "script", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct datafile_ops ops = {
		.row = add, .process = name, .pressure = pressure,
	};
	const char *out = NULL, *title = NULL, *script = NULL, *in;
	enum group_by by = GROUP_PROCESS;
	struct plot p = { 0 };
	size_t nseries = 0, len;
	char fdpath[32];
	int c, rc, st;
	FILE *f, *img;

	while ((c = getopt_long(argc, argv, "b:o:t:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (group_by_parse(optarg, &by))
				return util_usage_error("--by must be process, command or tree");
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			title = optarg;
			break;
		case 's':
			script = optarg;
			break;
		case 'h':
			return util_help(plot_usage);
		default:
			return util_usage_error(NULL);
		}
	}
	if (argc - optind != 1)
		return util_usage_error("expected one data FILE");
	if (!out)
		return util_usage_error("expected -o OUT.png or -o OUT.svg");
	len = strlen(out);
	if (len < 5 || (strcmp(out + len - 4, ".png") && strcmp(out + len - 4, ".svg")))
		return util_usage_error("the output must end in .png or .svg");
	for (const char *o = out; *o; o++)
		if (is_control((unsigned char)*o))
			return util_usage_error("the output's name holds a control character (a newline, a tab...), which a gnuplot script cannot take: choose another with -o");
	in = argv[optind];
	grouping_init(&p.groups, by);
	rc = datafile_read(in, &ops, &p);
	nseries = p.n;
	if (rc)
		goto out;
	if (by != GROUP_PROCESS && p.groups.per_tick) {
		rc = util_fail("%s is a per-tick file (--aggregate): it has no processes to group by %s",
			       in, by == GROUP_TREE ? "tree" : "command");
		goto out;
	}
	/* A command's or a tree's series: one point a sample. */
	for (size_t i = 0; i < p.n && by != GROUP_PROCESS; i++) {
		if (sum_group(&p.s[i])) {
			rc = util_fail("out of memory");
			goto out;
		}
	}
	if (!p.n) {
		rc = util_fail("%s has no samples to plot", in);
		goto out;
	}
	if (p.n > 1) {
		struct series *s = realloc(p.s, (p.n + 1) * sizeof(*s));

		if (!s) {
			rc = util_fail("out of memory");
			goto out;
		}
		p.s = s;
		nseries = p.n + 1;
		if (make_total(&p, &p.s[p.n])) {
			rc = util_fail("out of memory");
			goto out;
		}
	}
	if (script) {
		f = util_create(script, NULL);
		if (!f) {
			rc = EXIT_FAIL;
			goto out;
		}
		write_script(f, &p, nseries, out, out, title ? title : in);
		rc = util_close_file(f, script);
		if (rc)
			goto out;
	}
	/* The image: created here as every output is (util_create()), and
	 * handed to gnuplot as /dev/fd/N, open across its exec. */
	img = util_create(out, NULL);
	if (!img) {
		rc = EXIT_FAIL;
		goto out;
	}
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fileno(img));
	fcntl(fileno(img), F_SETFD, 0);
	f = popen("gnuplot", "w");
	if (!f) {
		fclose(img);
		rc = util_fail("cannot run gnuplot: %s", strerror(errno));
		goto out;
	}
	write_script(f, &p, nseries, out, fdpath, title ? title : in);
	st = pclose(f);
	fclose(img);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		rc = util_fail(WIFEXITED(st) && WEXITSTATUS(st) == 127 ?
			       "gnuplot not found: install it (apt-get install gnuplot-nox)" :
			       "gnuplot failed to draw %s", out);
		goto out;
	}
	rc = EXIT_OK;
out:
	for (size_t i = 0; i < nseries && p.s; i++)
		free(p.s[i].rows);
	free(p.s);
	free(p.psi);
	grouping_free(&p.groups);
	return rc;
}
