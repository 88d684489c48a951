// SPDX-License-Identifier: GPL-2.0-or-later
/* Open addressing with linear probing; kept at most half full. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "pidmap.h"

static size_t slot(uint64_t key, size_t cap)
{
	/* Fibonacci hashing: consecutive pids spread over the table. */
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

int pidmap_get(const struct pidmap *m, uint32_t pid, size_t *val)
{
	uint64_t key = (uint64_t)pid + 1;

	if (!m->cap)
		return 0;
	for (size_t i = slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (!m->keys[i])
			return 0;
		if (m->keys[i] == key) {
			*val = m->vals[i];
			return 1;
		}
	}
}

static void insert(uint64_t *keys, size_t *vals, size_t cap, uint64_t key,
		   size_t val)
{
	size_t i = slot(key, cap);

	while (keys[i] && keys[i] != key)
		i = (i + 1) & (cap - 1);
	keys[i] = key;
	vals[i] = val;
}

int pidmap_put(struct pidmap *m, uint32_t pid, size_t val)
{
	uint64_t key = (uint64_t)pid + 1;
	size_t old;

	if (pidmap_get(m, pid, &old)) {
		insert(m->keys, m->vals, m->cap, key, val);
		return 0;
	}
	if (2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		uint64_t *keys = calloc(cap, sizeof(*keys));
		size_t *vals = calloc(cap, sizeof(*vals));

		if (!keys || !vals) {
			free(keys);
			free(vals);
			return -ENOMEM;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i])
				insert(keys, vals, cap, m->keys[i], m->vals[i]);
		free(m->keys);
		free(m->vals);
		m->keys = keys;
		m->vals = vals;
		m->cap = cap;
	}
	insert(m->keys, m->vals, m->cap, key, val);
	m->n++;
	return 0;
}

void pidmap_free(struct pidmap *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->cap = 0;
	m->n = 0;
}
