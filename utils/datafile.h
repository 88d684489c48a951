/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a whole data file (CSV or TSV from vmprof-monitor or vmprof run). */
#ifndef VMPROF_DATAFILE_H
#define VMPROF_DATAFILE_H

#include "vmprof.h"

/*
 * Call @fn for every row of @path ("-" for standard input).  A malformed
 * or truncated file is an error naming the line: EXIT_FAIL after the
 * message.  @fn returns 0 or -errno.
 */
int datafile_read(const char *path,
		  int (*fn)(const struct vmprof_row *row, void *arg),
		  void *arg);

#endif
