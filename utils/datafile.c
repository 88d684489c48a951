// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datafile.h"
#include "util.h"

int datafile_read(const char *path, const struct datafile_ops *ops,
		  void *arg)
{
	char command[DATAFILE_COMMAND_MAX];
	uint32_t pid;
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	struct vmprof_reader rd;
	struct vmprof_row row;
	char *line = NULL;
	size_t size = 0;
	unsigned long rows = 0;
	int rc = EXIT_OK;
	ssize_t len;

	if (!f)
		return util_fail("cannot open %s: %s", path, strerror(errno));
	vmprof_reader_init(&rd);
	while ((len = getline(&line, &size, f)) >= 0) {
		int n;

		if (len == 0 || line[len - 1] != '\n') {
			rc = util_fail("%s:%lu: truncated line (the file ends in the middle of a line)",
				       path, rd.line + 1);
			break;
		}
		n = vmprof_process_line(line, &pid, command, sizeof(command));
		if (n == 1) {
			rd.line++;
			n = ops->process ? ops->process(pid, command, arg) : 0;
			if (n) {
				rc = util_fail_errno(n, "%s:%lu", path, rd.line);
				break;
			}
			continue;
		}
		if (n < 0) {
			rc = util_fail("%s:%lu: malformed process line: expected \"# process pid=PID command=TEXT\"",
				       path, rd.line + 1);
			break;
		}
		n = vmprof_reader_line(&rd, line, &row);
		if (n == -EPROTO) {
			rc = util_fail("%s:%lu: data format version not supported by this vmprof",
				       path, rd.line);
			break;
		}
		if (n < 0) {
			rc = util_fail("%s:%lu: malformed line: expected %s",
				       path, rd.line, rd.ncols ?
				       "the header's number of columns, each a whole number" :
				       "a header row naming time_ns, pid or nr_pids, interval_ns, min_flt, maj_flt and cpu_ns");
			break;
		}
		if (n == 1) {
			rows++;
			n = ops->row(&row, arg);
			if (n) {
				rc = util_fail_errno(n, "%s:%lu", path, rd.line);
				break;
			}
		}
	}
	if (rc == EXIT_OK && ferror(f))
		rc = util_fail("error reading %s: %s", path, strerror(errno));
	if (rc == EXIT_OK && !rd.ncols)
		rc = util_fail("%s: not a vmprof data file (no header row)", path);
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}
