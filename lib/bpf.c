// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The BPF backend: the module's sampler, without the module.
 *
 * A session loads the programs of bpf/sampler.bpf.c and starts a thread
 * that, every period, runs one of them over every process the session
 * registered and hands the cumulative counts it reads to the producer
 * (producer.c), which turns them into the module's records and writes
 * them into a ring laid out as /dev/vmprof is, in this process's memory.  vmprof_ring_next() and the tools read it as they read the
 * module's.
 *
 * One mutex (b->lock) keeps the processes, the programs' data and the
 * ring's writing side: the thread's tick, a registration and an
 * unregistration each hold it throughout.  Readers of the ring take no
 * lock.
 */
#define _GNU_SOURCE
#include "config.h"
#ifdef HAVE_BPF
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "producer.h"
#include "bpf/vmprof_bpf.h"
#include "bpf/sampler.skel.h"

#define BTF_PATH	"/sys/kernel/btf/vmlinux"
#define RING_RECORDS	65536U	/* 8 MiB of records */
#define DEFAULT_PERIOD	50U	/* ms, as the module */
/* A process reaped between two ticks: how long to wait for its final
 * counts (hold's and on_release's are there at the next tick; on_free's
 * an RCU grace period after the reap: on a host that preempts its vCPUs
 * that was up to 1.8 s) before its last record goes out without them
 * (REAPED). */
#define GONE_NS		10000000000ULL
/* Processes one run of the tick program samples: one run holds RCU. */
#define RUN_CHUNK	1024U

enum variant { VARIANT_SYSCALL, VARIANT_RAWTP, NR_VARIANTS };
static const char *const variant_names[NR_VARIANTS] = {
	"bpf-syscall", "bpf-rawtp",
};

/*
 * Where the final counts of a process reaped between two ticks come from
 * (sampler.bpf.c): the signal struct of its leader, held since its
 * registration, as the module does (hold: with bpf-syscall); else the
 * programs on release_task() (release) or on the task's free (free), for
 * which the tick waits.
 */
enum finals { FINALS_HOLD, FINALS_RELEASE, FINALS_FREE, NR_FINALS };
static const char *const finals_names[NR_FINALS] = {
	"hold", "release", "free",
};

struct vmprof_bpf {
	pthread_mutex_t lock;
	pthread_t thread;
	int thread_started;
	int stop_fd;		/* eventfd: close() wakes the thread */
	int tick_fd;		/* eventfd: a tick is done (vmprof_wait) */
	struct vmprof_sampler *skel;
	enum variant variant;
	enum finals finals;
	struct bpf_link *fork_link, *final_link;
	struct ring_buffer *forks;
	/* VMPROF_TEST_DROP_FORKS=N: ignore every Nth fork (tests only). */
	unsigned int drop_every, forks_seen;
	/* pr.procs[i] is the process of skel->bss->out[i], in the order
	 * they were registered: a child after its forker. */
	struct producer pr;
	struct producer_proc procs[VMPROF_BPF_MAX_PROCS];
	/* The ring, as /dev/vmprof lays it out. */
	struct vmprof_ring_header *hdr;
	size_t map_len;
	unsigned int period_ms;	/* read by the thread without the lock */
	long page_kb;
	struct vmprof_stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ----------------------------------------------------- the programs' data */

/* Run the tick program over out[first .. first + count). */
static int run(struct vmprof_bpf *b, unsigned int first, unsigned int count)
{
	struct bpf_test_run_opts opts = { .sz = sizeof(opts) };
	/* A raw_tp test run wants a context; the program ignores it. */
	uint64_t ctx[1] = { 0 };
	int fd;

	b->skel->bss->first = first;
	b->skel->bss->count = count;
	if (b->variant == VARIANT_RAWTP) {
		opts.ctx_in = ctx;
		opts.ctx_size_in = sizeof(ctx);
		fd = bpf_program__fd(b->skel->progs.tick_rawtp);
	} else {
		fd = bpf_program__fd(b->skel->progs.tick_syscall);
	}
	return bpf_prog_test_run_opts(fd, &opts) ? -errno : 0;
}

static int find(const struct vmprof_bpf *b, uint32_t pid)
{
	return producer_find(&b->pr, pid);
}

static int reg_add(struct vmprof_bpf *b, uint32_t pid, uint64_t start_ns,
		   int inherit)
{
	struct vmprof_bpf_reg v = { .start_ns = start_ns, .inherit = !!inherit };

	/* A stale final count of an earlier process of this pid goes. */
	bpf_map__delete_elem(b->skel->maps.finals, &pid, sizeof(pid), 0);
	/* Not over a child on_fork registered since the last tick. */
	if (bpf_map__update_elem(b->skel->maps.reg, &pid, sizeof(pid), &v,
				 sizeof(v), BPF_NOEXIST))
		return -errno;
	return 0;
}

/* Hold registered process @pid's leader (FINALS_HOLD): 0, or -ESRCH when
 * it has gone since it was looked up. */
static int hold(struct vmprof_bpf *b, uint32_t pid)
{
	struct bpf_test_run_opts opts = { .sz = sizeof(opts) };

	b->skel->bss->hold_tgid = pid;
	if (bpf_prog_test_run_opts(bpf_program__fd(b->skel->progs.hold_pid),
				   &opts))
		return -errno;
	return b->skel->bss->hold_ok ? 0 : -ESRCH;
}

/* Stop following @pid in the programs: they forget it, and let go of the
 * task they held. */
static void unfollow(struct vmprof_bpf *b, uint32_t pid)
{
	/* reg first: on_free writes finals only for a registered pid.  With
	 * hold, finals stays empty: one bpf(2) call an exit fewer. */
	bpf_map__delete_elem(b->skel->maps.reg, &pid, sizeof(pid), 0);
	if (b->finals == FINALS_HOLD)
		bpf_map__delete_elem(b->skel->maps.held, &pid, sizeof(pid), 0);
	else
		bpf_map__delete_elem(b->skel->maps.finals, &pid, sizeof(pid), 0);
}

/* producer_compact() moves process @from to slot @to: its input too. */
static void move_out(void *ctx, unsigned int to, unsigned int from)
{
	struct vmprof_bpf *b = ctx;

	b->skel->bss->out[to] = b->skel->bss->out[from];
}

/* on_free's counts of process @i, if it was reaped: 1, else 0. */
static int final_counts(struct vmprof_bpf *b, unsigned int i,
			struct vmprof_bpf_out *o)
{
	uint32_t pid = b->skel->bss->out[i].pid;

	if (bpf_map__lookup_elem(b->skel->maps.finals, &pid, sizeof(pid), o,
				 sizeof(*o), 0))
		return 0;
	return o->start_ns == b->pr.procs[i].start_ns;
}

/* Is out[i] process @i (and not a process that reused its pid)? */
static int found(struct vmprof_bpf *b, unsigned int i)
{
	const struct vmprof_bpf_out *o = &b->skel->bss->out[i];

	return (o->flags & VMPROF_BPF_FOUND) && o->tgid == o->pid &&
	       o->start_ns == b->pr.procs[i].start_ns;
}

/* The counts of out-struct @o, as the producer takes them. */
static void counts(const struct vmprof_bpf *b, const struct vmprof_bpf_out *o,
		   struct producer_counts *c)
{
	c->cpu_ns = o->cpu_ns;
	c->min_flt = o->min_flt;
	c->maj_flt = o->maj_flt;
	c->rss_kb = o->rss_pages * (uint64_t)b->page_kb;
	memcpy(c->comm, o->comm, sizeof(c->comm));
}

/*
 * Hand what the programs saw of process @i (out[i]; its final counts from
 * the task held, or from on_release's or on_free's map) to the producer;
 * if that was its last record, stop following it.  @flags and @held as
 * producer_sample().
 */
static void sample(struct vmprof_bpf *b, unsigned int i, uint64_t now,
		   uint32_t flags, int *held)
{
	struct vmprof_bpf_out fin, *o = &b->skel->bss->out[i];
	enum producer_seen seen = SEEN_DONE;
	struct producer_counts c;

	if (found(b, i)) {
		if (!(o->flags & VMPROF_BPF_DONE))
			seen = SEEN_LIVE;
		counts(b, o, &c);
	} else if ((o->flags & VMPROF_BPF_FINAL) &&
		   o->start_ns == b->pr.procs[i].start_ns) {
		counts(b, o, &c);	/* from the task held */
	} else if (final_counts(b, i, &fin)) {
		counts(b, &fin, &c);
	} else {
		/* Reaped, not yet freed: on_free's counts come within an
		 * RCU grace period, at a later tick. */
		seen = SEEN_GONE;
		memset(&c, 0, sizeof(c));
	}
	if (producer_sample(&b->pr, i, now, seen, &c, flags, held))
		unfollow(b, o->pid);
}

/* ring_buffer__consume() callback: a registered process forked. */
static int on_fork_event(void *ctx, void *data, size_t size)
{
	const struct vmprof_bpf_fork *e = data;
	struct vmprof_bpf *b = ctx;
	int i;

	if (size < sizeof(*e))
		return 0;
	if (find(b, e->pid) >= 0)
		return 0;	/* registered already */
	if (b->drop_every && ++b->forks_seen % b->drop_every == 0) {
		/* A broken follower, on purpose: not counted anywhere. */
		unfollow(b, e->pid);
		return 0;
	}
	/* Its counts start at 0 at the fork. */
	i = producer_add(&b->pr, e->pid, e->start_ns, e->ppid, 1, e->time_ns,
			 NULL);
	if (i < 0) {
		b->st.inherit_refused++;
		unfollow(b, e->pid);
		return 0;
	}
	b->skel->bss->out[i].pid = e->pid;
	b->skel->bss->out[i].want_start_ns = e->start_ns;
	b->st.inherited++;
	return 0;
}

static void tick(struct vmprof_bpf *b)
{
	uint64_t now, cost;

	unsigned int first;
	int err = 0;

	pthread_mutex_lock(&b->lock);
	/* Children forked up to now; then the time, which is after their
	 * forks (the start of their first intervals). */
	if (b->forks)
		ring_buffer__consume(b->forks);
	now = now_ns();
	for (first = 0; !err && first < b->pr.nr; first += RUN_CHUNK)
		err = run(b, first, b->pr.nr - first < RUN_CHUNK ?
				    b->pr.nr - first : RUN_CHUNK);
	/* A failed run leaves out[] as it was: no records this tick. */
	if (err) {
		b->st.overruns++;
	} else {
		int held = 0;

		for (unsigned int i = 0; i < b->pr.nr; i++)
			sample(b, i, now, 0, &held);
	}
	b->st.ticks++;
	__atomic_store_n(&b->hdr->ticks, b->st.ticks, __ATOMIC_RELAXED);
	producer_publish(&b->pr);
	producer_compact(&b->pr);
	cost = now_ns() - now;
	b->st.cost_last_ns = cost;
	if (cost > b->st.cost_max_ns)
		b->st.cost_max_ns = cost;
	b->st.cost_total_ns += cost;
	pthread_mutex_unlock(&b->lock);
	eventfd_write(b->tick_fd, 1);
}

static uint64_t period_ns(const struct vmprof_bpf *b)
{
	return __atomic_load_n(&b->period_ms, __ATOMIC_RELAXED) * 1000000ULL;
}

/* The sampler thread: a tick every period, on a fixed grid (the module's
 * schedule, producer_next_tick()), until the session closes. */
static void *sampler(void *arg)
{
	struct vmprof_bpf *b = arg;
	struct pollfd pfd = { .fd = b->stop_fd, .events = POLLIN };
	uint64_t next = now_ns() + period_ns(b);

	for (;;) {
		uint64_t now = now_ns();

		if (now < next) {
			uint64_t wait = next - now;
			struct timespec ts = {
				.tv_sec = (time_t)(wait / 1000000000ULL),
				.tv_nsec = (long)(wait % 1000000000ULL),
			};
			int n = ppoll(&pfd, 1, &ts, NULL);

			if (n > 0 || (n < 0 && errno != EINTR))
				break;	/* stop_fd: the session closes */
			continue;	/* the deadline, or a signal */
		}
		tick(b);
		pthread_mutex_lock(&b->lock);
		next = producer_next_tick(next, now_ns(), period_ns(b),
					  &b->st.overruns);
		pthread_mutex_unlock(&b->lock);
	}
	return NULL;
}

/* ---------------------------------------------------------------- load */

#define CAP(n) (1ULL << (n))

/* This process's effective capabilities (0 if it cannot tell). */
static uint64_t effective_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

/* Root, or CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) in effect? */
static int capable_enough(void)
{
	uint64_t eff;

	if (geteuid() == 0)
		return 1;
	eff = effective_caps();
	return (eff & CAP(CAP_SYS_ADMIN)) ||
	       ((eff & CAP(38)) && (eff & CAP(39)));	/* PERFMON, BPF */
}

/*
 * May the caller watch the process of @o?  The module's rule (vmprof(4)),
 * kill(2)'s: root, CAP_SYS_PTRACE, or the caller's real or effective uid
 * is the process's real or saved uid.  CAP_BPF and CAP_PERFMON, which a
 * user may hold through file capabilities, let the sampler run; they do
 * not let that user watch other users' processes.
 */
static int may_watch(const struct vmprof_bpf_out *o)
{
	uid_t r = getuid(), e = geteuid();

	if (e == 0 || (effective_caps() & CAP(CAP_SYS_PTRACE)))
		return 1;
	return r == o->uid || r == o->suid || e == o->uid || e == o->suid;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* Load the programs with the tick program of @v and the final counts'
 * programs of @f; test-run it once. */
static int load(struct vmprof_bpf *b, enum variant v, enum finals f)
{
	struct bpf_object_open_opts oo = {
		.sz = sizeof(oo),
		/* libbpf 1.1 without it lists module BTF, which needs
		 * CAP_SYS_ADMIN. */
		.btf_custom_path = BTF_PATH,
	};
	int err;

	b->skel = vmprof_sampler__open_opts(&oo);
	if (!b->skel)
		return -errno;
	bpf_program__set_autoload(b->skel->progs.tick_syscall,
				  v == VARIANT_SYSCALL);
	bpf_program__set_autoload(b->skel->progs.tick_rawtp,
				  v == VARIANT_RAWTP);
	bpf_program__set_autoload(b->skel->progs.on_release,
				  f == FINALS_RELEASE);
	bpf_program__set_autoload(b->skel->progs.on_free, f == FINALS_FREE);
	bpf_program__set_autoload(b->skel->progs.on_fork, f != FINALS_HOLD);
	bpf_program__set_autoload(b->skel->progs.on_fork_hold,
				  f == FINALS_HOLD);
	bpf_program__set_autoload(b->skel->progs.hold_pid, f == FINALS_HOLD);
	/* A task kptr in a map needs Linux 6.3, which tick_syscall's 6.10
	 * has; tick_rawtp does without. */
	bpf_map__set_autocreate(b->skel->maps.held, v == VARIANT_SYSCALL);
	b->skel->rodata->hold_on = f == FINALS_HOLD;
	err = vmprof_sampler__load(b->skel);
	b->variant = v;
	b->finals = f;
	if (!err)
		err = run(b, 0, 0);
	/* Its pid in the initial pid namespace, seen by the program, is
	 * getpid() unless this process is in another pid namespace. */
	if (!err && b->skel->bss->self_tgid != (unsigned int)getpid())
		err = -EXDEV;
	if (err) {
		vmprof_sampler__destroy(b->skel);
		b->skel = NULL;
	}
	return err;
}


/*
 * The value of knob @name (a variable of the environment, for the tests),
 * one of @names[0 .. @n): its index in *@pick; -1 when unset; -EINVAL for
 * any other value.  A variant is also taken without its "bpf-".
 */
static int knob(const char *name, const char *const *names, int n, int *pick)
{
	const char *v = secure_getenv(name);

	*pick = -1;
	if (!v || !*v)
		return 0;
	for (int i = 0; i < n; i++)
		if (!strcmp(v, names[i]) ||
		    (!strncmp(names[i], "bpf-", 4) && !strcmp(v, names[i] + 4))) {
			*pick = i;
			return 0;
		}
	return -EINVAL;
}

static int start(struct vmprof_bpf *b)
{
	int err, force_v, force_f;
	const char *drop;

	if (knob("VMPROF_BPF_VARIANT", variant_names, NR_VARIANTS, &force_v) ||
	    knob("VMPROF_BPF_FINALS", finals_names, NR_FINALS, &force_f))
		return -EINVAL;
	drop = secure_getenv("VMPROF_TEST_DROP_FORKS");
	if (drop)
		b->drop_every = (unsigned int)strtoul(drop, NULL, 10);
	/* The cheapest variant first; final counts from a reference held,
	 * else at release_task() where it can be traced, else at the
	 * task's free. */
	err = -ENOEXEC;
	for (int k = 0; k < NR_VARIANTS * NR_FINALS; k++) {
		enum variant v = (enum variant)(k / NR_FINALS);
		enum finals f = (enum finals)(k % NR_FINALS);

		if ((force_v >= 0 && (int)v != force_v) ||
		    (force_f >= 0 && (int)f != force_f) ||
		    (f == FINALS_HOLD && v != VARIANT_SYSCALL))
			continue;
		err = load(b, v, f);
		if (!err && f == FINALS_HOLD)
			break;
		if (!err) {
			b->final_link = bpf_program__attach(f == FINALS_FREE ?
					b->skel->progs.on_free :
					b->skel->progs.on_release);
			if (b->final_link)
				break;
			err = -errno;
			vmprof_sampler__destroy(b->skel);
			b->skel = NULL;
		}
		/* EPERM too: capable_enough() said yes, and on_release
		 * is refused so where tracing functions is not allowed. */
		if (err == -EXDEV)
			return err;
	}
	/* EPERM: every program refused for want of privilege, unless a
	 * forced choice was the one refused. */
	if (err)
		return err == -EPERM && force_v < 0 && force_f < 0 ?
		       err : -ENOEXEC;
	/* Without it, vmprof_register_tree() is -EOPNOTSUPP. */
	b->fork_link = bpf_program__attach(b->finals == FINALS_HOLD ?
					   b->skel->progs.on_fork_hold :
					   b->skel->progs.on_fork);
	if (b->fork_link) {
		b->forks = ring_buffer__new(bpf_map__fd(b->skel->maps.forks),
					    on_fork_event, b, NULL);
		if (!b->forks)
			return -errno;
		b->st.fork_hook = 1;
	}
	return 0;
}

static int map_ring(struct vmprof_bpf *b)
{
	void *mem;

	b->map_len = VMPROF_HEADER_SIZE +
		     (size_t)RING_RECORDS * sizeof(struct vmprof_record);
	mem = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM;
	b->hdr = mem;
	producer_init(&b->pr, mem, b->map_len, b->procs, VMPROF_BPF_MAX_PROCS,
		      GONE_NS);
	b->pr.move = move_out;
	b->pr.ctx = b;
	b->hdr->period_ms = b->period_ms;
	b->st.capacity = b->pr.capacity;
	return 0;
}

static void bpf_close(void *priv);

static int bpf_open(void **out, const char *root, unsigned int flags)
{
	libbpf_print_fn_t old;
	struct vmprof_bpf *b;
	sigset_t all, prev;
	int err;

	(void)root;	/* the module's files' prefix: not ours */
	(void)flags;	/* the ring is there either way */
	if (!capable_enough())
		return -EPERM;
	if (access(BTF_PATH, R_OK))
		return -ENOEXEC;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	b->stop_fd = eventfd(0, EFD_CLOEXEC);
	b->tick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b->period_ms = DEFAULT_PERIOD;
	b->page_kb = sysconf(_SC_PAGESIZE) / 1024;
	b->st.max_pids = VMPROF_BPF_MAX_PROCS;
	if (b->stop_fd < 0 || b->tick_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = map_ring(b);
	if (err)
		goto fail;
	/* The library never prints: libbpf's messages only on request. */
	old = libbpf_set_print(secure_getenv("VMPROF_BPF_DEBUG") ? NULL : quiet);
	if (secure_getenv("VMPROF_BPF_DEBUG"))
		libbpf_set_print(old);
	err = start(b);
	libbpf_set_print(old);
	if (err)
		goto fail;
	/* Signals are for the program's own threads, not the sampler. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &prev);
	err = -pthread_create(&b->thread, NULL, sampler, b);
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	if (err)
		goto fail;
	b->thread_started = 1;
	*out = b;
	return 0;
fail:
	bpf_close(b);
	return err;
}

static void bpf_close(void *priv)
{
	struct vmprof_bpf *b = priv;

	if (!b)
		return;
	if (b->thread_started) {
		eventfd_write(b->stop_fd, 1);
		pthread_join(b->thread, NULL);
	}
	ring_buffer__free(b->forks);
	bpf_link__destroy(b->fork_link);
	bpf_link__destroy(b->final_link);
	vmprof_sampler__destroy(b->skel);
	if (b->hdr)
		munmap(b->hdr, b->map_len);
	if (b->stop_fd >= 0)
		close(b->stop_fd);
	if (b->tick_fd >= 0)
		close(b->tick_fd);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* ------------------------------------------------------------ the API */

static const void *bpf_ring(void *priv, size_t *len)
{
	const struct vmprof_bpf *b = priv;

	*len = b->map_len;
	return b->hdr;
}

static const char *bpf_variant(const void *priv)
{
	const struct vmprof_bpf *b = priv;

	return variant_names[b->variant];
}

/* Look @pid (a process, or a thread of one) up in slot @i: 0, -ESRCH. */
static int look_up(struct vmprof_bpf *b, unsigned int i, pid_t pid)
{
	struct vmprof_bpf_out *o = &b->skel->bss->out[i];
	int err;

	o->pid = (uint32_t)pid;
	o->want_start_ns = 0;	/* whichever process it names */
	err = run(b, i, 1);
	if (err)
		return err;
	return o->flags & VMPROF_BPF_FOUND ? 0 : -ESRCH;
}

static int bpf_register(void *priv, pid_t pid, int inherit)
{
	struct vmprof_bpf *b = priv;
	struct producer_counts base;
	struct vmprof_bpf_out *o;
	unsigned int i;
	int err;

	if (pid <= 0)
		return -EINVAL;
	if (inherit && !b->fork_link)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&b->lock);
	/* The children forked so far are registered (EEXIST below). */
	if (b->forks)
		ring_buffer__consume(b->forks);
	err = -ENOSPC;
	if (b->pr.nr >= VMPROF_BPF_MAX_PROCS)
		goto out;
	/* The baseline: its counts now, read as a tick reads them, in the
	 * slot producer_add() gives it. */
	i = b->pr.nr;
	o = &b->skel->bss->out[i];
	err = look_up(b, i, pid);
	/* As the module: not a process that is exiting, nor one the
	 * caller may not watch. */
	if (!err && !o->live)
		err = -ESRCH;
	if (!err && !may_watch(o))
		err = -EPERM;
	if (err)
		goto out;
	err = -EEXIST;
	if (find(b, o->tgid) >= 0)
		goto out;
	o->pid = o->tgid;	/* a thread stands for its process */
	o->want_start_ns = o->start_ns;
	err = reg_add(b, o->tgid, o->start_ns, inherit);
	if (!err && b->finals == FINALS_HOLD) {
		err = hold(b, o->tgid);
		if (err)
			unfollow(b, o->tgid);
	}
	if (err)
		goto out;
	counts(b, o, &base);
	producer_add(&b->pr, o->tgid, o->start_ns, o->ppid, inherit, now_ns(),
		     &base);
	__atomic_store_n(&b->hdr->nr_pids, b->pr.nr, __ATOMIC_RELAXED);
out:
	pthread_mutex_unlock(&b->lock);
	return err;
}

static int bpf_unregister(void *priv, pid_t pid)
{
	struct vmprof_bpf *b = priv;
	int i, err = 0;

	if (pid <= 0)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	if (b->forks)
		ring_buffer__consume(b->forks);
	i = find(b, (uint32_t)pid);
	/* A thread stands for its process. */
	if (i < 0 && b->pr.nr < VMPROF_BPF_MAX_PROCS &&
	    !look_up(b, b->pr.nr, pid))
		i = find(b, b->skel->bss->out[b->pr.nr].tgid);
	if (i < 0) {
		err = -ENOENT;
		goto out;
	}
	err = run(b, (unsigned int)i, 1);
	/* As the module: a reaped process is the tick's to end. */
	if (!err && !found(b, (unsigned int)i))
		err = -ENOENT;
	if (err)
		goto out;
	sample(b, (unsigned int)i, now_ns(), VMPROF_REC_UNREGISTERED, NULL);
	producer_publish(&b->pr);
	producer_compact(&b->pr);
out:
	pthread_mutex_unlock(&b->lock);
	if (!err)
		eventfd_write(b->tick_fd, 1);
	return err;
}

static int bpf_list(void *priv, pid_t *pids, size_t max)
{
	struct vmprof_bpf *b = priv;
	int n;

	pthread_mutex_lock(&b->lock);
	for (unsigned int i = 0; i < b->pr.nr && i < max; i++)
		pids[i] = (pid_t)b->pr.procs[i].pid;
	n = (int)b->pr.nr;
	pthread_mutex_unlock(&b->lock);
	return n;
}

static int bpf_stats(void *priv, struct vmprof_stats *st)
{
	struct vmprof_bpf *b = priv;

	pthread_mutex_lock(&b->lock);
	*st = b->st;
	st->head = st->records = b->pr.head;
	st->registered = b->pr.nr;
	st->samples = b->pr.samples;
	st->inheriting = b->pr.inheriting;
	st->period_ms = b->period_ms;
	st->cost_per_sample_ns = st->samples ?
				 st->cost_total_ns / st->samples : 0;
	st->inherit_dropped = b->skel->bss->fork_dropped;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static int bpf_wait(void *priv, int timeout_ms)
{
	struct vmprof_bpf *b = priv;
	struct pollfd pfd = { .fd = b->tick_fd, .events = POLLIN };
	eventfd_t v;
	int n = poll(&pfd, 1, timeout_ms);

	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	eventfd_read(b->tick_fd, &v);
	return 1;
}

static int bpf_set_period(void *priv, unsigned int period_ms)
{
	struct vmprof_bpf *b = priv;

	if (period_ms < 1 || period_ms > 60000)
		return -EINVAL;
	__atomic_store_n(&b->period_ms, period_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&b->hdr->period_ms, period_ms, __ATOMIC_RELAXED);
	return 0;
}

const struct vmprof_backend_ops backend_bpf_ops = {
	.id = VMPROF_BACKEND_BPF,
	.available = 1,
	.open = bpf_open,
	.close = bpf_close,
	.ring = bpf_ring,
	.variant = bpf_variant,
	.reg = bpf_register,
	.unreg = bpf_unregister,
	.list = bpf_list,
	.stats = bpf_stats,
	.wait = bpf_wait,
	.set_period = bpf_set_period,
};

#else /* !HAVE_BPF */

#include "internal.h"

static int bpf_unavailable(void **priv, const char *root, unsigned int flags)
{
	(void)priv;
	(void)root;
	(void)flags;
	return -ENOSYS;
}

/* Only open(), which says the backend is not built in. */
const struct vmprof_backend_ops backend_bpf_ops = {
	.id = VMPROF_BACKEND_BPF,
	.open = bpf_unavailable,
};
#endif /* HAVE_BPF */
