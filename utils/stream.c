// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

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
	int err;

	if (t->open && t->row.time_ns != rec->time_ns) {
		err = flush_tick(o, t, res);
		if (err)
			return err;
	}
	if (!t->open) {
		memset(&t->row, 0, sizeof(t->row));
		t->row.time_ns = rec->time_ns;
		t->open = 1;
	}
	t->row.nr_pids++;
	if (rec->interval_ns > t->row.interval_ns)
		t->row.interval_ns = rec->interval_ns;
	t->row.min_flt += rec->min_flt;
	t->row.maj_flt += rec->maj_flt;
	t->row.cpu_ns += rec->cpu_ns;
	t->row.rss_kb += rec->rss_kb;
	return 0;
}

int stream_run(struct vmprof_session *s, const struct stream_opts *o,
	       struct stream_result *res)
{
	struct vmprof_ring *ring = vmprof_session_ring(s);
	const struct vmprof_ring_header *hdr = vmprof_ring_header(ring);
	double end = o->duration_s > 0 ? now_s() + o->duration_s : 0;
	int seen_any = 0, done = 0, stop = 0, failed = 0, err = 0;
	struct tick tick = { 0 };

	memset(res, 0, sizeof(*res));
	err = vmprof_write_header(o->out, o->fmt, o->aggregate,
				  hdr->period_ms);
	while (!err && !done) {
		struct vmprof_record rec;
		int n;

		while (!err && vmprof_ring_next(ring, &rec) == 0) {
			struct vmprof_row row;

			if (!wanted(o, rec.pid))
				continue;
			seen_any = 1;
			res->records++;
			if (o->on_record)
				o->on_record(&rec, o->arg);
			if (o->aggregate) {
				err = add_to_tick(o, &tick, &rec, res);
			} else {
				vmprof_row_from_record(&row, &rec);
				err = vmprof_write_row(o->out, o->fmt, 0, &row);
				res->rows++;
			}
			if (o->until_exit > 0 &&
			    rec.pid == (uint32_t)o->until_exit &&
			    (rec.flags & (VMPROF_REC_EXITED |
					  VMPROF_REC_UNREGISTERED))) {
				res->saw_exit = 1;
				done = 1;
				break;
			}
		}
		if (err || done || stop)
			break;
		/* Once told to stop, drain what is there once more. */
		if (stream_exiting || (end && now_s() >= end) ||
		    (o->until_empty && seen_any &&
		     __atomic_load_n(&hdr->nr_pids, __ATOMIC_ACQUIRE) == 0)) {
			stop = 1;
			continue;
		}
		n = vmprof_wait(s, 200);
		if (n < 0 && n != -EINTR) {
			util_warn("waiting for the sampler: %s",
				  vmprof_strerror(n));
			failed = 1;
			stop = 1;
		}
	}
	if (!err)
		err = flush_tick(o, &tick, res);
	res->lost = vmprof_ring_lost(ring);
	if (!err && fflush(o->out))
		err = -errno;
	if (err) {
		util_warn("error writing %s: %s", o->out_name, strerror(-err));
		return EXIT_FAIL;
	}
	return failed ? EXIT_FAIL : EXIT_OK;
}
