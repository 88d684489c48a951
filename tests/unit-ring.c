// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The libvmprof ring reader against a ring laid out in ordinary memory:
 * a producer written here from the contract in vmprof_abi.h, wrap-around,
 * overwritten records, torn reads and exact lost counts.
 */
#include <errno.h>
#include <stdlib.h>

#include "tap.h"
#include "vmprof.h"

#define CAP 8

struct fake {
	union {
		struct vmprof_ring_header hdr;
		/* cppcheck-suppress unusedStructMember ; it sizes the header page */
		char page[VMPROF_HEADER_SIZE];
	} h;
	struct vmprof_record recs[CAP];
};

static void produce(struct fake *f, uint32_t pid)
{
	uint64_t n = f->h.hdr.head;
	struct vmprof_record *s = &f->recs[n % CAP];

	s->seq = VMPROF_SEQ_BUSY;
	s->time_ns = 1000 + n;
	s->min_flt = n;
	s->pid = pid;
	/* cppcheck-suppress redundantAssignment ; busy, then done: the protocol */
	s->seq = n;
	__atomic_store_n(&f->h.hdr.head, n + 1, __ATOMIC_RELEASE);
}

static struct fake *new_fake(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->h.hdr.magic = VMPROF_MAGIC;
	f->h.hdr.abi_version = VMPROF_ABI_VERSION;
	f->h.hdr.header_size = VMPROF_HEADER_SIZE;
	f->h.hdr.record_size = sizeof(struct vmprof_record);
	f->h.hdr.capacity = CAP;
	return f;
}

int main(void)
{
	struct fake *f = new_fake();
	struct vmprof_ring *r;
	struct vmprof_record rec;
	uint64_t got = 0, expect;
	int err;

	/* Attach checks. */
	f->h.hdr.magic++;
	is_u64(-vmprof_ring_attach(&r, f, sizeof(*f), 0), EPROTO, "bad magic: EPROTO");
	f->h.hdr.magic--;
	f->h.hdr.record_size = 32;
	is_u64(-vmprof_ring_attach(&r, f, sizeof(*f), 0), EPROTO, "bad record size: EPROTO");
	f->h.hdr.record_size = sizeof(struct vmprof_record);
	is_u64(-vmprof_ring_attach(&r, f, sizeof(*f) - 1, 0), EINVAL,
	       "a mapping shorter than the ring: EINVAL");
	is_u64(-vmprof_ring_attach(&r, f, 100, 0), EINVAL, "shorter than the header: EINVAL");

	/* Empty ring. */
	err = vmprof_ring_attach(&r, f, sizeof(*f), 0);
	is_u64(err, 0, "attach");
	is_u64(-vmprof_ring_next(r, &rec), EAGAIN, "empty ring: EAGAIN");

	/* In order, no loss. */
	for (int i = 0; i < 5; i++)
		produce(f, 7);
	while (vmprof_ring_next(r, &rec) == 0) {
		ok(rec.seq == got && rec.min_flt == got && rec.pid == 7,
		   "record %" PRIu64 " read intact", got);
		got++;
	}
	is_u64(got, 5, "five records read");
	is_u64(vmprof_ring_lost(r), 0, "none lost");

	/* Wrap around without loss: exactly CAP behind. */
	for (int i = 0; i < CAP; i++)
		produce(f, 7);
	for (got = 0; vmprof_ring_next(r, &rec) == 0; got++)
		;
	is_u64(got, CAP, "a full ring's worth read across the wrap");
	is_u64(vmprof_ring_lost(r), 0, "still none lost");
	is_u64(vmprof_ring_position(r), 5 + CAP, "position is the head");

	/* Overwritten before read: 3*CAP + 3 written, only CAP remain. */
	for (int i = 0; i < 3 * CAP + 3; i++)
		produce(f, 9);
	expect = f->h.hdr.head - CAP;
	ok(vmprof_ring_next(r, &rec) == 0 && rec.seq == expect,
	   "after overflow the oldest record still there comes first");
	is_u64(vmprof_ring_lost(r), 2 * CAP + 3, "lost counts exactly the overwritten ones");
	for (got = 1; vmprof_ring_next(r, &rec) == 0; got++)
		;
	is_u64(got, CAP, "then the rest of the ring");

	/* A torn read: the slot is being rewritten (BUSY) or holds a newer
	 * record than its number says. */
	produce(f, 1);
	produce(f, 2);
	f->recs[(f->h.hdr.head - 2) % CAP].seq = VMPROF_SEQ_BUSY;
	ok(vmprof_ring_next(r, &rec) == 0 && rec.pid == 2,
	   "a slot caught mid-write is skipped");
	is_u64(vmprof_ring_torn(r), 1, "and counted as torn");
	is_u64(vmprof_ring_lost(r), 2 * CAP + 3 + 1, "and as lost");
	produce(f, 3);
	f->recs[(f->h.hdr.head - 1) % CAP].seq += CAP;
	is_u64(-vmprof_ring_next(r, &rec), EAGAIN,
	       "a slot already holding a later record is not returned");
	is_u64(vmprof_ring_torn(r), 2, "torn again");
	vmprof_ring_detach(r);

	/* Starting at the oldest record. */
	err = vmprof_ring_attach(&r, f, sizeof(*f), VMPROF_OPEN_OLDEST);
	is_u64(-err, 0, "attach at the oldest record");
	is_u64(vmprof_ring_position(r), f->h.hdr.head - CAP,
	       "VMPROF_OPEN_OLDEST starts a ring length behind the head");
	vmprof_ring_detach(r);

	/* Utilisation helper. */
	rec.cpu_ns = 25;
	rec.interval_ns = 50;
	ok(vmprof_cpu_util(&rec) == 0.5, "cpu_util = cpu / interval");
	rec.interval_ns = 0;
	ok(vmprof_cpu_util(&rec) == 0.0, "cpu_util of an empty interval is 0");
	free(f);
	return done_testing();
}
