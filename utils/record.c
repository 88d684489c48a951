// SPDX-License-Identifier: GPL-2.0-or-later
/* The streaming front end of vmprof run and vmprof monitor (record.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"
#include "util.h"

#define BOTH (RECORD_RUN | RECORD_MONITOR)

/* The long options, and the commands that take each. */
static const struct {
	struct option opt;
	unsigned int cmds;
} long_opts[] = {
	{ { "output", required_argument, NULL, 'o' }, BOTH },
	{ { "format", required_argument, NULL, 'f' }, BOTH },
	{ { "aggregate", no_argument, NULL, 'a' }, BOTH },
	{ { "backend", required_argument, NULL, 'B' }, BOTH },
	{ { "help", no_argument, NULL, 'h' }, BOTH },
	{ { "no-children", no_argument, NULL, 'C' }, RECORD_RUN },
	{ { "no-cgroup", no_argument, NULL, 'G' }, RECORD_RUN },
	{ { "period", required_argument, NULL, 'T' }, RECORD_RUN },
	{ { "strict", no_argument, NULL, 'S' }, RECORD_RUN },
	{ { "quiet", no_argument, NULL, 'q' }, RECORD_RUN },
	{ { "per-process", no_argument, NULL, 'p' }, RECORD_MONITOR },
	{ { "pid", required_argument, NULL, 'P' }, RECORD_MONITOR },
	{ { "duration", required_argument, NULL, 'd' }, RECORD_MONITOR },
	{ { "until-empty", no_argument, NULL, 'u' }, RECORD_MONITOR },
	{ { "oldest", no_argument, NULL, 'O' }, RECORD_MONITOR },
	{ { "mlock", no_argument, NULL, 'L' }, RECORD_MONITOR },
	{ { "version", no_argument, NULL, 'V' }, RECORD_MONITOR },
};

#define NLONG_OPTS (sizeof(long_opts) / sizeof(long_opts[0]))

/* The short options; run stops at the command's name. */
static const char *short_opts(enum record_cmd cmd)
{
	return cmd == RECORD_RUN ? "+o:f:aqh" : "o:f:pad:uhV";
}

static int add_pid(struct record *r, const char *arg)
{
	pid_t *pids = realloc(r->pids, (r->npids + 1) * sizeof(*pids));

	if (!pids)
		return util_fail("out of memory");
	r->pids = pids;
	pids[r->npids++] = (pid_t)util_parse_ulong(arg, "pid", 1, INT_MAX);
	r->stream.pids = r->pids;
	r->stream.npids = r->npids;
	return -1;
}

/* Take option @c: -1 to go on, else the exit status. */
static int take_option(struct record *r, int c, const char *arg,
		       const char *usage)
{
	switch (c) {
	case 'o':
		r->output = arg;
		break;
	case 'f':
		if (vmprof_format_parse(arg, &r->stream.fmt))
			return util_usage_error("--format must be csv, tsv or json");
		break;
	case 'a':
	case 'p':
		r->stream.aggregate = c == 'a';
		break;
	case 'B':
		r->backend = util_parse_backend(arg);
		break;
	case 'C':
		r->children = 0;
		break;
	case 'G':
		r->no_cgroup = 1;
		break;
	case 'T':
		r->period_ms = (unsigned int)util_parse_ulong(arg, "period", 10, 60000);
		break;
	case 'S':
		r->strict = 1;
		break;
	case 'q':
		r->quiet = 1;
		break;
	case 'P':
		return add_pid(r, arg);
	case 'd':
		r->stream.duration_s = util_parse_double(arg, "duration", 0.001, 1e9);
		break;
	case 'u':
		r->stream.until_empty = 1;
		break;
	case 'O':
		r->open_flags |= VMPROF_OPEN_OLDEST;
		break;
	case 'L':
		r->lock = 1;
		break;
	case 'h':
		return util_help(usage);
	case 'V':
		return util_version();
	default:
		return util_usage_error(NULL);
	}
	return -1;
}

int record_parse(struct record *r, const char *usage, int argc, char **argv)
{
	struct option opts[NLONG_OPTS + 1];
	size_t n = 0;
	int c, rc = -1;

	for (size_t i = 0; i < NLONG_OPTS; i++)
		if (long_opts[i].cmds & r->cmd)
			opts[n++] = long_opts[i].opt;
	memset(&opts[n], 0, sizeof(opts[n]));
	while (rc < 0 &&
	       (c = getopt_long(argc, argv, short_opts(r->cmd), opts, NULL)) != -1)
		rc = take_option(r, c, optarg, usage);
	return rc;
}

/* Nothing was streamed: leave the files as they were before. */
static void undo_output(struct record *r)
{
	if (r->created)
		unlink(r->output);
	if (r->kept_old && rename(r->old_name, r->output))
		util_warn("cannot rename %s back to %s: %s", r->old_name,
			  r->output, strerror(errno));
	r->created = 0;
	r->kept_old = 0;
}

/*
 * Open r->output for writing.  A regular file with data in it is first
 * renamed FILE.old (replacing an earlier one): opening it is then
 * creating a file, never truncating a large one (which frees its blocks
 * while the sampler runs).  Never through a symbolic link, as root in a
 * directory others may write must not: a link planted there would send
 * the data, or create a file, where its owner chose.  What exists and is
 * no regular file may be a character device or a FIFO (/dev/null, a pipe
 * to a reader), opened without waiting for a reader.
 */
static int open_output(struct record *r)
{
	const char *name = r->output;
	struct stat st;
	int fd;

	if (!strcmp(name, "-")) {
		r->stream.out = stdout;
		r->stream.out_name = "standard output";
		return EXIT_OK;
	}
	if (!lstat(name, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		if (asprintf(&r->old_name, "%s.old", name) < 0) {
			r->old_name = NULL;
			return util_fail("out of memory");
		}
		if (rename(name, r->old_name))
			return util_fail("cannot keep %s as %s: %s (choose another file with -o)",
					 name, r->old_name, strerror(errno));
		r->kept_old = 1;
	}
	fd = util_open_output(name, UTIL_OUT_DEVICE, &r->created);
	if (fd < 0) {
		undo_output(r);
		util_warn_output(name, fd, UTIL_OUT_DEVICE,
				 "choose another file with -o");
		return EXIT_FAIL;
	}
	r->stream.out = fdopen(fd, "w");
	if (!r->stream.out) {
		int err = errno;

		close(fd);
		undo_output(r);
		return util_fail("cannot create %s: %s (choose another file with -o)",
				 name, strerror(err));
	}
	r->stream.out_name = name;
	return EXIT_OK;
}

int record_open(struct record *r)
{
	int rc;

	if (r->lock && mlockall(MCL_CURRENT | MCL_FUTURE))
		return util_fail("cannot lock memory: %s (needs CAP_IPC_LOCK or a larger RLIMIT_MEMLOCK)",
				 strerror(errno));
	rc = open_output(r);
	if (rc)
		return rc;
	rc = util_session_open(&r->s, r->open_flags, r->backend);
	if (rc)
		return rc;
	r->shared = !!(vmprof_session_caps(r->s) & VMPROF_SAMPLER_SHARED);
	if (r->period_ms) {
		int err = vmprof_session_set_period(r->s, r->period_ms);

		if (err == -EOPNOTSUPP)
			return util_fail_period(r->period_ms);
		if (err)
			return util_fail_errno(err, "cannot sample every %u ms",
					       r->period_ms);
	}
	/* Pressure stall totals at every tick, where the kernel has them. */
	r->stream.psi_err = pressure_open(&r->psi, "");
	if (!r->stream.psi_err)
		r->stream.psi = &r->psi;
	/* The module's figures count since it was loaded: the run's are the
	 * difference. */
	r->have_from = !vmprof_stats_read(r->s, &r->from);
	return EXIT_OK;
}

int record_stream(struct record *r)
{
	int rc;

	r->streamed = 1;
	rc = stream_run(r->s, &r->stream, &r->res);
	r->have_to = !vmprof_stats_read(r->s, &r->to);
	return rc;
}

void record_sampler_line(const struct record *r, char *buf, size_t size)
{
	util_sampler_line(buf, size, r->s, r->have_from ? &r->from : NULL,
			  r->have_to ? &r->to : NULL);
}

int record_close_output(struct record *r)
{
	FILE *out = r->stream.out;

	if (!out)
		return EXIT_OK;
	r->stream.out = NULL;
	if (out == stdout)
		return r->streamed ? util_close_stdout() : EXIT_OK;
	if (r->streamed)
		return util_close_file(out, r->output);
	fclose(out);
	undo_output(r);
	return EXIT_OK;
}

int record_close(struct record *r, int rc)
{
	if (record_close_output(r))
		rc = EXIT_FAIL;
	vmprof_session_close(r->s);
	r->s = NULL;
	if (r->stream.psi)
		pressure_close(r->stream.psi);
	r->stream.psi = NULL;
	free(r->old_name);
	r->old_name = NULL;
	free(r->pids);
	r->pids = NULL;
	r->npids = 0;
	r->stream.pids = NULL;
	r->stream.npids = 0;
	return rc;
}
