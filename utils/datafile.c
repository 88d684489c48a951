// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datafile.h"
#include "util.h"

/*
 * The next line of @f into @line (DATAFILE_LINE_MAX bytes and a NUL),
 * newline included: its length; 0 at the end of the file; -E2BIG for a
 * longer line, -EILSEQ for a NUL byte (neither is a data file's), read no
 * further than that.
 */
static ssize_t read_line(FILE *f, char *line)
{
	size_t len = 0;
	int c;

	while (len < DATAFILE_LINE_MAX && (c = getc_unlocked(f)) != EOF) {
		if (!c)
			return -EILSEQ;
		line[len++] = (char)c;
		if (c == '\n')
			break;
	}
	line[len] = '\0';
	if (len == DATAFILE_LINE_MAX && line[len - 1] != '\n')
		return -E2BIG;
	return (ssize_t)len;
}

int datafile_read(const char *path, const struct datafile_ops *ops,
		  void *arg)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	int rc;

	if (!f)
		return util_fail("cannot open %s: %s", path, strerror(errno));
	rc = datafile_read_stream(f, path, ops, arg);
	if (f != stdin)
		fclose(f);
	return rc;
}

int datafile_read_stream(FILE *f, const char *path,
			 const struct datafile_ops *ops, void *arg)
{
	char command[DATAFILE_COMMAND_MAX], reason[256];
	struct pressure psi;
	uint64_t rt, mono;
	unsigned int clocks = 0;
	uint32_t pid;
	struct vmprof_reader rd;
	struct vmprof_row row;
	char *line = malloc(DATAFILE_LINE_MAX + 1);
	int rc = EXIT_OK;
	ssize_t len;

	if (!line)
		return util_fail("out of memory");
	vmprof_reader_init(&rd);
	while ((len = read_line(f, line)) != 0) {
		int n;

		if (len == -E2BIG) {
			rc = util_fail("%s:%lu: a line longer than %d bytes: not a vmprof data file",
				       path, rd.line + 1, DATAFILE_LINE_MAX);
			break;
		}
		if (len == -EILSEQ) {
			rc = util_fail("%s:%lu: a NUL byte: not a vmprof data file (a binary file?)",
				       path, rd.line + 1);
			break;
		}
		if (line[len - 1] != '\n') {
			rc = util_fail("%s:%lu: truncated line (the file ends in the middle of a line)",
				       path, rd.line + 1);
			break;
		}
		n = vmprof_process_line(line, &pid, command, sizeof(command));
		if (n == 1) {
			rd.line++;
			n = ops->process ? ops->process(pid, command, arg) : 0;
			if (n) {
				rc = util_fail("%s:%lu: %s", path, rd.line, strerror(-n));
				break;
			}
			continue;
		}
		if (n < 0) {
			rc = util_fail("%s:%lu: malformed process line: expected \"# process pid=PID command=TEXT\"",
				       path, rd.line + 1);
			break;
		}
		n = vmprof_clock_line(line, &rt, &mono);
		if (n == 1 && clocks++) {
			rc = util_fail("%s:%lu: a second clock line: a file has one, after its header",
				       path, rd.line + 1);
			break;
		}
		if (n == 1) {
			rd.line++;
			n = ops->clock ? ops->clock(rt, mono, arg) : 0;
			if (n) {
				rc = util_fail("%s:%lu: %s", path, rd.line, strerror(-n));
				break;
			}
			continue;
		}
		if (n < 0) {
			rc = util_fail("%s:%lu: malformed clock line: expected \"# clock realtime_ns=NS monotonic_ns=NS\"",
				       path, rd.line + 1);
			break;
		}
		n = pressure_line(line, &psi, reason, sizeof(reason));
		if (n > 0) {
			rd.line++;
			n = !ops->pressure ? 0 :
			    ops->pressure(n == 1 ? &psi : NULL, reason, arg);
			if (n == -EINVAL) {
				rc = util_fail("%s:%lu: a pressure line no later than the one before it",
					       path, rd.line);
				break;
			}
			if (n) {
				rc = util_fail("%s:%lu: %s", path, rd.line, strerror(-n));
				break;
			}
			continue;
		}
		if (n < 0) {
			rc = util_fail("%s:%lu: malformed pressure line: expected \"# pressure time_ns=NS\" and KEY=NUMBER pairs",
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
			n = ops->row(&row, arg);
			if (n) {
				rc = util_fail("%s:%lu: %s", path, rd.line, strerror(-n));
				break;
			}
		}
	}
	if (rc == EXIT_OK && ferror(f))
		rc = util_fail("error reading %s: %s", path, strerror(errno));
	if (rc == EXIT_OK && !rd.ncols)
		rc = util_fail("%s: not a vmprof data file (no header row)", path);
	free(line);
	return rc;
}
