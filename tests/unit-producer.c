// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The producer (lib/producer.c), the sampler semantics the BPF backend
 * shares with the module, replayed on counter sequences: what each tick
 * saw of each process, and the records that must come out, read back
 * through libvmprof's ring reader.  What src/sampler.c specifies: a record
 * per process and tick with the deltas since the previous one (the first
 * since the registration, or since the fork); the last one EXITED once the
 * counts are final, UNREGISTERED on request, REAPED when they never came;
 * sums equal to the final counts less the baseline; no child's first
 * record before its forker's; the schedule skips missed ticks.
 */
#include <errno.h>
#include <stdlib.h>

#include "tap.h"
#include "vmprof.h"
#include "producer.h"

#define MS		1000000ULL
#define WAIT_NS		(10000 * MS)	/* how long GONE waits */
#define MAXP		16

static struct producer pr;
static struct producer_proc procs[MAXP];
static struct vmprof_ring *reader;
static void *mem;
static unsigned int moves;

static void count_move(void *ctx, unsigned int to, unsigned int from)
{
	(void)ctx;
	(void)to;
	(void)from;
	moves++;
}

/* A fresh producer over a ring of @cap records, and a reader of it. */
static void setup(unsigned int cap)
{
	size_t len = VMPROF_HEADER_SIZE + cap * sizeof(struct vmprof_record);

	if (reader)
		vmprof_ring_detach(reader);
	free(mem);
	mem = calloc(1, len);
	if (!mem || producer_init(&pr, mem, len, procs, MAXP, WAIT_NS) ||
	    vmprof_ring_attach(&reader, mem, len, VMPROF_OPEN_OLDEST))
		abort();
	pr.move = count_move;
	moves = 0;
}

static struct producer_counts cnt(uint64_t cpu, uint64_t minf, uint64_t majf,
				  const char *comm)
{
	struct producer_counts c;

	memset(&c, 0, sizeof(c));
	c.cpu_ns = cpu;
	c.min_flt = minf;
	c.maj_flt = majf;
	c.rss_kb = 4 * minf;
	snprintf(c.comm, sizeof(c.comm), "%s", comm);
	return c;
}

/* The next record, which must be there. */
static int next(struct vmprof_record *r)
{
	producer_publish(&pr);
	return vmprof_ring_next(reader, r);
}

/* No record left. */
static int none(void)
{
	struct vmprof_record r;

	producer_publish(&pr);
	return vmprof_ring_next(reader, &r) == -EAGAIN;
}

static void registered_process(void)
{
	struct producer_counts base = cnt(1000, 50, 2, "sh");
	struct producer_counts c;
	struct vmprof_record r;
	uint64_t cpu = 0, minf = 0, majf = 0;
	int i;

	setup(64);
	i = producer_add(&pr, 100, 7, 1, 0, 1000 * MS, &base);
	is_u64(i, 0, "registered: the first slot");
	c = cnt(3000, 80, 2, "sh");
	is_u64(producer_sample(&pr, 0, 1050 * MS, SEEN_LIVE, &c, 0, NULL), 0,
	       "registered: a live sample is not the last");
	ok(!next(&r), "registered: a record for the tick");
	is_u64(r.cpu_ns, 2000, "registered: the first record counts from the registration (cpu)");
	is_u64(r.min_flt, 30, "registered: ... and minor faults");
	is_u64(r.interval_ns, 50 * MS, "registered: its interval is from the registration");
	is_u64(r.pid, 100, "registered: its pid");
	is_u64(r.ppid, 1, "registered: its parent");
	is_u64(r.rss_kb, 320, "registered: its resident size");
	is_u64(r.flags, 0, "registered: no flag");
	cpu += r.cpu_ns;
	minf += r.min_flt;
	majf += r.maj_flt;
	/* An exec renames it; a torn read goes back: 0, made up later. */
	c = cnt(2500, 70, 2, "make");
	producer_sample(&pr, 0, 1100 * MS, SEEN_LIVE, &c, 0, NULL);
	ok(!next(&r), "torn: a record");
	ok(r.cpu_ns == 0 && r.min_flt == 0, "torn: counts that went back give 0, not a wrap");
	is_str(r.comm, "make", "exec: the record has the new name");
	cpu += r.cpu_ns;
	minf += r.min_flt;
	c = cnt(9000, 200, 5, "make");
	is_u64(producer_sample(&pr, 0, 1150 * MS, SEEN_DONE, &c, 0, NULL), 1,
	       "done: that was the last record");
	ok(!next(&r), "done: a record");
	ok(r.flags == VMPROF_REC_EXITED, "done: EXITED");
	cpu += r.cpu_ns;
	minf += r.min_flt;
	majf += r.maj_flt;
	is_u64(cpu, 8000, "sums: cpu = final - baseline, the torn read counted once");
	is_u64(minf, 150, "sums: minor faults = final - baseline");
	is_u64(majf, 3, "sums: major faults = final - baseline");
	ok(none(), "done: nothing more");
	is_u64(producer_sample(&pr, 0, 1200 * MS, SEEN_LIVE, &c, 0, NULL), 0,
	       "done: a sample after the last one writes nothing");
	ok(none(), "done: still nothing");
	is_u64(pr.hdr->nr_pids, 0, "done: the header counts no process");
	producer_compact(&pr);
	is_u64(pr.nr, 0, "compact: the slot goes");
	is_u64(pr.samples, 3, "samples: three records");
}

static void forked_and_reaped_within_a_tick(void)
{
	struct producer_counts c = cnt(4000, 90, 1, "true");
	struct vmprof_record r;

	setup(64);
	producer_add(&pr, 200, 1, 1, 1, 1000 * MS, NULL);
	is_u64(pr.inheriting, 1, "child: followed with inherit");
	producer_sample(&pr, 0, 1030 * MS, SEEN_DONE, &c, 0, NULL);
	ok(!next(&r), "child: one record");
	ok(r.cpu_ns == 4000 && r.min_flt == 90 && r.maj_flt == 1,
	   "child: all its counts, from 0 at the fork");
	is_u64(r.interval_ns, 30 * MS, "child: its interval is from the fork");
	is_u64(r.flags, VMPROF_REC_EXITED, "child: its first record is its last, EXITED");
	is_u64(pr.inheriting, 0, "child: no longer inheriting");
}

static void reaped_between_ticks(void)
{
	struct producer_counts c = cnt(500, 10, 0, "cc1");
	struct vmprof_record r;

	setup(64);
	producer_add(&pr, 300, 1, 1, 1, 1000 * MS, NULL);
	producer_sample(&pr, 0, 1050 * MS, SEEN_LIVE, &c, 0, NULL);
	ok(!next(&r), "reaped: a first record");
	producer_sample(&pr, 0, 1100 * MS, SEEN_GONE, NULL, 0, NULL);
	ok(none(), "reaped: no record while its final counts are to come");
	is_u64(pr.hdr->pending, 1, "reaped: the header says one is pending");
	is_u64(pr.hdr->nr_pids, 1, "reaped: it is still followed");
	c = cnt(800, 25, 0, "cc1");
	is_u64(producer_sample(&pr, 0, 1150 * MS, SEEN_DONE, &c, 0, NULL), 1,
	       "reaped: its final counts end it");
	ok(!next(&r), "reaped: its last record");
	ok(r.cpu_ns == 300 && r.min_flt == 15, "reaped: the last record has the last interval's counts");
	is_u64(r.interval_ns, 100 * MS, "reaped: over the two ticks");
	is_u64(r.flags, VMPROF_REC_EXITED, "reaped: EXITED, not REAPED");
	is_u64(pr.hdr->pending, 0, "reaped: nothing pending");

	/* Final counts that never come. */
	setup(64);
	producer_add(&pr, 301, 1, 1, 1, 1000 * MS, NULL);
	c = cnt(500, 10, 0, "cc1");
	producer_sample(&pr, 0, 1050 * MS, SEEN_LIVE, &c, 0, NULL);
	ok(!next(&r), "lost: a first record");
	producer_sample(&pr, 0, 1100 * MS, SEEN_GONE, NULL, 0, NULL);
	producer_sample(&pr, 0, 1100 * MS + WAIT_NS - 1, SEEN_GONE, NULL, 0, NULL);
	ok(none(), "lost: it waits until the wait is over");
	is_u64(producer_sample(&pr, 0, 1100 * MS + WAIT_NS, SEEN_GONE, NULL, 0,
			       NULL), 1, "lost: then it ends");
	ok(!next(&r), "lost: its last record");
	is_u64(r.flags, VMPROF_REC_EXITED | VMPROF_REC_REAPED, "lost: EXITED and REAPED");
	ok(r.cpu_ns == 0 && r.min_flt == 0, "lost: with no counts it does not have");

	/* Missed for a moment, then seen again. */
	setup(64);
	producer_add(&pr, 302, 1, 1, 0, 1000 * MS, NULL);
	producer_sample(&pr, 0, 1050 * MS, SEEN_GONE, NULL, 0, NULL);
	producer_sample(&pr, 0, 1100 * MS, SEEN_LIVE, &c, 0, NULL);
	ok(!next(&r) && !r.flags, "missed: seen again, a plain record");
	is_u64(pr.procs[0].gone_ns, 0, "missed: no longer waiting");
	producer_sample(&pr, 0, 1100 * MS + WAIT_NS, SEEN_GONE, NULL, 0, NULL);
	ok(none(), "missed: its wait starts again");
}

static void held_back(void)
{
	struct producer_counts c = cnt(100, 5, 0, "x");
	struct vmprof_record r;
	int held = 0;

	/* 0 registered and recorded; 1 its child, reaped, no record yet;
	 * 2 a child of 1, alive; 3 a child of 0 with a record. */
	setup(64);
	producer_add(&pr, 400, 1, 1, 1, 1000 * MS, NULL);
	producer_add(&pr, 401, 1, 400, 1, 1010 * MS, NULL);
	producer_add(&pr, 402, 1, 401, 1, 1020 * MS, NULL);
	producer_add(&pr, 403, 1, 400, 1, 1000 * MS, NULL);
	producer_sample(&pr, 0, 1000 * MS, SEEN_LIVE, &c, 0, NULL);
	producer_sample(&pr, 3, 1000 * MS, SEEN_LIVE, &c, 0, NULL);
	ok(!next(&r) && !next(&r), "held: 400 and 403 have records");
	producer_sample(&pr, 0, 1050 * MS, SEEN_LIVE, &c, 0, &held);
	producer_sample(&pr, 1, 1050 * MS, SEEN_GONE, NULL, 0, &held);
	ok(held, "held: a process without a record waits: the tick holds back");
	producer_sample(&pr, 2, 1050 * MS, SEEN_LIVE, &c, 0, &held);
	producer_sample(&pr, 3, 1050 * MS, SEEN_LIVE, &c, 0, &held);
	ok(!next(&r) && r.pid == 400, "held: 400's record");
	ok(!next(&r) && r.pid == 403, "held: 403's, which had one before");
	ok(none(), "held: none for 402, whose forker has none yet");
	held = 0;
	c = cnt(300, 9, 0, "x");
	producer_sample(&pr, 1, 1100 * MS, SEEN_DONE, &c, 0, &held);
	producer_sample(&pr, 2, 1100 * MS, SEEN_LIVE, &c, 0, &held);
	ok(!next(&r) && r.pid == 401 && r.flags == VMPROF_REC_EXITED,
	   "held: next tick, 401's final record first");
	ok(!next(&r) && r.pid == 402, "held: then its child's");
	ok(r.cpu_ns == 300 && r.interval_ns == 80 * MS,
	   "held: the child's first record covers the longer interval, counts not lost");
	producer_compact(&pr);
	is_u64(pr.nr, 3, "compact: three left");
	ok(pr.procs[0].pid == 400 && pr.procs[1].pid == 402 &&
	   pr.procs[2].pid == 403, "compact: in their order");
	is_u64(moves, 2, "compact: the backend's data moved with them");
	is_u64(producer_find(&pr, 402), 1, "find: 402 at its new slot");
	ok(producer_find(&pr, 401) < 0, "find: 401 is gone");
}

static void unregistered(void)
{
	struct producer_counts c = cnt(100, 5, 0, "x");
	struct vmprof_record r;

	setup(64);
	producer_add(&pr, 500, 1, 1, 0, 1000 * MS, NULL);
	producer_add(&pr, 501, 1, 1, 0, 1000 * MS, NULL);
	is_u64(producer_sample(&pr, 0, 1020 * MS, SEEN_LIVE, &c,
			       VMPROF_REC_UNREGISTERED, NULL), 1,
	       "unregister: its last record");
	ok(!next(&r) && r.flags == VMPROF_REC_UNREGISTERED && r.cpu_ns == 100,
	   "unregister: UNREGISTERED, with its counts");
	is_u64(producer_sample(&pr, 1, 1020 * MS, SEEN_GONE, NULL,
			       VMPROF_REC_UNREGISTERED, NULL), 1,
	       "unregister: a reaped one does not wait");
	ok(!next(&r) && r.flags == (VMPROF_REC_UNREGISTERED |
				    VMPROF_REC_EXITED | VMPROF_REC_REAPED),
	   "unregister: a reaped one is UNREGISTERED, EXITED and REAPED");
}

static void limits(void)
{
	struct producer_counts c = cnt(1, 1, 0, "x");
	struct vmprof_record r;
	uint64_t n = 0;
	char small[VMPROF_HEADER_SIZE];
	int err;

	setup(8);
	is_u64(pr.capacity, 8, "ring: its capacity from its length");
	for (unsigned int i = 0; i < MAXP; i++)
		producer_add(&pr, 600 + i, 1, 1, 0, 0, NULL);
	is_u64(-producer_add(&pr, 700, 1, 1, 0, 0, NULL), ENOSPC,
	       "add: ENOSPC when full");
	for (unsigned int i = 0; i < MAXP; i++) {
		c.min_flt = 2 + i;
		producer_sample(&pr, i, MS, SEEN_LIVE, &c, 0, NULL);
	}
	while (!(err = next(&r)))
		n++;
	is_u64(n, 8, "ring: a reader that fell behind gets the last capacity's records");
	is_u64(vmprof_ring_lost(reader), 8, "ring: and is told how many it lost");
	is_u64(r.pid, 600 + MAXP - 1, "ring: the newest last");
	is_u64(-producer_init(&pr, small, sizeof(small), procs, MAXP, 0), EINVAL,
	       "init: EINVAL without room for a record");
}

static void schedule(void)
{
	uint64_t over = 0;

	is_u64(producer_next_tick(1000, 1010, 50, &over), 1050,
	       "schedule: on time, the next deadline a period on");
	is_u64(over, 0, "schedule: no overrun");
	is_u64(producer_next_tick(1000, 1049, 50, &over), 1050,
	       "schedule: late within the period: no tick skipped");
	is_u64(producer_next_tick(1000, 1050, 50, &over), 1100,
	       "schedule: late by a period: its tick is skipped");
	is_u64(over, 1, "schedule: one overrun");
	is_u64(producer_next_tick(1000, 1234, 50, &over), 1250,
	       "schedule: late by four periods and more: still on the grid");
	is_u64(over, 5, "schedule: four more overruns");
}

int main(void)
{
	registered_process();
	forked_and_reaped_within_a_tick();
	reaped_between_ticks();
	held_back();
	unregistered();
	limits();
	schedule();
	vmprof_ring_detach(reader);
	free(mem);
	return done_testing();
}
