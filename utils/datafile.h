/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a whole data file (CSV or TSV from vmprof-monitor or vmprof run). */
#ifndef VMPROF_DATAFILE_H
#define VMPROF_DATAFILE_H

#include "vmprof.h"

/* The longest command kept for a process (the rest is cut). */
#define DATAFILE_COMMAND_MAX	256

struct datafile_ops {
	/* Every row, in the file's order. */
	int (*row)(const struct vmprof_row *row, void *arg);
	/* A process line (its command), may be NULL. */
	int (*process)(uint32_t pid, const char *command, void *arg);
};

/*
 * Call @ops for every row and process line of @path ("-" for standard
 * input).  A malformed or truncated file is an error naming the line:
 * EXIT_FAIL after the message.  The callbacks return 0 or -errno.
 */
int datafile_read(const char *path, const struct datafile_ops *ops,
		  void *arg);

#endif
