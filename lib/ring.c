// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The ring reader: the consumer half of the protocol in vmprof_abi.h,
 * over any memory laid out like /dev/vmprof (the mapping, or a copy).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int vmprof_ring_attach(struct vmprof_ring **out, const void *mem, size_t len,
		       unsigned int flags)
{
	const struct vmprof_ring_header *h = mem;
	struct vmprof_ring *r;
	uint64_t head;

	if (!out || !mem || len < sizeof(*h))
		return -EINVAL;
	if (h->magic != VMPROF_MAGIC || h->abi_version != VMPROF_ABI_VERSION ||
	    h->record_size != sizeof(struct vmprof_record))
		return -EPROTO;
	if (h->header_size < sizeof(*h) || h->header_size > len ||
	    h->capacity == 0 ||
	    h->capacity > (len - h->header_size) / h->record_size)
		return -EINVAL;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->hdr = h;
	r->recs = (const struct vmprof_record *)((const char *)mem +
						 h->header_size);
	r->capacity = h->capacity;
	head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
	r->next = head;
	if (flags & VMPROF_OPEN_OLDEST)
		r->next = head > r->capacity ? head - r->capacity : 0;
	r->slot = r->next % r->capacity;
	*out = r;
	return 0;
}

void vmprof_ring_detach(struct vmprof_ring *r)
{
	free(r);
}

int vmprof_ring_next(struct vmprof_ring *r, struct vmprof_record *rec)
{
	for (;;) {
		uint64_t head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
		const struct vmprof_record *slot;
		uint64_t s1, s2;

		if (head - r->next > r->capacity) {
			/* Overwritten before we got to them. */
			r->lost += head - r->capacity - r->next;
			r->next = head - r->capacity;
			r->slot = r->next % r->capacity;
		}
		if (r->next >= head)
			return -EAGAIN;

		slot = &r->recs[r->slot];
		if (++r->slot == r->capacity)
			r->slot = 0;
		s1 = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
		memcpy(rec, slot, sizeof(*rec));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
		if (s1 == r->next && s2 == r->next) {
			r->next++;
			return 0;
		}
		/* Overwritten while we copied it: lost, try the next one. */
		r->lost++;
		r->torn++;
		r->next++;
	}
}

uint64_t vmprof_ring_lost(const struct vmprof_ring *r)
{
	return r->lost;
}

uint64_t vmprof_ring_torn(const struct vmprof_ring *r)
{
	return r->torn;
}

uint64_t vmprof_ring_position(const struct vmprof_ring *r)
{
	return r->next;
}

const struct vmprof_ring_header *vmprof_ring_header(const struct vmprof_ring *r)
{
	return r->hdr;
}

double vmprof_cpu_util(const struct vmprof_record *rec)
{
	struct vmprof_row row;

	vmprof_row_from_record(&row, rec);
	return vmprof_row_cpu_util(&row);
}
