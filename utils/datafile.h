/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a whole data file (CSV or TSV from vmprof-monitor or vmprof run). */
#ifndef VMPROF_DATAFILE_H
#define VMPROF_DATAFILE_H

#include <stdint.h>
#include <stdio.h>

#include "pressure.h"
#include "vmprof.h"

/* The longest command kept for a process (the rest is cut). */
#define DATAFILE_COMMAND_MAX	256
/* The longest line read, newline included: a data file's are far shorter
 * (a process line's command is cut at DATAFILE_COMMAND_MAX by the
 * tools that write it); a longer one is refused, not read whole. */
#define DATAFILE_LINE_MAX	65536

struct datafile_ops {
	/* Every row, in the file's order. */
	int (*row)(const struct vmprof_row *row, void *arg);
	/* A process line (its command), may be NULL. */
	int (*process)(uint32_t pid, const char *command, void *arg);
	/* The clock line (its realtime/monotonic pair), may be NULL. */
	int (*clock)(uint64_t realtime_ns, uint64_t monotonic_ns, void *arg);
	/* A pressure line (PSI totals), or why there are none (@p NULL,
	 * @reason set), may be NULL. */
	int (*pressure)(const struct pressure *p, const char *reason,
			void *arg);
};

/*
 * Call @ops for every row and process line of @path ("-" for standard
 * input).  A malformed or truncated file is an error naming the line:
 * EXIT_FAIL after the message.  The callbacks return 0 or -errno.
 */
int datafile_read(const char *path, const struct datafile_ops *ops,
		  void *arg);
/* The same from the open stream @f, named @path in messages. */
int datafile_read_stream(FILE *f, const char *path,
			 const struct datafile_ops *ops, void *arg);

#endif
