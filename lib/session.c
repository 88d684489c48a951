// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Sessions: the module's /proc files and the /dev/vmprof mapping.
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

struct vmprof_session {
	char root[PATH_MAX];
	int status_fd;		/* O_RDWR, or O_RDONLY if we may not write */
	int dev_fd;
	void *map;
	size_t map_len;
	struct vmprof_ring *ring;
	struct vmprof_bpf *bpf;	/* the BPF backend's, or NULL: the module */
};

static int path_of(const struct vmprof_session *s, const char *path,
		   char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s", s->root, path);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int open_at(const struct vmprof_session *s, const char *path, int flags)
{
	char buf[PATH_MAX];
	int fd, err = path_of(s, path, buf, sizeof(buf));

	if (err)
		return err;
	fd = open(buf, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int map_ring(struct vmprof_session *s, unsigned int flags)
{
	const struct vmprof_ring_header *h;
	size_t len;
	int err;

	s->dev_fd = open_at(s, VMPROF_DEVICE_PATH, O_RDONLY);
	if (s->dev_fd < 0)
		return s->dev_fd;
	/* The header tells how long the whole mapping is. */
	h = mmap(NULL, VMPROF_HEADER_SIZE, PROT_READ, MAP_SHARED, s->dev_fd, 0);
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

	s->map = mmap(NULL, len, PROT_READ, MAP_SHARED, s->dev_fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return -errno;
	}
	s->map_len = len;
	err = vmprof_ring_attach(&s->ring, s->map, len, flags);
	return err;
}

int vmprof_backend_parse(const char *name, enum vmprof_backend *backend)
{
	static const char *const names[] = {
		[VMPROF_BACKEND_AUTO] = "auto",
		[VMPROF_BACKEND_MODULE] = "module",
		[VMPROF_BACKEND_BPF] = "bpf",
	};

	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*backend = (enum vmprof_backend)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* AUTO made definite: the environment's choice, else the module if its
 * files are there (or @root names recorded ones), else BPF if built in. */
static int choose_backend(const char *root, enum vmprof_backend *backend)
{
	const char *env = getenv("VMPROF_BACKEND");

	if (*backend == VMPROF_BACKEND_AUTO && env && *env &&
	    vmprof_backend_parse(env, backend))
		return -EINVAL;
	if (*backend > VMPROF_BACKEND_BPF)
		return -EINVAL;
	if (*backend != VMPROF_BACKEND_AUTO)
		return 0;
#ifdef HAVE_BPF
	if (!*root && access(VMPROF_STATUS_PATH, F_OK)) {
		*backend = VMPROF_BACKEND_BPF;
		return 0;
	}
#endif
	/* Without BPF built in, -ENOENT says the module is not loaded. */
	*backend = VMPROF_BACKEND_MODULE;
	return 0;
}

static int open_bpf(struct vmprof_session *s, unsigned int flags)
{
#ifdef HAVE_BPF
	const void *mem;
	size_t len;
	int err = backend_bpf_open(&s->bpf);

	if (err || !(flags & VMPROF_OPEN_RING))
		return err;
	mem = backend_bpf_ring(s->bpf, &len);
	return vmprof_ring_attach(&s->ring, mem, len, flags);
#else
	(void)s;
	(void)flags;
	return -ENOSYS;
#endif
}

int vmprof_session_open_backend(struct vmprof_session **out, const char *root,
				unsigned int flags,
				enum vmprof_backend backend)
{
	struct vmprof_session *s;
	int err;

	if (!out)
		return -EINVAL;
	if (!root)
		root = "";
	err = choose_backend(root, &backend);
	if (err)
		return err;
	if (strlen(root) >= sizeof(s->root))
		return -ENAMETOOLONG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	strcpy(s->root, root);
	s->dev_fd = -1;
	s->status_fd = -1;

	if (backend == VMPROF_BACKEND_BPF) {
		err = open_bpf(s, flags);
		if (err)
			goto err_close;
		*out = s;
		return 0;
	}
	/* Listing needs only read access; registering needs write. */
	s->status_fd = open_at(s, VMPROF_STATUS_PATH, O_RDWR);
	if (s->status_fd == -EACCES)
		s->status_fd = open_at(s, VMPROF_STATUS_PATH, O_RDONLY);
	if (s->status_fd < 0) {
		err = s->status_fd;
		goto err_free;
	}
	if (flags & VMPROF_OPEN_RING) {
		err = map_ring(s, flags);
		if (err)
			goto err_close;
	}
	*out = s;
	return 0;

err_close:
	vmprof_session_close(s);
	return err;
err_free:
	free(s);
	return err;
}

int vmprof_session_open(struct vmprof_session **out, const char *root,
			unsigned int flags)
{
	return vmprof_session_open_backend(out, root, flags,
					   VMPROF_BACKEND_AUTO);
}

void vmprof_session_close(struct vmprof_session *s)
{
	if (!s)
		return;
	vmprof_ring_detach(s->ring);
#ifdef HAVE_BPF
	backend_bpf_close(s->bpf);
#endif
	if (s->map)
		munmap(s->map, s->map_len);
	if (s->dev_fd >= 0)
		close(s->dev_fd);
	if (s->status_fd >= 0)
		close(s->status_fd);
	free(s);
}

enum vmprof_backend vmprof_session_backend(const struct vmprof_session *s)
{
	return s->bpf ? VMPROF_BACKEND_BPF : VMPROF_BACKEND_MODULE;
}

const char *vmprof_session_variant(const struct vmprof_session *s)
{
	VMPROF_BPF_CALL(s, backend_bpf_variant(s->bpf));
	return "module";
}

int vmprof_session_set_period(struct vmprof_session *s,
			      unsigned int period_ms)
{
	VMPROF_BPF_CALL(s, backend_bpf_set_period(s->bpf, period_ms));
	return -EOPNOTSUPP;
}

static int command(struct vmprof_session *s, char op, pid_t pid,
		   const char *suffix)
{
	char buf[VMPROF_CMD_MAX];
	int n;

	if (pid <= 0)
		return -EINVAL;
	n = snprintf(buf, sizeof(buf), "%c %d%s\n", op, (int)pid, suffix);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	/* One command per write(2); the module answers with an errno. */
	if (write(s->status_fd, buf, (size_t)n) == n)
		return 0;
	return errno ? -errno : -EIO;
}

int vmprof_register(struct vmprof_session *s, pid_t pid)
{
	VMPROF_BPF_CALL(s, backend_bpf_register(s->bpf, pid, 0));
	return command(s, 'R', pid, "");
}

int vmprof_register_tree(struct vmprof_session *s, pid_t pid)
{
	VMPROF_BPF_CALL(s, backend_bpf_register(s->bpf, pid, 1));
	return command(s, 'R', pid, " +");
}

int vmprof_unregister(struct vmprof_session *s, pid_t pid)
{
	VMPROF_BPF_CALL(s, backend_bpf_unregister(s->bpf, pid));
	return command(s, 'U', pid, "");
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

int vmprof_list(struct vmprof_session *s, pid_t *pids, size_t max)
{
	char *text, *p, *end;
	size_t n = 0;
	int err;

	VMPROF_BPF_CALL(s, backend_bpf_list(s->bpf, pids, max));
	err = slurp(s->status_fd, &text);
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

int vmprof_stats_read(struct vmprof_session *s, struct vmprof_stats *st)
{
	char *text;
	int err, fd;

	VMPROF_BPF_CALL(s, backend_bpf_stats(s->bpf, st));
	fd = open_at(s, VMPROF_STATS_PATH, O_RDONLY);
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

int vmprof_wait(struct vmprof_session *s, int timeout_ms)
{
	struct pollfd pfd;
	int n;

	VMPROF_BPF_CALL(s, backend_bpf_wait(s->bpf, timeout_ms));
	if (s->dev_fd < 0)
		return -EBADF;
	pfd.fd = s->dev_fd;
	pfd.events = POLLIN;
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return -errno;
	return n > 0 ? 1 : 0;
}

struct vmprof_ring *vmprof_session_ring(struct vmprof_session *s)
{
	return s->ring;
}

const char *vmprof_strerror(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return "success";
	case EINVAL:
		return "invalid argument (malformed command or pid)";
	case ESRCH:
		return "no such process";
	case EEXIST:
		return "process already registered";
	case ENOENT:
		return "not registered (or the vmprof module is not loaded)";
	case EPERM:
		return "not permitted (to watch another user's process: CAP_SYS_PTRACE; to run the BPF sampler: root, or CAP_BPF and CAP_PERFMON)";
	case ENOEXEC:
		return "this kernel cannot run the BPF sampler (it needs Linux 6.1 or later with BTF): load the vmprof module";
	case EXDEV:
		return "the BPF sampler cannot run in a pid namespace other than the initial one";
	case ENOSYS:
		return "this libvmprof was built without the BPF backend";
	case EACCES:
		return "permission denied";
	case ENOSPC:
		return "too many processes registered (module parameter max_pids)";
	case EOPNOTSUPP:
		return "this kernel has no sched_process_fork tracepoint: children cannot be followed";
	case EPROTO:
		return "the module's ring ABI does not match this libvmprof";
	case EBADMSG:
		return "malformed data";
	case EAGAIN:
		return "no record ready yet";
	default:
		return strerror(err < 0 ? -err : err);
	}
}
