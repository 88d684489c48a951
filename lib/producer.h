/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The producer: a sampler's semantics without its backend.
 *
 * A backend that observes processes' cumulative counters (the BPF one:
 * programs that read the kernel's task structs) hands what it saw at each
 * tick to the producer, which turns it into the module's records, as
 * src/sampler.c does: deltas since the previous record (the first since
 * the registration, or since the fork: a child's counters start at 0);
 * one last record, EXITED when the counts are final, UNREGISTERED when
 * asked, REAPED when they never came; and writes them into a ring laid out
 * as /dev/vmprof, with the module's producer protocol (vmprof_abi.h).
 * Nothing here knows where counts come from: tests/unit-producer.c
 * replays sequences of them.
 */
#ifndef VMPROF_PRODUCER_H
#define VMPROF_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include "vmprof_abi.h"

/* What a backend saw of a process at a tick. */
enum producer_seen {
	SEEN_LIVE,	/* alive (or a zombie still on its way out) */
	SEEN_DONE,	/* its counts are final: a zombie off its CPU for
			 * good, or a reaped process's final counts */
	SEEN_GONE,	/* reaped; its final counts not (yet) available */
};

/* A process's cumulative counts, and what else its record carries. */
struct producer_counts {
	uint64_t cpu_ns, min_flt, maj_flt;
	uint64_t rss_kb;
	char comm[16];
};

/* A followed process: where its next record's deltas start. */
struct producer_proc {
	uint32_t pid, ppid;
	uint64_t start_ns;	/* which process the pid is */
	uint64_t last_ns;
	uint64_t cpu_ns, min_flt, maj_flt;
	uint64_t gone_ns;	/* when first seen GONE, or 0 */
	uint8_t inherit;	/* its children are followed from their fork */
	uint8_t recorded;	/* it has had a record */
	uint8_t gone;		/* its last record is out: compact() drops it */
};

struct producer {
	struct vmprof_ring_header *hdr;
	struct vmprof_record *recs;
	uint64_t capacity;	/* records, a power of 2 */
	uint64_t head;		/* records written, published or not */
	struct producer_proc *procs;	/* in order of registration */
	unsigned int nr, max;
	uint64_t gone_wait_ns;	/* how long a GONE process waits */
	uint64_t samples;	/* records written */
	unsigned int inheriting;	/* processes with inherit */
	/* compact() moves process @from to @to: the backend's data along. */
	void (*move)(void *ctx, unsigned int to, unsigned int from);
	void *ctx;
};

/*
 * Lay a ring out in @mem (@len bytes: the header, then records; the
 * capacity is the largest power of 2 that fits) and start producing into
 * it, for at most @max processes kept in @procs.  A process seen GONE
 * waits @gone_wait_ns for its final counts.  Return 0, -EINVAL if @len
 * holds no record.
 */
int producer_init(struct producer *pr, void *mem, size_t len,
		  struct producer_proc *procs, unsigned int max,
		  uint64_t gone_wait_ns);

/*
 * Follow process @pid (@start_ns tells it from a later one of the pid),
 * registered or forked at @now_ns: its first record counts from @base,
 * or from 0 (NULL: a child, from its fork).  Return its index, -ENOSPC.
 */
int producer_add(struct producer *pr, uint32_t pid, uint64_t start_ns,
		 uint32_t ppid, int inherit, uint64_t now_ns,
		 const struct producer_counts *base);

/* The index of process @pid, or -1. */
int producer_find(const struct producer *pr, uint32_t pid);

/*
 * What the backend saw of process @i at @now_ns (@c: its counts; unused
 * when GONE), with @flags (VMPROF_REC_UNREGISTERED for its last record,
 * on request).  Writes its record, unless it waits: GONE for less than
 * gone_wait_ns, or held back (below).  A GONE process whose wait is over,
 * or that is unregistered, gets its last record with the counts it had
 * (REAPED).
 *
 * @held (a tick's, or NULL): set once a process without any record yet
 * waits; from then on, in this tick, the processes after it that have no
 * record yet (its children among them) wait too, so that no child's first
 * record comes before its forker's, as the module guarantees.  Their counts
 * are not lost: the next record covers the longer interval.
 *
 * Return 1 if that was its last record (the backend stops following
 * it; its slot goes at producer_compact()), else 0.
 */
int producer_sample(struct producer *pr, unsigned int i, uint64_t now_ns,
		    enum producer_seen seen, const struct producer_counts *c,
		    uint32_t flags, int *held);

/* Make the records written visible to readers, with the header's
 * nr_pids (processes followed) and pending (of those, waiting GONE). */
void producer_publish(struct producer *pr);

/* Drop the processes that had their last record, keeping the order of
 * the others (a child after its forker). */
void producer_compact(struct producer *pr);

/*
 * The deadline of the tick after the one due at @next_ns, it being @now_ns,
 * on a grid of @period_ns, as src/sampler.c schedules: a sampler that ran
 * late by a period or more skips the ticks it missed (counting them in
 * @overruns), never bursts, and stays on its grid.
 */
uint64_t producer_next_tick(uint64_t next_ns, uint64_t now_ns,
			    uint64_t period_ns, uint64_t *overruns);

#endif
