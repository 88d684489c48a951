/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pressure stall information (PSI, Documentation/accounting/psi.rst): the
 * time in which some (or all) runnable tasks waited for memory, a CPU or
 * I/O, as the kernel's cumulative "total=" in microseconds.  vmprof run
 * and monitor record the system's totals at every tick as a pressure line
 * of the data file,
 *
 *   # pressure time_ns=T memory_some_us=N memory_full_us=N cpu_some_us=N
 *     io_some_us=N io_full_us=N          (one line)
 *
 * and for vmprof run, where it could give the command a cgroup of its own,
 * that cgroup's memory.pressure too (cgroup_memory_some_us=N
 * cgroup_memory_full_us=N)
 * (JSON lines: {"time_ns":T,"pressure":{...}}), a comment to CSV readers
 * that do not know it; vmprof report and the Perfetto trace turn the
 * differences into stall time and stall percentages.  Where the kernel
 * has none, "# pressure unavailable: REASON" says why instead.
 */
#ifndef VMPROF_PRESSURE_H
#define VMPROF_PRESSURE_H

#include <stdint.h>
#include <stdio.h>

#include "vmprof.h"

/* The totals, in the order of the line. */
enum psi_kind {
	PSI_MEMORY_SOME,
	PSI_MEMORY_FULL,
	PSI_CPU_SOME,
	PSI_IO_SOME,
	PSI_IO_FULL,
	/* vmprof run: the command's own cgroup's memory.pressure */
	PSI_CG_MEMORY_SOME,
	PSI_CG_MEMORY_FULL,
	PSI_KINDS,
};
/* The whole system's kinds come before PSI_CG_FIRST, the cgroup's after. */
#define PSI_CG_FIRST	PSI_CG_MEMORY_SOME

struct pressure {
	uint64_t time_ns;		/* CLOCK_MONOTONIC, the records' clock */
	unsigned int have;		/* bit k: total_us[k] was read */
	uint64_t total_us[PSI_KINDS];
};

/* The key of total @k in the line ("memory_some_us") and its name for
 * people ("memory some"). */
const char *pressure_key(enum psi_kind k);
const char *pressure_name(enum psi_kind k);

/* The system's pressure files, open, and the command's cgroup's. */
struct pressure_src {
	int fd[4];	/* memory, cpu, io, the cgroup's memory; -1 if absent */
};

/* Open /proc/pressure/{memory,cpu,io} (under @root, "" for /): 0, or
 * -errno of memory's (-ENOENT: a kernel without CONFIG_PSI; -EOPNOTSUPP:
 * one booted with psi=0).  The others may be missing. */
int pressure_open(struct pressure_src *src, const char *root);
void pressure_close(struct pressure_src *src);
/* Read the memory.pressure of the cgroup whose directory is @dirfd too:
 * 0, or -errno. */
int pressure_add_cgroup(struct pressure_src *src, int dirfd);
/* The totals now, @p->time_ns read just before: 0, or -errno. */
int pressure_read(struct pressure_src *src, struct pressure *p);

/* The share of the time from @a to @b (later) in which kind @k stalled,
 * in percent; 0 if either lacks @k (or a damaged file's total falls). */
double pressure_pct(const struct pressure *a, const struct pressure *b,
		    enum psi_kind k);

/* Append @p to the array *@arr of *@n (*@cap room), which it must follow
 * in time: 0, -EINVAL (no later than the last), or -ENOMEM. */
int pressure_push(struct pressure **arr, size_t *n, size_t *cap,
		  const struct pressure *p);

/* Write @p as a pressure line of format @fmt: 0 or -errno of the stream. */
int pressure_write(FILE *f, enum vmprof_format fmt, const struct pressure *p);
/* Write why there are no (more) pressure lines, from -errno @err of
 * pressure_open() or pressure_read(): "# pressure unavailable: REASON". */
int pressure_write_unavailable(FILE *f, enum vmprof_format fmt, int err);
/* Parse a line: 1 and *@p for a pressure line, 2 and the reason in
 * @reason (cut to @size - 1 bytes) for an unavailable line, 0 for another
 * line, -EBADMSG for a malformed pressure line. */
int pressure_line(const char *line, struct pressure *p, char *reason,
		  size_t size);

#endif
