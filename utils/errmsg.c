// SPDX-License-Identifier: GPL-2.0-or-later
/* The tools' helpers that use libvmprof: opening a session on a backend,
 * the sampler's summary line, messages for libvmprof errors (apart from
 * util.c, so that programs that do not use libvmprof do not link it). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"
#include "vmprof.h"

#define LOAD_MODULE \
	"or load the vmprof module: run `modprobe vmprof` (as root; the " \
	"vmprof-dkms package builds it)"

/* Why register, unregister and list have nothing to act on with BPF. */
#define NO_REGISTRY \
	"the BPF sampler lives only as long as the program that profiles " \
	"and samples only what that program registers: profile with " \
	"`vmprof run -- COMMAND`, or `vmprof-monitor --pid PID` for a " \
	"running process"

int util_fail_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", util_prog());
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", vmprof_strerror(err));
	return EXIT_FAIL;
}

int util_fail_period(unsigned int period_ms)
{
	return util_fail("cannot sample every %u ms: the vmprof module samples every process registered with it at one period, its parameter period_ms, which only root changes, for every user: `echo %u > /sys/module/vmprof/parameters/period_ms`; or profile with a period of your own with --backend bpf",
			 period_ms, period_ms);
}

const char *util_backend_name(enum vmprof_backend backend)
{
	return backend == VMPROF_BACKEND_BPF ? "bpf" :
	       backend == VMPROF_BACKEND_MODULE ? "module" : "auto";
}

enum vmprof_backend util_parse_backend(const char *name)
{
	enum vmprof_backend b;

	if (vmprof_backend_parse(name, &b)) {
		util_warn("invalid backend '%s': expected auto, module or bpf",
			  name);
		exit(util_usage_error(NULL));
	}
	return b;
}

/*
 * The backend VMPROF_BACKEND chooses for AUTO, as libvmprof reads it: AUTO
 * when it is unset, empty or "auto"; -EINVAL when it names no backend.
 */
static int env_backend(enum vmprof_backend *b)
{
	const char *name = getenv("VMPROF_BACKEND");

	*b = VMPROF_BACKEND_AUTO;
	return name && *name ? vmprof_backend_parse(name, b) : 0;
}

static int fail_env(void)
{
	return util_fail("VMPROF_BACKEND='%s' names no backend: expected auto, module or bpf",
			 getenv("VMPROF_BACKEND"));
}

const char *util_bpf_why(enum vmprof_backend asked)
{
	enum vmprof_backend env;

	if (asked == VMPROF_BACKEND_BPF)
		return "";
	if (!env_backend(&env) && env == VMPROF_BACKEND_BPF)
		return " (VMPROF_BACKEND=bpf)";
	return " (the vmprof module is not loaded)";
}

/* Why the BPF sampler could not start and what to do; NULL for an error
 * that is not one of its own. */
static const char *bpf_reason(int err)
{
	switch (err) {
	case -EPERM:
		return "it needs root, or CAP_BPF and CAP_PERFMON: run as root, or `setcap cap_bpf,cap_perfmon+ep` on the program";
	case -ENOEXEC:
		return "the kernel has no BTF or refused its programs: it needs Linux 6.1 or later with BTF (/sys/kernel/btf/vmlinux)";
	case -ENOSYS:
		return "this libvmprof was built without it (configure --disable-bpf, or no clang, bpftool or libbpf at build time)";
	case -EXDEV:
		return "it cannot run in a container's pid namespace, whose pids it cannot translate: run vmprof in the initial pid namespace";
	case -EINVAL:
		return "VMPROF_BPF_VARIANT must name a variant (bpf-syscall or bpf-rawtp) and VMPROF_BPF_FINALS a source of final counts (hold, release or free): unset them, or name one";
	default:
		return NULL;
	}
}

/* The tests' knobs that choose the BPF programs, when set: " (with
 * VMPROF_BPF_VARIANT=... VMPROF_BPF_FINALS=...)", else "". */
static const char *bpf_knobs(void)
{
	static char buf[160];
	const char *v = getenv("VMPROF_BPF_VARIANT");
	const char *f = getenv("VMPROF_BPF_FINALS");

	if ((!v || !*v) && (!f || !*f))
		return "";
	snprintf(buf, sizeof(buf), " (with%s%.40s%s%.40s)",
		 v && *v ? " VMPROF_BPF_VARIANT=" : "", v && *v ? v : "",
		 f && *f ? " VMPROF_BPF_FINALS=" : "", f && *f ? f : "");
	return buf;
}

/* Say why a session on @asked could not be opened: EXIT_FAIL. */
static int fail_open(int err, enum vmprof_backend asked)
{
	const char *why = bpf_reason(err);
	enum vmprof_backend b = asked;

	if (b == VMPROF_BACKEND_AUTO && env_backend(&b))
		return err == -EINVAL ? fail_env() :
		       util_fail_errno(err, "cannot open a vmprof session");
	if (why && b == VMPROF_BACKEND_BPF)
		return util_fail("cannot start the BPF sampler%s%s: %s; %s",
				 util_bpf_why(asked), bpf_knobs(), why,
				 LOAD_MODULE);
	/* AUTO tried BPF only because the module is not loaded. */
	if (why && b == VMPROF_BACKEND_AUTO)
		return util_fail("the vmprof module is not loaded, and the BPF sampler cannot run instead%s: %s; %s",
				 bpf_knobs(), why, LOAD_MODULE);
	if (err == -ENOENT)
		return util_fail("%s", MODULE_HINT);
	if (err == -EACCES)
		return util_fail("cannot open %s or %s: permission denied (is the module's udev rule installed?)",
				 VMPROF_STATUS_PATH, VMPROF_DEVICE_PATH);
	if (b == VMPROF_BACKEND_BPF)
		return util_fail_errno(err, "cannot start the BPF sampler");
	if (b == VMPROF_BACKEND_MODULE)
		return util_fail_errno(err, "cannot open the vmprof module's files");
	return util_fail_errno(err, "cannot open a vmprof session");
}

int util_session_open(struct vmprof_session **s, unsigned int flags,
		      enum vmprof_backend backend)
{
	int err = vmprof_session_open_backend(s, NULL, flags, backend);

	return err ? fail_open(err, backend) : EXIT_OK;
}

int util_registry_open(struct vmprof_session **s, enum vmprof_backend backend)
{
	enum vmprof_backend b = backend;
	int err;

	if (b == VMPROF_BACKEND_AUTO && env_backend(&b))
		return fail_env();
	err = vmprof_session_open_backend(s, NULL, VMPROF_OPEN_SHARED, backend);
	if (err == -EOPNOTSUPP)
		return util_fail("the BPF backend%s keeps no registrations: %s; %s",
				 util_bpf_why(backend), NO_REGISTRY, LOAD_MODULE);
	if (err == -ENOENT && b == VMPROF_BACKEND_AUTO)
		return util_fail("%s; without it, registrations have no effect: %s",
				 MODULE_HINT, NO_REGISTRY);
	return err ? fail_open(err, VMPROF_BACKEND_MODULE) : EXIT_OK;
}

void util_sampler_line(char *buf, size_t size,
		       const struct vmprof_session *s,
		       const struct vmprof_stats *from,
		       const struct vmprof_stats *to)
{
	uint64_t ticks, samples, cost, refused, dropped;
	int n;

	if (!from || !to) {
		snprintf(buf, size, "sampler: %s", vmprof_session_variant(s));
		return;
	}
	ticks = to->ticks - from->ticks;
	samples = to->samples - from->samples;
	cost = to->cost_total_ns - from->cost_total_ns;
	refused = to->inherit_refused - from->inherit_refused;
	dropped = to->inherit_dropped - from->inherit_dropped;
	/* The module's longest tick is since it was loaded. */
	n = snprintf(buf, size,
		     "sampler: %s, %" PRIu64 " ticks, %.1f us a tick (max %.1f us%s), %.2f us per process sample",
		     vmprof_session_variant(s), ticks,
		     ticks ? (double)cost / (double)ticks / 1e3 : 0.0,
		     (double)to->cost_max_ns / 1e3,
		     vmprof_session_caps(s) & VMPROF_SAMPLER_SHARED ?
		     " since it was loaded" : "",
		     samples ? (double)cost / (double)samples / 1e3 : 0.0);
	/* Processes of the trees followed that it could not follow. */
	if (n > 0 && (size_t)n < size && (refused || dropped))
		snprintf(buf + n, size - (size_t)n,
			 "; forks not followed: %" PRIu64 " refused (max_pids), %" PRIu64 " dropped",
			 refused, dropped);
}
