// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datafile.h"
#include "pidmap.h"
#include "stream.h"
#include "util.h"

volatile sig_atomic_t stream_exiting;

static void on_signal(int sig)
{
	(void)sig;
	stream_exiting = 1;
}

void stream_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: poll returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int wanted(const struct stream_opts *o, uint32_t pid)
{
	if (!o->npids)
		return 1;
	for (size_t i = 0; i < o->npids; i++)
		if ((uint32_t)o->pids[i] == pid)
			return 1;
	return 0;
}

/* The per-tick sum being built in aggregate mode. */
struct tick {
	int open;
	struct vmprof_row row;
};

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	return n;
}

/*
 * The command line of @pid, arguments separated by spaces; "[comm]" when it
 * has none (a zombie, a kernel thread).  0, or -1 when the process is gone.
 */
static int proc_command(uint32_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/cmdline", pid);
	n = read_file(path, buf, size);
	if (n > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		while (n > 0 && buf[n - 1] == ' ')
			n--;
		buf[n] = '\0';
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/comm", pid);
	buf[0] = '[';
	n = read_file(path, buf + 1, size - 2);
	if (n <= 0)
		return -1;
	if (buf[n] == '\n')
		n--;
	buf[n + 1] = ']';
	buf[n + 2] = '\0';
	return 0;
}

/*
 * Name each process in the data file before its first row (per-process
 * layout only), once per registration: a pid that ended and came back,
 * reused by another program, is named again.
 */
static int name_process(const struct stream_opts *o, struct pidmap *named,
			const struct vmprof_record *rec)
{
	size_t v = 0;
	int err = 0;

	if (o->aggregate)
		return 0;
	if (!pidmap_get(named, rec->pid, &v) || !v) {
		char command[DATAFILE_COMMAND_MAX];

		if (o->command && rec->pid == (uint32_t)o->until_exit)
			err = vmprof_write_process(o->out, o->fmt, rec->pid,
						   o->command);
		else if (!proc_command(rec->pid, command, sizeof(command)))
			err = vmprof_write_process(o->out, o->fmt, rec->pid,
						   command);
		if (!err)
			err = pidmap_put(named, rec->pid, 1);
	}
	if (!err && (rec->flags & (VMPROF_REC_EXITED | VMPROF_REC_UNREGISTERED)))
		err = pidmap_put(named, rec->pid, 0);
	return err;
}

static int flush_tick(const struct stream_opts *o, struct tick *t,
		      struct stream_result *res)
{
	int err;

	if (!t->open)
		return 0;
	t->open = 0;
	err = vmprof_write_row(o->out, o->fmt, 1, &t->row);
	if (!err)
		res->rows++;
	return err;
}

/* All records of one tick carry its time; sum them into one row. */
static int add_to_tick(const struct stream_opts *o, struct tick *t,
		       const struct vmprof_record *rec,
		       struct stream_result *res)
{
	struct vmprof_row row;

	if (t->open && t->row.time_ns != rec->time_ns) {
		int err = flush_tick(o, t, res);

		if (err)
			return err;
	}
	if (!t->open) {
		memset(&t->row, 0, sizeof(t->row));
		t->open = 1;
	}
	vmprof_row_from_record(&row, rec);
	vmprof_row_add(&t->row, &row);
	return 0;
}

/* Time to stop: Ctrl-C, --duration, or --until-empty once all are gone. */
static int should_stop(const struct stream_opts *o,
		       const struct vmprof_ring_header *hdr, double end,
		       int seen_any)
{
	return stream_exiting || (end && now_s() >= end) ||
	       (o->until_empty && seen_any &&
		__atomic_load_n(&hdr->nr_pids, __ATOMIC_ACQUIRE) == 0);
}

/* Records read between two looks at should_stop() while the ring is never
 * found empty (a reader that keeps up with 10,000 processes only just).
 */
#define STOP_CHECK_EVERY 1024

/* The output's buffer, when it is not a terminal. */
#define STREAM_BUFFER (256 * 1024)

/*
 * Records taken out of the ring ahead of being written.  Writing is not
 * steady: the first record of each process names it, from its
 * /proc/PID/cmdline, and under emulation the first tick of 10,000
 * processes takes over a second to write that way while the ring holds a
 * few ticks.  So the loop moves what the ring has into this queue every
 * BACKLOG_PULL_EVERY records it writes (a naming costs at most a few
 * hundred microseconds), and the ring overflows only if writing falls
 * behind by more than BACKLOG_MAX records (64 MiB; 5 s of 10,000
 * processes at 20 Hz) or memory runs out.
 */
#define BACKLOG_PULL_EVERY 64
#define BACKLOG_MAX (1U << 20)

struct backlog {
	struct vmprof_record *recs;
	size_t cap;		/* a power of two, or 0 */
	size_t first;		/* index of the oldest */
	size_t n;
};

/* Room for one more record; 0 if there is none (full, or no memory). */
static int backlog_room(struct backlog *b)
{
	struct vmprof_record *recs;
	size_t cap;

	if (b->n < b->cap)
		return 1;
	if (b->cap >= BACKLOG_MAX)
		return 0;
	cap = b->cap ? 2 * b->cap : 4096;
	recs = malloc(cap * sizeof(*recs));
	if (!recs)
		return 0;
	for (size_t i = 0; i < b->n; i++)
		recs[i] = b->recs[(b->first + i) & (b->cap - 1)];
	free(b->recs);
	b->recs = recs;
	b->cap = cap;
	b->first = 0;
	return 1;
}

/* Move the ring's records before number @limit into @b, as room allows. */
static void backlog_pull(struct backlog *b, struct vmprof_ring *ring,
			 uint64_t limit)
{
	while (backlog_room(b)) {
		struct vmprof_record *rec =
			&b->recs[(b->first + b->n) & (b->cap - 1)];

		if (vmprof_ring_next(ring, rec) || rec->seq >= limit)
			return;
		b->n++;
	}
}

static const struct vmprof_record *backlog_pop(struct backlog *b)
{
	const struct vmprof_record *rec = &b->recs[b->first];

	b->first = (b->first + 1) & (b->cap - 1);
	b->n--;
	return rec;
}

int stream_run(struct vmprof_session *s, const struct stream_opts *o,
	       struct stream_result *res)
{
	struct vmprof_ring *ring = vmprof_session_ring(s);
	const struct vmprof_ring_header *hdr = vmprof_ring_header(ring);
	double end = o->duration_s > 0 ? now_s() + o->duration_s : 0;
	int seen_any = 0, done = 0, stop = 0, failed = 0, err = 0;
	struct tick tick = { 0 };
	struct pidmap named = { 0 };
	struct backlog backlog = { 0 };
	/* Once stopping: the end of what was published by then. */
	uint64_t limit = UINT64_MAX;

	memset(res, 0, sizeof(*res));
	/*
	 * Rows leave at the end of each tick's batch (the fflush() before
	 * waiting), so a reader at the other end of a pipe gets every tick
	 * when it happens; within a batch, a large buffer makes 10,000
	 * processes' rows a few write(2)s a tick rather than hundreds.
	 */
	if (!isatty(fileno(o->out)))
		setvbuf(o->out, NULL, _IOFBF, STREAM_BUFFER);
	err = vmprof_write_header(o->out, o->fmt, o->aggregate,
				  hdr->period_ms);
	while (!err && !done) {
		unsigned int burst = 0;
		int n;

		while (!err) {
			const struct vmprof_record *rec;
			struct vmprof_row row;

			if (!stop && ++burst % STOP_CHECK_EVERY == 0 &&
			    should_stop(o, hdr, end, seen_any))
				break;
			if (!backlog.n || burst % BACKLOG_PULL_EVERY == 0)
				backlog_pull(&backlog, ring, limit);
			if (!backlog.n)
				break;
			rec = backlog_pop(&backlog);
			if (!wanted(o, rec->pid))
				continue;
			seen_any = 1;
			res->records++;
			if (o->on_record)
				o->on_record(rec, o->arg);
			if (o->aggregate) {
				err = add_to_tick(o, &tick, rec, res);
			} else {
				vmprof_row_from_record(&row, rec);
				err = name_process(o, &named, rec);
				if (!err)
					err = vmprof_write_row(o->out, o->fmt,
							       0, &row);
				if (!err)
					res->rows++;
			}
			if (o->until_exit > 0 &&
			    rec->pid == (uint32_t)o->until_exit &&
			    (rec->flags & (VMPROF_REC_EXITED |
					   VMPROF_REC_UNREGISTERED))) {
				res->saw_exit = 1;
				done = 1;
				break;
			}
		}
		if (err || done || stop)
			break;
		/* Once told to stop, drain what is published by then. */
		if (failed || should_stop(o, hdr, end, seen_any)) {
			stop = 1;
			limit = __atomic_load_n(&hdr->head, __ATOMIC_ACQUIRE);
			continue;
		}
		if (fflush(o->out)) {
			err = -errno;
			break;
		}
		n = vmprof_wait(s, 200);
		if (n < 0 && n != -EINTR) {
			util_warn("waiting for the sampler: %s",
				  vmprof_strerror(n));
			failed = 1;
		}
	}
	if (!err)
		err = flush_tick(o, &tick, res);
	pidmap_free(&named);
	free(backlog.recs);
	res->lost = vmprof_ring_lost(ring);
	if (!err && fflush(o->out))
		err = -errno;
	if (err) {
		util_warn("error writing %s: %s", o->out_name, strerror(-err));
		return EXIT_FAIL;
	}
	return failed ? EXIT_FAIL : EXIT_OK;
}
