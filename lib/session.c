// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Sessions: a backend (module.c, bpf.c) and the ring it fills.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct vmprof_session {
	const struct vmprof_backend_ops *ops;
	void *priv;			/* the backend's */
	struct vmprof_ring *ring;
};

static const struct vmprof_backend_ops *const backends[] = {
	[VMPROF_BACKEND_MODULE] = &backend_module_ops,
	[VMPROF_BACKEND_BPF] = &backend_bpf_ops,
};

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
 * files are there (or @root names recorded ones, or @flags asks for a
 * shared sampler), else BPF if built in. */
static int choose_backend(const char *root, unsigned int flags,
			  enum vmprof_backend *backend)
{
	const char *env = secure_getenv("VMPROF_BACKEND");

	if (*backend == VMPROF_BACKEND_AUTO && env && *env &&
	    vmprof_backend_parse(env, backend))
		return -EINVAL;
	if (*backend > VMPROF_BACKEND_BPF)
		return -EINVAL;
	if (*backend != VMPROF_BACKEND_AUTO)
		return 0;
	if (backend_bpf_ops.available && !*root &&
	    !(flags & VMPROF_OPEN_SHARED) && access(VMPROF_STATUS_PATH, F_OK)) {
		*backend = VMPROF_BACKEND_BPF;
		return 0;
	}
	/* Without BPF built in, -ENOENT says the module is not loaded. */
	*backend = VMPROF_BACKEND_MODULE;
	return 0;
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
	err = choose_backend(root, flags, &backend);
	if (err)
		return err;
	if ((flags & VMPROF_OPEN_SHARED) &&
	    !(backends[backend]->caps & VMPROF_SAMPLER_SHARED))
		return -EOPNOTSUPP;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ops = backends[backend];
	err = s->ops->open(&s->priv, root, flags);
	if (err) {
		free(s);
		return err;
	}
	if (flags & VMPROF_OPEN_RING) {
		size_t len;
		const void *mem = s->ops->ring(s->priv, &len);

		err = vmprof_ring_attach(&s->ring, mem, len, flags);
		if (err) {
			vmprof_session_close(s);
			return err;
		}
	}
	*out = s;
	return 0;
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
	/* The reader first: the backend's close unmaps what it reads. */
	vmprof_ring_detach(s->ring);
	s->ops->close(s->priv);
	free(s);
}

enum vmprof_backend vmprof_session_backend(const struct vmprof_session *s)
{
	return s->ops->id;
}

unsigned int vmprof_session_caps(const struct vmprof_session *s)
{
	return s->ops->caps;
}

const char *vmprof_session_variant(const struct vmprof_session *s)
{
	return s->ops->variant(s->priv);
}

int vmprof_session_set_period(struct vmprof_session *s,
			      unsigned int period_ms)
{
	if (!s->ops->set_period)
		return -EOPNOTSUPP;
	return s->ops->set_period(s->priv, period_ms);
}

int vmprof_register(struct vmprof_session *s, pid_t pid)
{
	return s->ops->reg(s->priv, pid, 0);
}

int vmprof_register_tree(struct vmprof_session *s, pid_t pid)
{
	return s->ops->reg(s->priv, pid, 1);
}

int vmprof_unregister(struct vmprof_session *s, pid_t pid)
{
	return s->ops->unreg(s->priv, pid);
}

int vmprof_list(struct vmprof_session *s, pid_t *pids, size_t max)
{
	return s->ops->list(s->priv, pids, max);
}

int vmprof_stats_read(struct vmprof_session *s, struct vmprof_stats *st)
{
	return s->ops->stats(s->priv, st);
}

int vmprof_wait(struct vmprof_session *s, int timeout_ms)
{
	return s->ops->wait(s->priv, timeout_ms);
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
		return "this sampler cannot do that (the module has one period for every user, its parameter period_ms; children can be followed only on a kernel with the sched_process_fork tracepoint)";
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
