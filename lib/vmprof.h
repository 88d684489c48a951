/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvmprof: the user-space side of the vmprof kernel module.
 *
 * A session opens /proc/vmprof/status (to register and list processes),
 * /proc/vmprof/stats, and optionally /dev/vmprof, whose ring of samples it
 * maps read-only.  Every function that can fail returns 0 (or a count) on
 * success and a negative errno value on failure; the library never prints
 * and never exits.  vmprof_strerror() turns an error into a message.
 *
 * Link with `pkg-config --cflags --libs libvmprof`.  See libvmprof(3).
 */
#ifndef VMPROF_H
#define VMPROF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <vmprof_abi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ session */

struct vmprof_session;
struct vmprof_ring;

/* vmprof_session_open() flags */
#define VMPROF_OPEN_RING	0x1U	/* also map /dev/vmprof for reading */
#define VMPROF_OPEN_OLDEST	0x2U	/* with RING: start at the oldest record
					 * still in the ring, not at the head */
#define VMPROF_OPEN_SHARED	0x4U	/* a sampler whose registrations every
					 * session shares and that outlive this
					 * one (VMPROF_SAMPLER_SHARED): AUTO takes
					 * the module, BPF is -EOPNOTSUPP */

/**
 * vmprof_session_open() - open the module's files (or, see
 * vmprof_session_open_backend(), BPF: this is its VMPROF_BACKEND_AUTO)
 * @out:   the new session
 * @root:  prefix of /proc and /dev paths, "" or NULL for the real ones
 *	   (tests point it at a recorded tree)
 * @flags: VMPROF_OPEN_* bits
 *
 * Return: 0, -ENOENT when the module is not loaded, -EACCES, -EPROTO when
 * the ring's ABI is not the one this library was built for, -ENOMEM.
 */
int vmprof_session_open(struct vmprof_session **out, const char *root,
			unsigned int flags);
void vmprof_session_close(struct vmprof_session *s);

/* Where the samples come from (vmprof_session_open_backend()). */
enum vmprof_backend {
	VMPROF_BACKEND_AUTO,	/* VMPROF_BACKEND from the environment if set,
				 * else the module if loaded, else BPF */
	VMPROF_BACKEND_MODULE,	/* the kernel module: /proc/vmprof, /dev/vmprof */
	VMPROF_BACKEND_BPF,	/* BPF programs run by a sampler thread of
				 * this process, into a ring in its memory */
};

/* Parse "auto", "module" or "bpf"; -EINVAL otherwise. */
int vmprof_backend_parse(const char *name, enum vmprof_backend *backend);

/**
 * vmprof_session_open_backend() - open a session on a chosen backend
 * @out:     the new session
 * @root:    as vmprof_session_open(); a @root other than "" means the
 *	     module's (recorded) files, so AUTO picks the module
 * @flags:   VMPROF_OPEN_* bits
 * @backend: VMPROF_BACKEND_*
 *
 * The BPF backend samples only the processes this session registers (or
 * that they fork, with vmprof_register_tree()), with a thread of this
 * process, every 50 ms unless vmprof_session_set_period() says otherwise;
 * its records and ring read exactly as the module's.  It stops with
 * vmprof_session_close().
 *
 * Return: 0, -EINVAL for an unknown @backend or VMPROF_BACKEND; for the
 * module the errors of vmprof_session_open(); for BPF -ENOSYS when
 * libvmprof was built without it, -EPERM without root or CAP_BPF and
 * CAP_PERFMON, -ENOEXEC when the kernel has no BTF or refuses every
 * variant of the programs (Linux 6.1 or later is needed), -EXDEV in a pid
 * namespace other than the initial one, -ENOMEM.  AUTO returns the BPF
 * backend's error when the module is not loaded, or -ENOENT if libvmprof
 * was built without BPF.
 *
 * On a BPF session vmprof_register() and vmprof_unregister() return the
 * module's errors (a thread stands for its process; -ENOSPC past 16,384
 * processes), and vmprof_wait() returns 1 after a tick or an
 * unregistration.  A child of a process that forked while a session's
 * thread holds its lock may not use that session.
 */
int vmprof_session_open_backend(struct vmprof_session **out, const char *root,
				unsigned int flags,
				enum vmprof_backend backend);

/* VMPROF_BACKEND_MODULE or VMPROF_BACKEND_BPF. */
enum vmprof_backend vmprof_session_backend(const struct vmprof_session *s);

/* What a session's sampler is (vmprof_session_caps() bits). */
#define VMPROF_SAMPLER_SHARED	0x1U	/* one sampler for every session on the
					 * machine (the module): its
					 * registrations outlive the session,
					 * its period and statistics are every
					 * user's.  Else the session's own (BPF):
					 * it samples only what the session
					 * registers, while it is open. */
unsigned int vmprof_session_caps(const struct vmprof_session *s);

/* What samples: "module", or the BPF program variant the kernel took,
 * "bpf-syscall" (Linux 6.10+, the bpf_task_from_pid() kfunc) or
 * "bpf-rawtp" (6.1+, pids looked up by hand). */
const char *vmprof_session_variant(const struct vmprof_session *s);

/* The BPF backend's sampling period, 1 to 60000 ms (-EINVAL otherwise).
 * The module's is its period_ms parameter, every session's: asking for it
 * is 0, for another -EOPNOTSUPP. */
int vmprof_session_set_period(struct vmprof_session *s,
			      unsigned int period_ms);

/* Register or unregister a process.  Errors are the module's: -EINVAL,
 * -ESRCH, -EEXIST, -ENOENT, -EPERM, -ENOSPC (see vmprof_strerror()). */
int vmprof_register(struct vmprof_session *s, pid_t pid);
int vmprof_unregister(struct vmprof_session *s, pid_t pid);

/* Register a process and, at fork, every process it forks from now on, and
 * theirs ("R <pid> +"); records of those carry the forker's pid in ppid.
 * Errors as vmprof_register(), and -EOPNOTSUPP on a kernel without the
 * sched_process_fork tracepoint.  Since libvmprof.so.2 (VMPROF_0.3). */
int vmprof_register_tree(struct vmprof_session *s, pid_t pid);

/**
 * vmprof_list() - the registered processes
 * @pids:  array filled with up to @max pids
 * @max:   its size
 *
 * Return: the number of registered processes (which may exceed @max: call
 * again with a larger array), or -errno.
 */
int vmprof_list(struct vmprof_session *s, pid_t *pids, size_t max);

/**
 * vmprof_wait() - wait until the sampler has run a tick since the last call
 * @timeout_ms: -1 to wait for ever
 *
 * Return: 1 after a tick, 0 on timeout, -EINTR on a signal, -EBADF without
 * a ring, other -errno.
 */
int vmprof_wait(struct vmprof_session *s, int timeout_ms);

/* The session's ring reader (NULL without VMPROF_OPEN_RING). */
struct vmprof_ring *vmprof_session_ring(struct vmprof_session *s);

/* ---------------------------------------------------------------- stats */

/** struct vmprof_stats - /proc/vmprof/stats (see vmprof(4)) */
struct vmprof_stats {
	uint64_t ticks;
	uint64_t records;
	uint64_t head;
	uint64_t capacity;
	uint64_t registered;
	uint64_t max_pids;
	uint64_t period_ms;
	uint64_t overruns;
	uint64_t samples;
	uint64_t cost_last_ns;
	uint64_t cost_max_ns;
	uint64_t cost_total_ns;
	uint64_t cost_per_sample_ns;
	uint64_t last_deferred;
	uint64_t fork_hook;
	uint64_t inheriting;
	uint64_t inherited;
	uint64_t inherit_refused;
	uint64_t inherit_dropped;
};

int vmprof_stats_read(struct vmprof_session *s, struct vmprof_stats *st);

/* Parse the text of /proc/vmprof/stats; unknown keys are skipped. */
int vmprof_stats_parse(const char *text, struct vmprof_stats *st);

/* ------------------------------------------------------------------ ring */

/**
 * vmprof_ring_attach() - read a ring laid out in memory
 * @out:   the new reader
 * @mem:   header followed by the records (the /dev/vmprof layout)
 * @len:   bytes at @mem
 * @flags: VMPROF_OPEN_OLDEST to start at the oldest record, else at head
 *
 * Return: 0, -EPROTO for a bad magic, ABI version or record size, -EINVAL
 * when @len is too short for the header's geometry, -ENOMEM.
 */
int vmprof_ring_attach(struct vmprof_ring **out, const void *mem, size_t len,
		       unsigned int flags);
void vmprof_ring_detach(struct vmprof_ring *r);

/**
 * vmprof_ring_next() - copy the next record
 * @rec: where to copy it
 *
 * Records overwritten before they were read, or while being read, are
 * skipped and counted in vmprof_ring_lost().
 *
 * Return: 0 with a record, -EAGAIN when none is ready yet.
 */
int vmprof_ring_next(struct vmprof_ring *r, struct vmprof_record *rec);

/* Records lost so far by this reader: overwritten before or while read. */
uint64_t vmprof_ring_lost(const struct vmprof_ring *r);
/* Of those, the ones overwritten during the copy (torn reads). */
uint64_t vmprof_ring_torn(const struct vmprof_ring *r);
/* Number of the next record this reader will return. */
uint64_t vmprof_ring_position(const struct vmprof_ring *r);
const struct vmprof_ring_header *vmprof_ring_header(const struct vmprof_ring *r);

/* ------------------------------------------------------------- helpers */

/* CPU utilisation of one record: cpu_ns / interval_ns (1.0 = one CPU). */
double vmprof_cpu_util(const struct vmprof_record *rec);

/* A message for an error returned by this library (negative or not). */
const char *vmprof_strerror(int err);

/* ------------------------------------------------- data files and text */

enum vmprof_format {
	VMPROF_FMT_CSV,
	VMPROF_FMT_TSV,
	VMPROF_FMT_JSON,	/* JSON lines: one object per line */
};

/* Parse "csv", "tsv" or "json"; -EINVAL otherwise. */
int vmprof_format_parse(const char *name, enum vmprof_format *fmt);

/**
 * struct vmprof_row - one line of a data file: a record, or a tick summed
 * over processes (pid 0, nr_pids > 0, flags 0, ppid 0).  @ppid is the
 * record's (0 when a file has no ppid column: written before
 * libvmprof.so.2).
 */
struct vmprof_row {
	uint64_t time_ns;
	uint32_t pid;
	uint32_t nr_pids;
	uint64_t interval_ns;
	uint64_t min_flt;
	uint64_t maj_flt;
	uint64_t cpu_ns;
	uint64_t rss_kb;
	uint32_t flags;
	uint32_t ppid;
};

/* The row of one record. */
void vmprof_row_from_record(struct vmprof_row *row,
			    const struct vmprof_record *rec);

/*
 * Write the header (for CSV and TSV: a comment line naming the format and
 * its version, then the column names) and rows.  @aggregate selects the
 * per-tick layout.  Return 0 or -errno of the stream (-EIO if unknown).
 */
int vmprof_write_header(FILE *f, enum vmprof_format fmt, int aggregate,
			unsigned int period_ms);
int vmprof_write_row(FILE *f, enum vmprof_format fmt, int aggregate,
		     const struct vmprof_row *row);

/**
 * struct vmprof_reader - parser state of a CSV or TSV data file
 * @line:    number of the last line read (for messages)
 * @ncols:   columns in the header row
 * @col:     for each field of struct vmprof_row, its column or -1
 * @sep:     ',' or '\t'
 * @aggregate: the file is in the per-tick layout
 */
struct vmprof_reader {
	unsigned long line;
	int ncols;
	int col[10];
	char sep;
	int aggregate;
};

void vmprof_reader_init(struct vmprof_reader *rd);

/**
 * vmprof_reader_line() - feed one line of a data file
 * @line: the text, with or without its newline
 * @row:  filled when a data row was read
 *
 * Return: 1 for a data row, 0 for a comment, blank or header line,
 * -EBADMSG for a malformed line (rd->line says which), -EPROTO for an
 * unknown format version.
 */
int vmprof_reader_line(struct vmprof_reader *rd, const char *line,
		       struct vmprof_row *row);

/* CPU utilisation of a row: cpu_ns / interval_ns (1.0 = one CPU busy over
 * the interval), 0 when the interval is 0. */
double vmprof_row_cpu_util(const struct vmprof_row *row);

/**
 * vmprof_row_add() - add a row to the sum of its tick
 * @sum: the tick's row, zeroed before its first row is added
 * @row: a process's row (or a tick's) of the same time stamp
 *
 * Counts, CPU time and resident sizes add up, nr_pids counts the processes
 * and the interval is the longest one: the per-tick layout.
 */
void vmprof_row_add(struct vmprof_row *sum, const struct vmprof_row *row);

/**
 * vmprof_write_process() - name a process in a data file
 * @pid:     the process
 * @command: its command line, arguments separated by spaces
 *
 * CSV and TSV get a comment line, "# process pid=PID command=TEXT" (control
 * characters in TEXT become spaces), which readers that do not look for it
 * skip; JSON lines get {"pid":PID,"command":"TEXT"}.  Written before the
 * process's first row.
 *
 * Return: 0 or -errno of the stream.
 */
int vmprof_write_process(FILE *f, enum vmprof_format fmt, uint32_t pid,
			 const char *command);

/**
 * vmprof_process_line() - read a process line of a CSV or TSV data file
 * @line:    a line of the file, with or without its newline
 * @pid:     set to the process
 * @command: filled with its command, truncated to @size - 1 bytes
 *
 * Return: 1 for a process line, 0 for any other line, -EBADMSG for a
 * malformed process line.
 */
int vmprof_process_line(const char *line, uint32_t *pid, char *command,
			size_t size);

/**
 * vmprof_write_clock() - place a data file's time stamps in wall-clock time
 * @realtime_ns:  CLOCK_REALTIME, in ns since the epoch...
 * @monotonic_ns: ...and CLOCK_MONOTONIC (the clock of time_ns) at the same
 *                moment
 *
 * CSV and TSV get a comment line, "# clock realtime_ns=R monotonic_ns=M",
 * which readers that do not look for it skip; JSON lines get
 * {"realtime_ns":R,"monotonic_ns":M}.  Written once, after the header: a
 * row's wall-clock time is R + time_ns - M (as the realtime clock stood
 * then: later steps of that clock are not followed).
 *
 * Return: 0 or -errno of the stream.
 */
int vmprof_write_clock(FILE *f, enum vmprof_format fmt, uint64_t realtime_ns,
		       uint64_t monotonic_ns);

/**
 * vmprof_clock_line() - read the clock line of a CSV or TSV data file
 * @line:         a line of the file, with or without its newline
 * @realtime_ns:  set from the line
 * @monotonic_ns: set from the line
 *
 * Return: 1 for a clock line, 0 for any other line, -EBADMSG for a
 * malformed clock line.
 */
int vmprof_clock_line(const char *line, uint64_t *realtime_ns,
		      uint64_t *monotonic_ns);

#ifdef __cplusplus
}
#endif

#endif /* VMPROF_H */
