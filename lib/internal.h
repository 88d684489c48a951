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

/*
 * A backend: how a session samples, through the module (module.c) or
 * without it (bpf.c).  Each operation returns 0 (or a count) or -errno; a
 * NULL one is what the backend cannot do, which the session answers with
 * -EOPNOTSUPP.  @priv is what open() made.
 */
struct vmprof_backend_ops {
	enum vmprof_backend id;
	int available;		/* built in: BPF is not without libbpf */
	unsigned int caps;	/* VMPROF_SAMPLER_* */
	int (*open)(void **priv, const char *root, unsigned int flags);
	void (*close)(void *priv);
	/* The ring's mapping (NULL unless opened with VMPROF_OPEN_RING). */
	const void *(*ring)(void *priv, size_t *len);
	const char *(*variant)(const void *priv);
	int (*reg)(void *priv, pid_t pid, int inherit);
	int (*unreg)(void *priv, pid_t pid);
	int (*list)(void *priv, pid_t *pids, size_t max);
	int (*stats)(void *priv, struct vmprof_stats *st);
	int (*wait)(void *priv, int timeout_ms);
	int (*set_period)(void *priv, unsigned int period_ms);
};

extern const struct vmprof_backend_ops backend_module_ops;
extern const struct vmprof_backend_ops backend_bpf_ops;

#endif
