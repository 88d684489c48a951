// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The producer: records from observed cumulative counts (producer.h).
 *
 * The module's semantics, which src/sampler.c and src/ring.c implement
 * in the kernel: a record per process and tick, its deltas clamped at 0
 * (a torn read that went backwards is made up by the next record), the
 * baseline never moving back; the last record once the counts are final.
 */
#include <errno.h>
#include <string.h>

#include "producer.h"

static uint64_t delta(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

int producer_init(struct producer *pr, void *mem, size_t len,
		  struct producer_proc *procs, unsigned int max,
		  uint64_t gone_wait_ns)
{
	uint64_t cap = 1;

	if (len < VMPROF_HEADER_SIZE + sizeof(struct vmprof_record))
		return -EINVAL;
	while ((cap * 2) * sizeof(struct vmprof_record) <=
	       len - VMPROF_HEADER_SIZE)
		cap *= 2;
	memset(pr, 0, sizeof(*pr));
	memset(mem, 0, VMPROF_HEADER_SIZE);
	pr->hdr = mem;
	pr->recs = (struct vmprof_record *)((char *)mem + VMPROF_HEADER_SIZE);
	pr->capacity = cap;
	pr->procs = procs;
	pr->max = max;
	pr->gone_wait_ns = gone_wait_ns;
	pr->hdr->magic = VMPROF_MAGIC;
	pr->hdr->abi_version = VMPROF_ABI_VERSION;
	pr->hdr->header_size = VMPROF_HEADER_SIZE;
	pr->hdr->record_size = sizeof(struct vmprof_record);
	pr->hdr->capacity = cap;
	return 0;
}

int producer_add(struct producer *pr, uint32_t pid, uint64_t start_ns,
		 uint32_t ppid, int inherit, uint64_t now_ns,
		 const struct producer_counts *base)
{
	struct producer_proc *p;

	if (pr->nr >= pr->max)
		return -ENOSPC;
	p = &pr->procs[pr->nr];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	p->start_ns = start_ns;
	p->last_ns = now_ns;
	if (base) {
		p->cpu_ns = base->cpu_ns;
		p->min_flt = base->min_flt;
		p->maj_flt = base->maj_flt;
	}
	p->inherit = !!inherit;
	pr->inheriting += p->inherit;
	return (int)pr->nr++;
}

int producer_find(const struct producer *pr, uint32_t pid)
{
	for (unsigned int i = 0; i < pr->nr; i++)
		if (pr->procs[i].pid == pid && !pr->procs[i].gone)
			return (int)i;
	return -1;
}

/* Write the next record, as the module's vmprof_ring_begin()/commit(). */
static void ring_write(struct producer *pr, const struct vmprof_record *r)
{
	struct vmprof_record *slot = &pr->recs[pr->head & (pr->capacity - 1)];

	__atomic_store_n(&slot->seq, VMPROF_SEQ_BUSY, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy((char *)slot + sizeof(slot->seq), (const char *)r + sizeof(r->seq),
	       sizeof(*r) - sizeof(r->seq));
	__atomic_store_n(&slot->seq, pr->head, __ATOMIC_RELEASE);
	pr->head++;
}

/* The record of process @p from the cumulative counts @c; the new
 * baseline, which never moves back. */
static void emit(struct producer *pr, struct producer_proc *p,
		 const struct producer_counts *c, uint64_t now, uint32_t flags)
{
	struct vmprof_record r;

	memset(&r, 0, sizeof(r));
	r.time_ns = now;
	r.interval_ns = delta(now, p->last_ns);
	r.cpu_ns = delta(c->cpu_ns, p->cpu_ns);
	r.min_flt = delta(c->min_flt, p->min_flt);
	r.maj_flt = delta(c->maj_flt, p->maj_flt);
	r.rss_kb = c->rss_kb;
	r.pid = p->pid;
	r.ppid = p->ppid;
	r.flags = flags;
	memcpy(r.comm, c->comm, sizeof(r.comm));
	r.comm[sizeof(r.comm) - 1] = '\0';
	ring_write(pr, &r);
	p->last_ns = now;
	if (c->cpu_ns > p->cpu_ns)
		p->cpu_ns = c->cpu_ns;
	if (c->min_flt > p->min_flt)
		p->min_flt = c->min_flt;
	if (c->maj_flt > p->maj_flt)
		p->maj_flt = c->maj_flt;
	p->recorded = 1;
	pr->samples++;
}

int producer_sample(struct producer *pr, unsigned int i, uint64_t now_ns,
		    enum producer_seen seen, const struct producer_counts *c,
		    uint32_t flags, int *held)
{
	struct producer_proc *p = &pr->procs[i];
	struct producer_counts last;

	if (p->gone)
		return 0;
	if (seen == SEEN_GONE) {
		if (!p->gone_ns)
			p->gone_ns = now_ns ? now_ns : 1;
		if (!(flags & VMPROF_REC_UNREGISTERED) &&
		    now_ns - p->gone_ns < pr->gone_wait_ns) {
			if (held && !p->recorded)
				*held = 1;
			return 0;
		}
		/* They never came: the last interval's counts are lost,
		 * as REAPED says. */
		memset(&last, 0, sizeof(last));
		last.cpu_ns = p->cpu_ns;
		last.min_flt = p->min_flt;
		last.maj_flt = p->maj_flt;
		c = &last;
		flags |= VMPROF_REC_EXITED | VMPROF_REC_REAPED;
	} else {
		/* A backend can miss a live process for a moment. */
		p->gone_ns = 0;
		if (seen == SEEN_DONE)
			flags |= VMPROF_REC_EXITED;
	}
	if (held && *held && !p->recorded)
		return 0;
	emit(pr, p, c, now_ns, flags);
	if (!(flags & (VMPROF_REC_EXITED | VMPROF_REC_UNREGISTERED)))
		return 0;
	p->gone = 1;
	pr->inheriting -= p->inherit;
	return 1;
}

void producer_publish(struct producer *pr)
{
	unsigned int live = 0, pending = 0;

	for (unsigned int i = 0; i < pr->nr; i++) {
		live += !pr->procs[i].gone;
		pending += pr->procs[i].gone_ns && !pr->procs[i].gone;
	}
	__atomic_store_n(&pr->hdr->nr_pids, live, __ATOMIC_RELAXED);
	__atomic_store_n(&pr->hdr->head, pr->head, __ATOMIC_RELEASE);
	/* After head: a reader that sees it 0 sees the records of the
	 * tick that made it so. */
	__atomic_store_n(&pr->hdr->pending, pending, __ATOMIC_RELEASE);
}

void producer_compact(struct producer *pr)
{
	unsigned int i, n = 0;

	for (i = 0; i < pr->nr; i++) {
		if (pr->procs[i].gone)
			continue;
		if (i != n) {
			pr->procs[n] = pr->procs[i];
			if (pr->move)
				pr->move(pr->ctx, n, i);
		}
		n++;
	}
	pr->nr = n;
}

uint64_t producer_next_tick(uint64_t next_ns, uint64_t now_ns,
			    uint64_t period_ns, uint64_t *overruns)
{
	uint64_t missed;

	next_ns += period_ns;
	if (next_ns > now_ns)
		return next_ns;
	missed = (now_ns - next_ns) / period_ns + 1;
	*overruns += missed;
	return next_ns + missed * period_ns;
}
