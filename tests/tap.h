/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal TAP producer for the unit tests (no kernel, no root). */
#ifndef VMPROF_TAP_H
#define VMPROF_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_fails;

#define ok(cond, ...) do {						\
	int ok_ = !!(cond);						\
	printf("%sok %d - ", ok_ ? "" : "not ", ++tap_count);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!ok_) {							\
		tap_fails++;						\
		printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__,	\
		       #cond);						\
	}								\
} while (0)

#define is_u64(got, want, ...) do {					\
	uint64_t g_ = (got), w_ = (want);				\
	ok(g_ == w_, __VA_ARGS__);					\
	if (g_ != w_)							\
		printf("#   got %" PRIu64 ", want %" PRIu64 "\n", g_, w_); \
} while (0)

#define is_str(got, want, ...) do {					\
	const char *g_ = (got), *w_ = (want);				\
	ok(!strcmp(g_, w_), __VA_ARGS__);				\
	if (strcmp(g_, w_))						\
		printf("#   got  '%s'\n#   want '%s'\n", g_, w_);	\
} while (0)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_fails ? 1 : 0;
}

#endif
