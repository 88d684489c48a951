/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmprof internals, not installed. */
#ifndef VMPROF_INTERNAL_H
#define VMPROF_INTERNAL_H

#include "vmprof.h"

struct vmprof_ring {
	const struct vmprof_ring_header *hdr;
	const struct vmprof_record *recs;
	uint64_t capacity;
	uint64_t next;		/* number of the next record to return */
	uint64_t slot;		/* next % capacity, kept without a division */
	uint64_t lost;
	uint64_t torn;
};

#endif
