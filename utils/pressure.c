// SPDX-License-Identifier: GPL-2.0-or-later
/* Pressure stall information: reading the kernel's, and the data file's
 * pressure lines (pressure.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pressure.h"
#include "util.h"

#define PRESSURE_TAG	"# pressure "
#define UNAVAILABLE_TAG	"# pressure unavailable: "

static const struct {
	const char *key;
	const char *name;
} kinds[PSI_KINDS] = {
	[PSI_MEMORY_SOME] = { "memory_some_us", "memory some" },
	[PSI_MEMORY_FULL] = { "memory_full_us", "memory full" },
	[PSI_CPU_SOME] = { "cpu_some_us", "cpu some" },
	[PSI_IO_SOME] = { "io_some_us", "io some" },
	[PSI_IO_FULL] = { "io_full_us", "io full" },
	[PSI_CG_MEMORY_SOME] = { "cgroup_memory_some_us", "cgroup memory some" },
	[PSI_CG_MEMORY_FULL] = { "cgroup_memory_full_us", "cgroup memory full" },
};

/* The files, and the totals each gives: some, and full (-1: none). */
static const struct {
	const char *file;
	int some, full;
} files[4] = {
	{ "memory", PSI_MEMORY_SOME, PSI_MEMORY_FULL },
	/* cpu's "full" (since 5.13) is 0 for the whole system */
	{ "cpu", PSI_CPU_SOME, -1 },
	{ "io", PSI_IO_SOME, PSI_IO_FULL },
	{ "memory.pressure", PSI_CG_MEMORY_SOME, PSI_CG_MEMORY_FULL },
};

const char *pressure_key(enum psi_kind k)
{
	return kinds[k].key;
}

const char *pressure_name(enum psi_kind k)
{
	return kinds[k].name;
}

int pressure_open(struct pressure_src *src, const char *root)
{
	char path[4096];
	int err = 0;

	src->fd[3] = -1;
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/proc/pressure/%s", root,
			 files[i].file);
		src->fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (src->fd[i] < 0 && i == 0)
			err = -errno;
	}
	if (!err) {
		/* psi=0: the files are there, reading them fails */
		struct pressure p;

		err = pressure_read(src, &p);
	}
	if (err)
		pressure_close(src);
	return err;
}

int pressure_add_cgroup(struct pressure_src *src, int dirfd)
{
	int fd = openat(dirfd, files[3].file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (src->fd[3] >= 0)
		close(src->fd[3]);
	src->fd[3] = fd;
	return 0;
}

void pressure_close(struct pressure_src *src)
{
	for (int i = 0; i < 4; i++) {
		if (src->fd[i] >= 0)
			close(src->fd[i]);
		src->fd[i] = -1;
	}
}

/* The total= of the line of @buf that starts with @what: 0, or -EBADMSG. */
static int total_of(const char *buf, const char *what, uint64_t *v)
{
	size_t n = strlen(what);
	const char *line = buf, *t;
	char *end;

	while (strncmp(line, what, n)) {
		line = strchr(line, '\n');
		if (!line++)
			return -EBADMSG;
	}
	t = strstr(line, " total=");
	if (!t || (strchr(line, '\n') && t > strchr(line, '\n')))
		return -EBADMSG;
	t += 7;
	if (*t < '0' || *t > '9')
		return -EBADMSG;
	errno = 0;
	*v = strtoull(t, &end, 10);
	if (errno || (*end && *end != '\n'))
		return -EBADMSG;
	return 0;
}

int pressure_read(struct pressure_src *src, struct pressure *p)
{
	char buf[1024];
	int err = 0;

	p->have = 0;
	for (int i = 0; i < 4; i++) {
		ssize_t n;

		if (src->fd[i] < 0)
			continue;
		n = pread(src->fd[i], buf, sizeof(buf) - 1, 0);
		if (n >= 0) {
			buf[n] = '\0';
			err = total_of(buf, "some ", &p->total_us[files[i].some]);
			if (!err && files[i].full >= 0)
				err = total_of(buf, "full ",
					       &p->total_us[files[i].full]);
		} else {
			err = -errno;
		}
		if (err) {
			/*
			 * This file's kinds only stop: the command may turn
			 * its cgroup's PSI off (cgroup.pressure), which
			 * must not end the system's.
			 */
			close(src->fd[i]);
			src->fd[i] = -1;
			continue;
		}
		p->have |= 1u << files[i].some;
		if (files[i].full >= 0)
			p->have |= 1u << files[i].full;
	}
	return p->have ? 0 : err ? err : -ENOENT;
}

double pressure_pct(const struct pressure *a, const struct pressure *b,
		    enum psi_kind k)
{
	if (!(a->have & b->have & 1u << k) || b->time_ns <= a->time_ns ||
	    b->total_us[k] < a->total_us[k])
		return 0;
	/* microseconds over nanoseconds, in percent: not clamped at 100,
	 * so that a track's integral stays the stall (the kernel's total is
	 * taken a little after our time stamp) */
	return (double)(b->total_us[k] - a->total_us[k]) * 1e5 /
	       (double)(b->time_ns - a->time_ns);
}

int pressure_push(struct pressure **arr, size_t *n, size_t *cap,
		  const struct pressure *p)
{
	struct pressure *a;

	if (*n && p->time_ns <= (*arr)[*n - 1].time_ns)
		return -EINVAL;
	a = util_grow(*arr, *n, cap, sizeof(*a), 64);
	if (!a)
		return -ENOMEM;
	*arr = a;
	a[(*n)++] = *p;
	return 0;
}

int pressure_write(FILE *f, enum vmprof_format fmt, const struct pressure *p)
{
	const char *sep = "";

	errno = 0;
	if (fmt == VMPROF_FMT_JSON)
		fprintf(f, "{\"time_ns\":%" PRIu64 ",\"pressure\":{", p->time_ns);
	else
		fprintf(f, PRESSURE_TAG "time_ns=%" PRIu64, p->time_ns);
	for (int k = 0; k < PSI_KINDS; k++) {
		if (!(p->have & 1u << k))
			continue;
		if (fmt == VMPROF_FMT_JSON)
			fprintf(f, "%s\"%s\":%" PRIu64, sep, kinds[k].key,
				p->total_us[k]);
		else
			fprintf(f, " %s=%" PRIu64, kinds[k].key, p->total_us[k]);
		sep = ",";
	}
	fputs(fmt == VMPROF_FMT_JSON ? "}}\n" : "\n", f);
	if (ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

int pressure_write_unavailable(FILE *f, enum vmprof_format fmt, int err)
{
	const char *why;

	if (err == -ENOENT)
		why = "the kernel has no PSI (CONFIG_PSI is off)";
	else if (err == -EOPNOTSUPP)
		why = "PSI is off (the kernel was booted with psi=0, or without psi=1 where off is its default)";
	else
		why = strerror(-err);
	errno = 0;
	if (fmt == VMPROF_FMT_JSON)
		fprintf(f, "{\"pressure_unavailable\":\"%s\"}\n", why);
	else
		fprintf(f, UNAVAILABLE_TAG "%s\n", why);
	if (ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

/* A whole decimal number of at most 20 digits up to @end: 0, or -1. */
static int parse_u64(const char *s, const char *end, uint64_t *v)
{
	uint64_t n = 0;

	if (s == end)
		return -1;
	for (; s < end; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (d > 9 || n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*v = n;
	return 0;
}

int pressure_line(const char *line, struct pressure *p, char *reason,
		  size_t size)
{
	const char *s = line + strlen(PRESSURE_TAG);
	int has_time = 0;

	if (strncmp(line, PRESSURE_TAG, strlen(PRESSURE_TAG)))
		return 0;
	if (!strncmp(line, UNAVAILABLE_TAG, strlen(UNAVAILABLE_TAG))) {
		size_t len;

		s = line + strlen(UNAVAILABLE_TAG);
		len = strcspn(s, "\r\n");
		if (size) {
			if (len > size - 1)
				len = size - 1;
			memcpy(reason, s, len);
			reason[len] = '\0';
		}
		return 2;
	}
	memset(p, 0, sizeof(*p));
	/* key=value pairs, one space apart; keys it does not know (a later
	 * vmprof's) are skipped */
	while (*s && *s != '\n' && *s != '\r') {
		const char *eq = strchr(s, '=');
		const char *end = eq ? eq + strcspn(eq, " \r\n") : NULL;
		uint64_t v;
		size_t klen;
		int k;

		if (!eq || parse_u64(eq + 1, end, &v))
			return -EBADMSG;
		klen = (size_t)(eq - s);
		if (!klen || memchr(s, ' ', klen))
			return -EBADMSG;
		if (klen == 7 && !strncmp(s, "time_ns", 7)) {
			p->time_ns = v;
			has_time = 1;
		}
		for (k = 0; k < PSI_KINDS; k++) {
			if (strlen(kinds[k].key) == klen &&
			    !strncmp(s, kinds[k].key, klen)) {
				p->total_us[k] = v;
				p->have |= 1u << k;
			}
		}
		s = end;
		if (*s == ' ')
			s++;
	}
	if (*s == '\r')
		s++;
	if (!has_time || (*s && *s != '\n'))
		return -EBADMSG;
	return 1;
}
