/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A map from pid to a number (an index), for thousands of processes. */
#ifndef VMPROF_PIDMAP_H
#define VMPROF_PIDMAP_H

#include <stddef.h>
#include <stdint.h>

struct pidmap {
	uint64_t *keys;		/* pid + 1; 0 is a free slot */
	size_t *vals;
	size_t cap;		/* a power of two, or 0 */
	size_t n;
};

/* 1 and *val when @pid is in the map, else 0. */
int pidmap_get(const struct pidmap *m, uint32_t pid, size_t *val);
/* Add or replace; 0 or -ENOMEM. */
int pidmap_put(struct pidmap *m, uint32_t pid, size_t val);
void pidmap_free(struct pidmap *m);

#endif
