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

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * CLOCK_REALTIME and CLOCK_MONOTONIC (the records' clock) at one moment:
 * the realtime reading between two monotonic ones, the closest pair of
 * three tries (a preemption between the readings widens one).
 */
static void clock_pair(uint64_t *realtime_ns, uint64_t *monotonic_ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 3; i++) {
		uint64_t before = clock_ns(CLOCK_MONOTONIC);
		uint64_t rt = clock_ns(CLOCK_REALTIME);
		uint64_t after = clock_ns(CLOCK_MONOTONIC);

		if (after - before < best) {
			best = after - before;
			*realtime_ns = rt;
			*monotonic_ns = before + (after - before) / 2;
		}
	}
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
 * The names given: for each process named (by pid, in @pids), the comm of
 * the record it was named at.  A process whose comm changes (an exec) is
 * named again: a child registered at fork has its parent's name until it
 * execs, often after its first record.
 */
struct names {
	struct pidmap pids;	/* pid -> index in comm[] and text[] */
	char (*comm)[16];	/* byte 15 set: the process has ended */
	uint64_t *text;		/* a hash of the name given */
	size_t n, cap;
};

/* FNV-1a: a name is written again only if its text changed. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

#define NAME_ENDED 15

static int names_slot(struct names *nm, uint32_t pid, size_t *slot)
{
	if (pidmap_get(&nm->pids, pid, slot))
		return 0;
	if (nm->n == nm->cap) {
		size_t cap = nm->cap ? 2 * nm->cap : 256;
		char (*comm)[16] = realloc(nm->comm, cap * sizeof(*comm));
		uint64_t *text;

		if (!comm)
			return -ENOMEM;
		nm->comm = comm;
		text = realloc(nm->text, cap * sizeof(*text));
		if (!text)
			return -ENOMEM;
		nm->text = text;
		nm->cap = cap;
	}
	*slot = nm->n++;
	return pidmap_put(&nm->pids, pid, *slot);
}

static void names_free(struct names *nm)
{
	pidmap_free(&nm->pids);
	free(nm->comm);
	free(nm->text);
}

/*
 * Name each process in the data file before its first row (per-process
 * layout only), and to o->on_name: once per registration (a pid that ended
 * and came back, reused by another program, is named again), and again
 * when its name changes.  Readers take the last name given.
 */
static int name_process(const struct stream_opts *o, struct names *nm,
			const struct vmprof_record *rec)
{
	char command[DATAFILE_COMMAND_MAX];
	const char *name = command;
	size_t slot = 0;
	int err = 0, fresh;

	if (o->aggregate && !o->on_name)
		return 0;
	fresh = !pidmap_get(&nm->pids, rec->pid, &slot) ||
		nm->comm[slot][NAME_ENDED];
	if (fresh || memcmp(nm->comm[slot], rec->comm, sizeof(rec->comm))) {
		/*
		 * The command line from /proc while the process lives; the
		 * record's comm once it has exited (a zombie has no command
		 * line) or is gone.  The command vmprof run started, until
		 * it execs.
		 */
		if (fresh && o->command && rec->pid == (uint32_t)o->until_exit)
			name = o->command;
		else if ((rec->flags & VMPROF_REC_EXITED) ||
			 proc_command(rec->pid, command, sizeof(command)))
			snprintf(command, sizeof(command), "[%.*s]",
				 (int)sizeof(rec->comm), rec->comm);
		uint64_t hash = name_hash(name);

		/* Named again only if the text changed (not, say, when the
		 * command vmprof run started execs as it was named). */
		if (fresh || nm->text[slot] != hash) {
			if (o->on_name)
				o->on_name(rec->pid, name, o->arg);
			if (!o->aggregate)
				err = vmprof_write_process(o->out, o->fmt,
							   rec->pid, name);
			if (!err)
				err = names_slot(nm, rec->pid, &slot);
		}
		if (!err) {
			memcpy(nm->comm[slot], rec->comm, sizeof(rec->comm));
			nm->comm[slot][NAME_ENDED] = '\0';
			nm->text[slot] = hash;
		}
	}
	if (!err && (rec->flags & (VMPROF_REC_EXITED | VMPROF_REC_UNREGISTERED)))
		nm->comm[slot][NAME_ENDED] = 1;
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

/*
 * A process tree (follow_tree): the root, until_exit, and every process
 * whose record names a member as its parent, in the order their records
 * come (a child's first record never comes before its parent's first:
 * the module lists a child after its forker).
 */
struct tree {
	struct pidmap members;	/* pid -> index in pids[] */
	uint32_t *pids;
	unsigned char *ended;	/* its last record was read */
	size_t n, cap, live;
	double end_s;		/* the root has ended: wait for the rest until */
	int unregistered;	/* the live ones were unregistered */
	double give_up_s;	/* then wait for their last records until */
};

/* After the root's last record, the ticks its children's last records
 * may take to come (a child reaped as the root exits ends a tick later). */
#define TREE_GRACE_TICKS 3
/* After unregistering the members still running, the ticks to wait. */
#define TREE_UNREGISTER_TICKS 20
/* After the grace period, how long to wait at most for the last records
 * the sampler holds back (BPF: it gives up on final counts after 10 s). */
#define TREE_PENDING_S 11.0

static int tree_add(struct tree *t, uint32_t pid)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		uint32_t *pids = realloc(t->pids, cap * sizeof(*pids));
		unsigned char *ended;

		if (!pids)
			return -ENOMEM;
		t->pids = pids;
		ended = realloc(t->ended, cap);
		if (!ended)
			return -ENOMEM;
		t->ended = ended;
		t->cap = cap;
	}
	if (pidmap_put(&t->members, pid, t->n))
		return -ENOMEM;
	t->pids[t->n] = pid;
	t->ended[t->n++] = 0;
	t->live++;
	return 0;
}

/* Is @rec of the tree?  A process whose parent is a member joins it. */
static int tree_wanted(struct tree *t, const struct vmprof_record *rec)
{
	size_t i;

	if (pidmap_get(&t->members, rec->pid, &i))
		return 1;
	if (!rec->ppid || !pidmap_get(&t->members, rec->ppid, &i))
		return 0;
	return !tree_add(t, rec->pid);
}

static void tree_ended(struct tree *t, uint32_t pid)
{
	size_t i;

	if (pidmap_get(&t->members, pid, &i) && !t->ended[i]) {
		t->ended[i] = 1;
		t->live--;
	}
}

/*
 * Once the root has ended: is the tree done?  Not before the grace period
 * is over, in which the first records of children forked just before the
 * root ended come too.  Members still running then (daemons it left
 * behind) are unregistered, which writes their last records; then the
 * tree is done when those are read, or after TREE_UNREGISTER_TICKS more
 * ticks in any case.
 */
static int tree_finish(struct vmprof_session *s, struct tree *t,
		       const struct vmprof_ring *ring)
{
	const struct vmprof_ring_header *hdr = vmprof_ring_header(ring);

	if (now_s() < t->end_s)
		return 0;
	/*
	 * Nor, for a while, while the sampler holds back the last records
	 * of processes that have ended (the BPF backend, waiting for their
	 * final counts) or this reader has not read up to the tick that
	 * let them go: pending is stored after head.
	 */
	if (now_s() < t->end_s + TREE_PENDING_S &&
	    (__atomic_load_n(&hdr->pending, __ATOMIC_ACQUIRE) ||
	     vmprof_ring_position(ring) <
	     __atomic_load_n(&hdr->head, __ATOMIC_ACQUIRE)))
		return 0;
	if (!t->live)
		return 1;
	if (t->unregistered)
		return now_s() >= t->give_up_s;
	for (size_t i = 0; i < t->n; i++)
		if (!t->ended[i])
			vmprof_unregister(s, (pid_t)t->pids[i]);
	t->unregistered = 1;
	t->give_up_s = now_s() + TREE_UNREGISTER_TICKS * hdr->period_ms / 1e3;
	return 0;
}

/*
 * The pressure totals now, as a line, if o->psi and none was written in
 * the last half period (@force: in any case).  A read that fails stops
 * them for the rest of the run (res->pressure_err says why); only a write
 * error is an error.
 */
static int write_pressure(const struct stream_opts *o, uint64_t *last_ns,
			  uint64_t period_ns, int force,
			  struct stream_result *res)
{
	struct pressure p;
	int err;

	if (!o->psi || res->pressure_err)
		return 0;
	p.time_ns = clock_ns(CLOCK_MONOTONIC);
	if (!force && res->pressure && p.time_ns - *last_ns < period_ns / 2)
		return 0;
	err = pressure_read(o->psi, &p);
	if (err) {
		res->pressure_err = err;
		return pressure_write_unavailable(o->out, o->fmt, err);
	}
	*last_ns = p.time_ns;
	res->pressure++;
	if (o->on_pressure)
		o->on_pressure(&p, o->arg);
	return pressure_write(o->out, o->fmt, &p);
}

int stream_run(struct vmprof_session *s, const struct stream_opts *o,
	       struct stream_result *res)
{
	struct vmprof_ring *ring = vmprof_session_ring(s);
	const struct vmprof_ring_header *hdr = vmprof_ring_header(ring);
	double end = o->duration_s > 0 ? now_s() + o->duration_s : 0;
	int seen_any = 0, done = 0, stop = 0, failed = 0, err = 0;
	struct tick tick = { 0 };
	struct names named = { 0 };
	struct backlog backlog = { 0 };
	struct tree tree = { 0 };
	/* Once stopping: the end of what was published by then. */
	uint64_t limit = UINT64_MAX;
	uint64_t period_ns = (uint64_t)hdr->period_ms * 1000000u, psi_ns = 0;

	memset(res, 0, sizeof(*res));
	if (o->follow_tree && tree_add(&tree, (uint32_t)o->until_exit))
		err = -ENOMEM;
	/*
	 * Rows leave at the end of each tick's batch (the fflush() before
	 * waiting), so a reader at the other end of a pipe gets every tick
	 * when it happens; within a batch, a large buffer makes 10,000
	 * processes' rows a few write(2)s a tick rather than hundreds.
	 */
	if (!isatty(fileno(o->out)))
		setvbuf(o->out, NULL, _IOFBF, STREAM_BUFFER);
	if (!err)
		err = vmprof_write_header(o->out, o->fmt, o->aggregate,
					  hdr->period_ms);
	if (!err) {
		uint64_t rt = 0, mono = 0;

		clock_pair(&rt, &mono);
		err = vmprof_write_clock(o->out, o->fmt, rt, mono);
	}
	if (!err && !o->psi && o->psi_err)
		err = pressure_write_unavailable(o->out, o->fmt, o->psi_err);
	if (!err)
		err = write_pressure(o, &psi_ns, period_ns, 1, res);
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
			if (o->follow_tree ? !tree_wanted(&tree, rec) :
			    !wanted(o, rec->pid))
				continue;
			seen_any = 1;
			res->records++;
			if (o->on_record)
				o->on_record(rec, o->arg);
			err = name_process(o, &named, rec);
			if (!err && o->aggregate) {
				err = add_to_tick(o, &tick, rec, res);
			} else if (!err) {
				vmprof_row_from_record(&row, rec);
				err = vmprof_write_row(o->out, o->fmt, 0, &row);
				if (!err)
					res->rows++;
			}
			if (!(rec->flags & (VMPROF_REC_EXITED |
					    VMPROF_REC_UNREGISTERED)))
				continue;
			if (o->follow_tree)
				tree_ended(&tree, rec->pid);
			if (o->until_exit > 0 &&
			    rec->pid == (uint32_t)o->until_exit) {
				res->saw_exit = 1;
				if (!o->follow_tree) {
					done = 1;
					break;
				}
				tree.end_s = now_s() + TREE_GRACE_TICKS *
					     hdr->period_ms / 1e3;
			}
		}
		if (err || done || stop)
			break;
		if (res->saw_exit && o->follow_tree &&
		    tree_finish(s, &tree, ring))
			break;
		/* Once told to stop, drain what is published by then. */
		if (failed || should_stop(o, hdr, end, seen_any)) {
			stop = 1;
			limit = __atomic_load_n(&hdr->head, __ATOMIC_ACQUIRE);
			continue;
		}
		err = write_pressure(o, &psi_ns, period_ns, 0, res);
		if (err)
			break;
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
	if (!err)
		err = write_pressure(o, &psi_ns, period_ns, 1, res);
	names_free(&named);
	pidmap_free(&tree.members);
	free(tree.pids);
	free(tree.ended);
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
