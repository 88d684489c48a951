/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The streaming front end of vmprof run and vmprof monitor (perf's
 * cmd_record/__cmd_record split): their options, parsed into one struct by
 * one parser, and the steps that set up the output and the session,
 * stream, and close them.
 */
#ifndef VMPROF_RECORD_H
#define VMPROF_RECORD_H

#include <stddef.h>
#include <sys/types.h>

#include "stream.h"
#include "vmprof.h"

/* The commands of this front end (record.c marks the options of each). */
enum record_cmd {
	RECORD_RUN = 1,
	RECORD_MONITOR = 2,
};

struct record {
	enum record_cmd cmd;
	/* Options, of both but those marked run or monitor. */
	const char *output;		/* -o; "-": standard output */
	enum vmprof_backend backend;	/* --backend */
	struct stream_opts stream;	/* -f, -a; monitor: -p, -d, -u, --pid */
	unsigned int open_flags;	/* VMPROF_OPEN_*; monitor: --oldest */
	unsigned int period_ms;		/* run: --period; 0: the sampler's */
	int children;			/* run: not --no-children */
	int no_cgroup;			/* run: --no-cgroup */
	int strict, quiet;		/* run: --strict, -q */
	pid_t *pids;			/* monitor: --pid */
	size_t npids;
	int lock;			/* monitor: --mlock */
	/* Set by record_open() and record_stream(). */
	struct vmprof_session *s;
	int shared;			/* VMPROF_SAMPLER_SHARED: the module's */
	struct vmprof_stats from, to;
	int have_from, have_to;
	struct stream_result res;
	/* The system's PSI files, for stream.psi (stream.psi_err: why
	 * none, -ENOENT no CONFIG_PSI, -EOPNOTSUPP psi=0). */
	struct pressure_src psi;
	/* The output file: created by us, the old one renamed to old_name,
	 * written to by the stream. */
	char *old_name;
	int created, kept_old, streamed;
};

#define RECORD_INIT(command, default_output) {				\
	.cmd = (command),						\
	.output = (default_output),					\
	.backend = VMPROF_BACKEND_AUTO,					\
	.stream = { .fmt = VMPROF_FMT_CSV },				\
	.open_flags = VMPROF_OPEN_RING,					\
	.children = 1,							\
}

/*
 * Parse @argv's options, those r->cmd takes, into @r; --help prints
 * @usage.  Returns -1 to go on, with optind at the first operand, else the
 * exit status (--help, --version, a usage error).
 */
int record_parse(struct record *r, const char *usage, int argc, char **argv);

/*
 * Lock memory (--mlock), open the output, then the session (its ring attached, the sampler's
 * statistics read as the start of the run's), and set --period.  An
 * existing non-empty FILE is first renamed FILE.old, as perf record does,
 * so that nothing is truncated while the sampler runs.  EXIT_OK, or
 * EXIT_FAIL after saying why; record_close() then undoes what was done.
 */
int record_open(struct record *r);

/* Stream (stream_run()), then read the sampler's statistics at its end. */
int record_stream(struct record *r);

/* "sampler: ...": its work from record_open() to record_stream()'s end. */
void record_sampler_line(const struct record *r, char *buf, size_t size);

/*
 * Close the output: EXIT_OK, or EXIT_FAIL after saying what could not be
 * written.  If nothing was streamed into it (a failure before the start),
 * the file made is removed and FILE.old renamed back.
 */
int record_close_output(struct record *r);

/* Close the output if still open, and the session, and free @r: @rc,
 * or EXIT_FAIL if the output could not be written.  Whatever of
 * record_open() was done or not. */
int record_close(struct record *r, int rc);

#endif
