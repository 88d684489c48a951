/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvmprof internals, not installed. */
#ifndef VMPROF_INTERNAL_H
#define VMPROF_INTERNAL_H

#include "config.h"

#include <errno.h>

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

/* The BPF backend (bpf.c); without it, backend_bpf_open() is -ENOSYS. */
struct vmprof_bpf;
#ifdef HAVE_BPF
int backend_bpf_open(struct vmprof_bpf **out);
void backend_bpf_close(struct vmprof_bpf *b);
const void *backend_bpf_ring(const struct vmprof_bpf *b, size_t *len);
const char *backend_bpf_variant(const struct vmprof_bpf *b);
int backend_bpf_register(struct vmprof_bpf *b, pid_t pid, int inherit);
int backend_bpf_unregister(struct vmprof_bpf *b, pid_t pid);
int backend_bpf_list(struct vmprof_bpf *b, pid_t *pids, size_t max);
int backend_bpf_stats(struct vmprof_bpf *b, struct vmprof_stats *st);
int backend_bpf_wait(struct vmprof_bpf *b, int timeout_ms);
int backend_bpf_set_period(struct vmprof_bpf *b, unsigned int period_ms);
/* In a session's function: @call's result when the session is BPF's. */
#define VMPROF_BPF_CALL(s, call)	\
	do {				\
		if ((s)->bpf)		\
			return call;	\
	} while (0)
#else
#define VMPROF_BPF_CALL(s, call)	do { } while (0)
#endif

#endif
