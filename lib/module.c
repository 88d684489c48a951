// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The module backend: vmprof.ko's /proc files and the /dev/vmprof mapping.
 *
 * Registrations go to /proc/vmprof/status, one command a write(2), and
 * outlive the session: they are the module's, which every session shares,
 * as it shares the module's period.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

struct module {
	char root[PATH_MAX];	/* prefix of the paths: "" but in tests */
	int status_fd;		/* O_RDWR, or O_RDONLY if we may not write */
	int dev_fd;		/* -1 unless the ring is mapped */
	void *map;
	size_t map_len;
};

static int open_at(const struct module *m, const char *path, int flags)
{
	char buf[PATH_MAX];
	int fd, n = snprintf(buf, sizeof(buf), "%s%s", m->root, path);

	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	fd = open(buf, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int map_ring(struct module *m)
{
	const struct vmprof_ring_header *h;
	size_t len;

	m->dev_fd = open_at(m, VMPROF_DEVICE_PATH, O_RDONLY);
	if (m->dev_fd < 0)
		return m->dev_fd;
	/* The header tells how long the whole mapping is. */
	h = mmap(NULL, VMPROF_HEADER_SIZE, PROT_READ, MAP_SHARED, m->dev_fd, 0);
	if (h == MAP_FAILED)
		return -errno;
	if (h->magic != VMPROF_MAGIC || h->abi_version != VMPROF_ABI_VERSION ||
	    h->record_size != sizeof(struct vmprof_record) ||
	    h->header_size != VMPROF_HEADER_SIZE) {
		munmap((void *)h, VMPROF_HEADER_SIZE);
		return -EPROTO;
	}
	len = h->header_size + h->capacity * h->record_size;
	munmap((void *)h, VMPROF_HEADER_SIZE);

	m->map = mmap(NULL, len, PROT_READ, MAP_SHARED, m->dev_fd, 0);
	if (m->map == MAP_FAILED) {
		m->map = NULL;
		return -errno;
	}
	m->map_len = len;
	return 0;
}

static void module_close(void *priv)
{
	struct module *m = priv;

	if (!m)
		return;
	if (m->map)
		munmap(m->map, m->map_len);
	if (m->dev_fd >= 0)
		close(m->dev_fd);
	if (m->status_fd >= 0)
		close(m->status_fd);
	free(m);
}

static int module_open(void **priv, const char *root, unsigned int flags)
{
	struct module *m;
	int err;

	if (strlen(root) >= sizeof(m->root))
		return -ENAMETOOLONG;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	strcpy(m->root, root);
	m->dev_fd = -1;
	/* Listing needs only read access; registering needs write. */
	m->status_fd = open_at(m, VMPROF_STATUS_PATH, O_RDWR);
	if (m->status_fd == -EACCES)
		m->status_fd = open_at(m, VMPROF_STATUS_PATH, O_RDONLY);
	err = m->status_fd < 0 ? m->status_fd : 0;
	if (!err && (flags & VMPROF_OPEN_RING))
		err = map_ring(m);
	if (err) {
		module_close(m);
		return err;
	}
	*priv = m;
	return 0;
}

static const void *module_ring(void *priv, size_t *len)
{
	struct module *m = priv;

	*len = m->map_len;
	return m->map;
}

static const char *module_variant(const void *priv)
{
	(void)priv;
	return "module";
}

static int command(struct module *m, char op, pid_t pid, const char *suffix)
{
	char buf[VMPROF_CMD_MAX];
	int n;

	if (pid <= 0)
		return -EINVAL;
	n = snprintf(buf, sizeof(buf), "%c %d%s\n", op, (int)pid, suffix);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	/* One command per write(2); the module answers with an errno. */
	if (write(m->status_fd, buf, (size_t)n) == n)
		return 0;
	return errno ? -errno : -EIO;
}

static int module_register(void *priv, pid_t pid, int inherit)
{
	return command(priv, 'R', pid, inherit ? " +" : "");
}

static int module_unregister(void *priv, pid_t pid)
{
	return command(priv, 'U', pid, "");
}

/* Read a whole small /proc file into a NUL-terminated malloc'd buffer. */
static int slurp(int fd, char **out)
{
	size_t len = 0, size = 4096;
	char *buf = malloc(size), *p;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = pread(fd, buf + len, size - len - 1, (off_t)len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (size - len - 1 == 0) {
			p = realloc(buf, size * 2);
			if (!p) {
				free(buf);
				return -ENOMEM;
			}
			buf = p;
			size *= 2;
		}
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

static int module_list(void *priv, pid_t *pids, size_t max)
{
	struct module *m = priv;
	char *text, *p, *end;
	size_t n = 0;
	int err;

	err = slurp(m->status_fd, &text);
	if (err)
		return err;
	for (p = text; *p; p = end) {
		long v;

		while (*p == '\n')
			p++;
		if (!*p)
			break;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || end == p || v <= 0 || v > INT_MAX ||
		    (*end && *end != '\n')) {
			free(text);
			return -EBADMSG;
		}
		if (n < max)
			pids[n] = (pid_t)v;
		n++;
	}
	free(text);
	return n > INT_MAX ? -EOVERFLOW : (int)n;
}

int vmprof_stats_parse(const char *text, struct vmprof_stats *st)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
#define K(f) { #f, offsetof(struct vmprof_stats, f) }
		K(ticks), K(records), K(head), K(capacity), K(registered),
		K(max_pids), K(period_ms), K(overruns), K(samples),
		K(cost_last_ns), K(cost_max_ns), K(cost_total_ns),
		K(cost_per_sample_ns), K(last_deferred), K(fork_hook),
		K(inheriting), K(inherited), K(inherit_refused),
		K(inherit_dropped),
#undef K
	};
	const char *p = text;
	int found = 0;

	memset(st, 0, sizeof(*st));
	while (*p) {
		char key[32];
		unsigned long long v;
		int used;

		if (sscanf(p, "%31s %llu%n", key, &v, &used) == 2) {
			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
				if (!strcmp(key, keys[i].key)) {
					*(uint64_t *)((char *)st + keys[i].off) = v;
					found++;
				}
			}
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return found ? 0 : -EBADMSG;
}

static int module_stats(void *priv, struct vmprof_stats *st)
{
	struct module *m = priv;
	char *text;
	int err, fd;

	fd = open_at(m, VMPROF_STATS_PATH, O_RDONLY);
	if (fd < 0)
		return fd;
	err = slurp(fd, &text);
	close(fd);
	if (err)
		return err;
	err = vmprof_stats_parse(text, st);
	free(text);
	return err;
}

static int module_wait(void *priv, int timeout_ms)
{
	struct module *m = priv;
	struct pollfd pfd;
	int n;

	if (m->dev_fd < 0)
		return -EBADF;
	pfd.fd = m->dev_fd;
	pfd.events = POLLIN;
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return -errno;
	return n > 0 ? 1 : 0;
}

/*
 * The module's period is module-wide: every user's profile shares it, and
 * a session has none of its own to set.  Asking for the period it has is
 * no change; another is -EOPNOTSUPP (root sets the module's parameter
 * period_ms, for everyone).
 */
static int module_set_period(void *priv, unsigned int period_ms)
{
	struct vmprof_stats st;
	int err = module_stats(priv, &st);

	if (err)
		return err;
	return st.period_ms == period_ms ? 0 : -EOPNOTSUPP;
}

const struct vmprof_backend_ops backend_module_ops = {
	.id = VMPROF_BACKEND_MODULE,
	.available = 1,
	.caps = VMPROF_SAMPLER_SHARED,
	.open = module_open,
	.close = module_close,
	.ring = module_ring,
	.variant = module_variant,
	.reg = module_register,
	.unreg = module_unregister,
	.list = module_list,
	.stats = module_stats,
	.wait = module_wait,
	.set_period = module_set_period,
};
