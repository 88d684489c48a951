/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Streaming records from the ring into a data file (monitor and run). */
#ifndef VMPROF_STREAM_H
#define VMPROF_STREAM_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "pressure.h"
#include "vmprof.h"

/* Set by the SIGINT/SIGTERM handler of stream_catch_signals(). */
extern volatile sig_atomic_t stream_exiting;

struct stream_opts {
	FILE *out;
	const char *out_name;
	enum vmprof_format fmt;
	int aggregate;
	const pid_t *pids;	/* only these pids, if npids > 0 */
	size_t npids;
	double duration_s;	/* stop after this long, if > 0 */
	int until_empty;	/* stop once nothing is registered */
	pid_t until_exit;	/* stop after this pid's last record */
	/*
	 * Only the records of until_exit and of the processes it, or any of
	 * them, forked (by the records' ppid); after until_exit's last
	 * record, wait a few ticks for theirs, then unregister those still
	 * running and read their last records.
	 */
	int follow_tree;
	const char *command;	/* until_exit's command, if known; others
				 * are read from /proc/PID/cmdline */
	/* The system's pressure files (PSI), if any: their totals are
	 * written after the clock line, at every tick and at the end. */
	struct pressure_src *psi;
	int psi_err;		/* without psi: why (-errno), said in the file */
	/* Called with each pressure line written, may be NULL. */
	void (*on_pressure)(const struct pressure *p, void *arg);
	/* Called for each record kept (before aggregation), may be NULL. */
	void (*on_record)(const struct vmprof_record *rec, void *arg);
	/* Called with each process's name before its first record is
	 * passed on (per registration), may be NULL. */
	void (*on_name)(uint32_t pid, const char *command, void *arg);
	void *arg;
};

struct stream_result {
	unsigned long long records;	/* records written (per process) */
	unsigned long long rows;	/* rows written */
	unsigned long long lost;	/* overwritten before they were read */
	int saw_exit;			/* until_exit's last record was read */
	unsigned long long pressure;	/* pressure lines written */
	int pressure_err;		/* why reading them stopped, or 0 */
};

void stream_catch_signals(void);

/*
 * Stream until a stop condition: returns EXIT_OK, or EXIT_FAIL after
 * printing what went wrong (a write error: nothing is silently dropped).
 * It must be the first to write to o->out: it sets its buffering, and
 * flushes it after each batch of records.
 */
int stream_run(struct vmprof_session *s, const struct stream_opts *o,
	       struct stream_result *res);

#endif
