// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * libvmprof's BPF sampler: the module's sample, read from BPF.
 *
 * The loader (lib/bpf.c) keeps the registered pids in out[].pid and, once
 * a tick, runs one of the two tick programs with BPF_PROG_TEST_RUN over
 * out[first .. first + count).  For each pid the program writes the
 * process's cumulative counters (sum over the live threads plus what the
 * signal struct keeps of the dead ones, read under its stats_lock
 * sequence count as thread_group_cputime() does), its RSS, comm, start
 * time and whether it is done; out[] is in .bss, which the loader maps, so
 * a tick is one bpf(2) call for every process.  The variants differ only
 * in how a pid becomes a task:
 *
 *   tick_syscall  bpf_task_from_pid() (a kfunc syscall programs may call
 *                 since Linux 6.10)
 *   tick_rawtp    by hand, as idr_find() and pid_task() do: no kfunc, so
 *                 it loads on 6.1 (bpf_loop: 5.17; a raw_tp test run holds
 *                 rcu_read_lock())
 *
 * Both take pids of the initial pid namespace (the loader refuses to run
 * in another).  on_fork registers the children of inheriting processes
 * and tells the loader through the forks ring buffer.
 *
 * The final counts of a process reaped between two ticks come, as the
 * loader chooses, from one of three places:
 *
 *   hold     (Linux 6.10+, with tick_syscall) as the module has them: a
 *            reference to the leader, taken at registration (hold_pid) or
 *            at fork (on_fork_hold) and kept in the held map, keeps its
 *            signal struct, where release_task() has added every thread's
 *            counts; the tick reads them there once the pid leads nowhere
 *   release  on_release, at release_task() (fentry)
 *   free     on_free, at the task's free, an RCU grace period after
 *            release_task(): the loader waits for them
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "vmprof_bpf.h"

/* GPL-compatible, as the helpers it calls require; libvmprof stays LGPL. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TASK_DEAD_STATE	0x80	/* TASK_DEAD, include/linux/sched.h */
#define MM_FILEPAGES_I	0	/* enum of include/linux/mm_types_task.h */
#define MM_ANONPAGES_I	1
#define MM_SHMEMPAGES_I	3
#define EEXIST		17

unsigned int first, count;
/* Set by the loader: the final counts come from the leaders held (the
 * held map, with tick_syscall). */
const volatile unsigned int hold_on;
/* The caller's tgid in the initial pid namespace: the loader compares it
 * with getpid() to know its pids are the ones the programs take. */
unsigned int self_tgid;
struct vmprof_bpf_out out[VMPROF_BPF_MAX_PROCS];
unsigned long long fork_dropped;
/* Final counts on_release or on_free could not store (keep_final()). */
unsigned long long finals_failed;

/* tgid -> the registered process (on_fork and on_free look here). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VMPROF_BPF_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct vmprof_bpf_reg);
} reg SEC(".maps");

/* tgid -> final counts of a registered process, written when it is freed. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VMPROF_BPF_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct vmprof_bpf_out);
} finals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} forks SEC(".maps");

/* A referenced kptr ("kptr" since Linux 6.3): the map keeps the task. */
struct held_task {
	struct task_struct __attribute__((btf_type_tag("kptr"))) *task;
};

/* tgid -> a reference to the leader of a registered process (hold). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VMPROF_BPF_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct held_task);
} held SEC(".maps");

/* hold_pid's input, the registered process to hold, and its result. */
unsigned int hold_tgid, hold_ok;

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym __weak;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
extern void bpf_rcu_read_lock(void) __ksym __weak;
extern void bpf_rcu_read_unlock(void) __ksym __weak;

/* ------------------------------------------------------------- counters */

/* mm->rss_stat: atomic counters up to 6.1, per-CPU counters since 6.2. */
struct mm_rss_stat___v61 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));
struct mm_struct___v61 {
	struct mm_rss_stat___v61 rss_stat;
} __attribute__((preserve_access_index));
struct mm_struct___v62 {
	struct percpu_counter rss_stat[4];
} __attribute__((preserve_access_index));

static __always_inline long positive(long v)
{
	return v < 0 ? 0 : v;
}

/* get_mm_counter() of file, anon and shmem pages, as the module reads. */
static __always_inline unsigned long long rss_pages(void *mm)
{
	long f, a, s;

	if (!mm)
		return 0;
	if (bpf_core_type_exists(struct mm_rss_stat___v61)) {
		struct mm_struct___v61 *m = mm;

		f = BPF_CORE_READ(m, rss_stat.count[MM_FILEPAGES_I].counter);
		a = BPF_CORE_READ(m, rss_stat.count[MM_ANONPAGES_I].counter);
		s = BPF_CORE_READ(m, rss_stat.count[MM_SHMEMPAGES_I].counter);
	} else {
		struct mm_struct___v62 *m = mm;

		f = BPF_CORE_READ(m, rss_stat[MM_FILEPAGES_I].count);
		a = BPF_CORE_READ(m, rss_stat[MM_ANONPAGES_I].count);
		s = BPF_CORE_READ(m, rss_stat[MM_SHMEMPAGES_I].count);
	}
	return positive(f) + positive(a) + positive(s);
}

static __always_inline unsigned int stats_seq(struct signal_struct *sig)
{
	return BPF_CORE_READ(sig, stats_lock.seqcount.seqcount.sequence);
}

/*
 * for_each_thread() by hand, over signal->thread_head, with probe reads:
 * no kfunc.  The caller holds RCU.  The first thread with an mm gives the
 * RSS, so a process whose leader exited before its threads still has one.
 */
struct walk {
	unsigned long long head;	/* &sig->thread_head */
	unsigned long long pos;		/* the current list_head */
	unsigned long long node_off;	/* offsetof(task_struct, thread_node) */
	unsigned long long cpu, minf, majf;
	void *mm;
	unsigned int n;
	unsigned int done;
};

static long walk_one(__u32 i, void *ctx)
{
	struct walk *w = ctx;
	struct task_struct *t;
	struct list_head *p;

	if (w->pos == w->head || !w->pos) {
		w->done = 1;
		return 1;
	}
	t = (struct task_struct *)(w->pos - w->node_off);
	w->cpu += BPF_CORE_READ(t, se.sum_exec_runtime);
	w->minf += BPF_CORE_READ(t, min_flt);
	w->majf += BPF_CORE_READ(t, maj_flt);
	if (!w->mm)
		w->mm = BPF_CORE_READ(t, mm);
	w->n++;
	p = (struct list_head *)w->pos;
	w->pos = (unsigned long long)BPF_CORE_READ(p, next);
	return 0;
}

/*
 * read_seqbegin(), waiting (boundedly) for an even count: a writer,
 * __exit_signal(), holds stats_lock for well under a microsecond, and
 * retrying at once on an odd count uses up the retries in nanoseconds.
 */
struct seqwait {
	struct signal_struct *sig;
	unsigned int seq;
};

static long seqwait_one(__u32 i, void *ctx)
{
	struct seqwait *s = ctx;

	s->seq = stats_seq(s->sig);
	return !(s->seq & 1);
}

/* One read of the counters under the sequence count: try_one() stops the
 * retries once a read was not torn. */
struct tries {
	struct seqwait sw;
	struct walk w;
	unsigned int torn;
};

static long try_one(__u32 i, void *ctx)
{
	struct tries *t = ctx;
	struct signal_struct *sig = t->sw.sig;

	bpf_loop(1 << 16, seqwait_one, &t->sw, 0);
	__builtin_memset(&t->w, 0, sizeof(t->w));
	t->w.head = (unsigned long long)sig +
		    bpf_core_field_offset(struct signal_struct, thread_head);
	t->w.node_off = bpf_core_field_offset(struct task_struct, thread_node);
	t->w.pos = (unsigned long long)BPF_CORE_READ(sig, thread_head.next);
	t->w.cpu = BPF_CORE_READ(sig, sum_sched_runtime);
	t->w.minf = BPF_CORE_READ(sig, min_flt);
	t->w.majf = BPF_CORE_READ(sig, maj_flt);
	bpf_loop(VMPROF_BPF_MAX_THREADS, walk_one, &t->w, 0);
	/* x86-64 keeps loads in order: no read barrier is needed. */
	t->torn = (t->sw.seq & 1) || stats_seq(sig) != t->sw.seq;
	return !t->torn;
}

/* The retries are a bpf_loop() of their own: the verifier checks one
 * read, not VMPROF_BPF_MAX_RETRY of them unrolled. */
static __always_inline void read_counters(struct task_struct *task,
					  struct vmprof_bpf_out *o)
{
	struct tries t;

	__builtin_memset(&t, 0, sizeof(t));
	t.sw.sig = BPF_CORE_READ(task, signal);
	t.torn = 1;
	bpf_loop(VMPROF_BPF_MAX_RETRY, try_one, &t, 0);
	if (t.torn)
		o->flags |= VMPROF_BPF_TORN;
	if (!t.w.done)
		o->flags |= VMPROF_BPF_TRUNC;
	o->cpu_ns = t.w.cpu;
	o->min_flt = t.w.minf;
	o->maj_flt = t.w.majf;
	o->nthreads = t.w.n;
	o->rss_pages = rss_pages(t.w.mm);
}

/* The module's vmprof_task_done(): alone, TASK_DEAD, off its CPU. */
static __always_inline int task_done(struct task_struct *task)
{
	struct signal_struct *sig = BPF_CORE_READ(task, signal);

	return BPF_CORE_READ(task, exit_state) &&
	       BPF_CORE_READ(sig, nr_threads) <= 1 &&
	       BPF_CORE_READ(task, __state) == TASK_DEAD_STATE &&
	       !BPF_CORE_READ(task, on_cpu);
}

/* Sample the process of @t, a thread of it or its leader. */
static __always_inline void sample(struct task_struct *t,
				   struct vmprof_bpf_out *o)
{
	struct task_struct *task = BPF_CORE_READ(t, group_leader);
	int done;

	o->tgid = BPF_CORE_READ(task, tgid);
	o->live = BPF_CORE_READ(task, signal, live.counter);
	/* Who may watch it: asked at registration only (a look-up, which
	 * wants any process the pid names), not at every tick. */
	if (!o->want_start_ns) {
		o->uid = BPF_CORE_READ(task, real_cred, uid.val);
		o->suid = BPF_CORE_READ(task, real_cred, suid.val);
	}
	/*
	 * Done first, then the counters, as the module does: read the other
	 * way round, a leader that leaves its CPU for the last time between
	 * the two would be called done with counts that lack its last slice,
	 * which the scheduler charges only as it switches away (seen as CPU
	 * time short of wait4's in the lab VM).  x86-64 keeps loads in
	 * order: no read barrier is needed between them.
	 */
	done = task_done(task);
	read_counters(task, o);
	o->start_ns = BPF_CORE_READ(task, start_time);
	o->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_probe_read_kernel_str(o->comm, sizeof(o->comm), &task->comm);
	o->flags |= VMPROF_BPF_FOUND;
	if (done)
		o->flags |= VMPROF_BPF_DONE;
}

/*
 * If o->pid no longer leads to the registered process (reaped; or its pid
 * reused), and the held map keeps its leader (hold): its final counts,
 * which __exit_signal() has moved into the signal struct the reference
 * keeps, the leader's own included, once no thread is left.  Under
 * bpf_rcu_read_lock(), which the kptr's load wants.
 */
static __always_inline void read_held(struct vmprof_bpf_out *o)
{
	unsigned long long want = o->want_start_ns;
	struct signal_struct *sig;
	struct held_task *h;
	struct task_struct *p;
	__u32 pid = o->pid;

	if ((o->flags & VMPROF_BPF_FOUND) && o->tgid == pid &&
	    (!want || o->start_ns == want))
		return;		/* it lives (or is a zombie) */
	h = bpf_map_lookup_elem(&held, &pid);
	if (!h)
		return;
	p = h->task;
	if (!p)
		return;
	sig = BPF_CORE_READ(p, signal);
	if (BPF_CORE_READ(sig, nr_threads))
		return;		/* not every thread released yet */
	__builtin_memset(o, 0, sizeof(*o));
	o->pid = o->tgid = pid;
	o->want_start_ns = want;
	o->start_ns = BPF_CORE_READ(p, start_time);
	o->flags = VMPROF_BPF_FINAL;
	o->cpu_ns = BPF_CORE_READ(sig, sum_sched_runtime);
	o->min_flt = BPF_CORE_READ(sig, min_flt);
	o->maj_flt = BPF_CORE_READ(sig, maj_flt);
	bpf_probe_read_kernel_str(o->comm, sizeof(o->comm), &p->comm);
}

/* The slot of the i-th pid of this run, its input kept, the rest cleared. */
static __always_inline struct vmprof_bpf_out *slot(__u32 i)
{
	unsigned long long want;
	struct vmprof_bpf_out *o;
	__u32 k = first + i;
	unsigned int pid;

	if (k >= VMPROF_BPF_MAX_PROCS)
		return NULL;
	o = &out[k];
	pid = o->pid;
	want = o->want_start_ns;
	__builtin_memset(o, 0, sizeof(*o));
	o->pid = pid;
	o->want_start_ns = want;
	return o;
}

static __always_inline unsigned int run_count(void)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	unsigned int n = count;

	self_tgid = BPF_CORE_READ(cur, tgid);

	return n < VMPROF_BPF_MAX_PROCS ? n : VMPROF_BPF_MAX_PROCS;
}

/* --------------------------------------------------------- tick_syscall */

static long syscall_one(__u32 i, void *ctx)
{
	struct vmprof_bpf_out *o = slot(i);
	struct task_struct *task;

	if (!o)
		return 1;
	bpf_rcu_read_lock();
	task = bpf_task_from_pid(o->pid);
	if (task) {
		sample(task, o);
		bpf_task_release(task);
	}
	if (hold_on)
		read_held(o);
	bpf_rcu_read_unlock();
	return 0;
}

SEC("syscall")
int tick_syscall(void *ctx)
{
	bpf_loop(run_count(), syscall_one, NULL, 0);
	return 0;
}

/* ----------------------------------------------------------- tick_rawtp */

#define RADIX_INTERNAL	2UL	/* RADIX_TREE_INTERNAL_NODE */
#define RADIX_RETRY	0x402UL	/* xa_mk_internal(256): being changed */

static __always_inline int radix_node(unsigned long long e)
{
	return (e & 3) == RADIX_INTERNAL;
}

/* idr_find(&init_pid_ns.idr, nr), then pid_task(pid, PIDTYPE_PID): the
 * thread (or leader) of that id. */
static __always_inline struct task_struct *find_task(struct pid_namespace *ns,
						     __u32 nr)
{
	unsigned long long e, node, idx, slots_off, nslots, links_off;
	struct hlist_node *head;
	unsigned int shift;
	struct pid *pid;

	idx = nr - BPF_CORE_READ(ns, idr.idr_base);
	e = (unsigned long long)BPF_CORE_READ(ns, idr.idr_rt.xa_head);
	slots_off = bpf_core_field_offset(struct xa_node, slots);
	nslots = bpf_core_field_size(struct xa_node, slots) / 8;
	if (radix_node(e)) {
		node = e - RADIX_INTERNAL;
		shift = BPF_CORE_READ((struct xa_node *)node, shift);
		if (shift > 56 || idx > (nslots << shift) - 1)
			return NULL;
	} else if (idx) {
		return NULL;
	}
	for (int depth = 0; depth < 8 && radix_node(e); depth++) {
		if (e == RADIX_RETRY)
			return NULL;	/* the next tick finds it */
		node = e - RADIX_INTERNAL;
		shift = BPF_CORE_READ((struct xa_node *)node, shift);
		bpf_probe_read_kernel(&e, sizeof(e),
				      (void *)(node + slots_off +
					       ((idx >> (shift & 63)) &
						(nslots - 1)) * 8));
		if (!shift)
			break;
	}
	if (!e || (e & 3))
		return NULL;
	pid = (struct pid *)e;
	head = BPF_CORE_READ(pid, tasks[PIDTYPE_PID].first);
	if (!head)
		return NULL;	/* released: a reaped process */
	links_off = bpf_core_field_offset(struct task_struct, pid_links) +
		    bpf_core_enum_value(enum pid_type, PIDTYPE_PID) *
		    bpf_core_type_size(struct hlist_node);
	return (struct task_struct *)((unsigned long long)head - links_off);
}

/* The initial pid namespace: level 0 of the caller's struct pid. */
static __always_inline struct pid_namespace *root_ns(void)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(cur, thread_pid, numbers[0].ns);
}

static long rawtp_one(__u32 i, void *ctx)
{
	struct vmprof_bpf_out *o = slot(i);
	struct task_struct *task;

	if (!o)
		return 1;
	task = find_task(*(struct pid_namespace **)ctx, o->pid);
	if (task)
		sample(task, o);
	return 0;
}

SEC("raw_tp")
int tick_rawtp(void *ctx)
{
	struct pid_namespace *ns = root_ns();

	bpf_loop(run_count(), rawtp_one, &ns, 0);
	return 0;
}

/* ---------------------------------------------------------- fork, free */

/* Keep a reference to @t, the leader of process @tgid, in held: 0, or
 * -1 when it could not be kept (an entry there already is another
 * registration's). */
static __always_inline int hold(__u32 tgid, struct task_struct *t)
{
	struct held_task zero = {}, *h;
	struct task_struct *old;

	if (bpf_map_update_elem(&held, &tgid, &zero, BPF_NOEXIST))
		return -1;
	h = bpf_map_lookup_elem(&held, &tgid);
	if (!h)
		return -1;
	t = bpf_task_acquire(t);
	if (!t) {
		bpf_map_delete_elem(&held, &tgid);
		return -1;
	}
	old = bpf_kptr_xchg(&h->task, t);
	if (old)
		bpf_task_release(old);
	return 0;
}

/* Register @child, forked by @parent, if @parent's children are to be;
 * with @keep, hold it too. */
static __always_inline void fork_one(struct task_struct *parent,
				     struct task_struct *child, int keep)
{
	struct vmprof_bpf_reg *pr, r = { .inherit = 1 };
	__u32 ptgid = parent->tgid, tgid = child->tgid;
	struct vmprof_bpf_fork *e;
	long err;

	if (!child || !parent || child->pid != tgid)
		return;		/* a thread */
	pr = bpf_map_lookup_elem(&reg, &ptgid);
	if (!pr || !pr->inherit)
		return;
	r.start_ns = child->start_time;
	e = bpf_ringbuf_reserve(&forks, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&fork_dropped, 1);
		return;
	}
	/* Registered already (a reused pid whose last record is still to
	 * come): not followed, and its reference is not ours to replace. */
	if (keep && (bpf_map_lookup_elem(&reg, &tgid) || hold(tgid, child))) {
		bpf_ringbuf_discard(e, 0);
		__sync_fetch_and_add(&fork_dropped, 1);
		return;
	}
	/* Not over a registration of its own (a pid in reg is sampled). */
	err = bpf_map_update_elem(&reg, &tgid, &r, BPF_NOEXIST);
	if (err) {
		if (keep)	/* the reference hold() took */
			bpf_map_delete_elem(&held, &tgid);
		bpf_ringbuf_discard(e, 0);
		if (err != -EEXIST)
			__sync_fetch_and_add(&fork_dropped, 1);
		return;
	}
	e->time_ns = bpf_ktime_get_ns();
	e->start_ns = r.start_ns;
	e->pid = tgid;
	e->ppid = ptgid;
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	fork_one(parent, child, 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork_hold, struct task_struct *parent,
	     struct task_struct *child)
{
	fork_one(parent, child, 1);
	return 0;
}

/* Hold the leader of registered process hold_tgid; its address goes to
 * its reg entry. */
SEC("syscall")
int hold_pid(void *ctx)
{
	__u32 tgid = hold_tgid;
	struct vmprof_bpf_reg *r = bpf_map_lookup_elem(&reg, &tgid);
	struct task_struct *t;

	hold_ok = 0;
	if (!r)
		return 0;
	t = bpf_task_from_pid(tgid);
	if (!t)
		return 0;
	if (t->tgid == tgid && t->start_time == r->start_ns)
		hold_ok = !hold(tgid, t);
	bpf_task_release(t);
	return 0;
}

/* The final counts of registered process @tgid, leader @p, into finals. */
static __always_inline void keep_final(struct task_struct *p, __u32 tgid,
				       unsigned long long cpu,
				       unsigned long long minf,
				       unsigned long long majf)
{
	struct vmprof_bpf_out o;

	__builtin_memset(&o, 0, sizeof(o));
	o.pid = tgid;
	o.tgid = tgid;
	o.start_ns = BPF_CORE_READ(p, start_time);
	o.ppid = BPF_CORE_READ(p, real_parent, tgid);
	o.flags = VMPROF_BPF_DONE;
	o.cpu_ns = cpu;
	o.min_flt = minf;
	o.maj_flt = majf;
	bpf_probe_read_kernel_str(o.comm, sizeof(o.comm), &p->comm);
	/*
	 * A hash map's update can fail where a bucket's lock is not had in
	 * time (rqspinlock, 6.15+: on a host that preempts its vCPUs, the
	 * holder's CPU may not run), and a final count lost is a process
	 * REAPED: try again, a few times, and count what still failed.
	 */
	for (int i = 0; i < 4; i++)
		if (!bpf_map_update_elem(&finals, &tgid, &o, BPF_ANY))
			return;
	__sync_fetch_and_add(&finals_failed, 1);
}

/* Is @p the leader of a registered process (not a reused pid's)? */
static __always_inline int registered_leader(struct task_struct *p, __u32 tgid)
{
	struct vmprof_bpf_reg *r;

	if (BPF_CORE_READ(p, pid) != tgid)
		return 0;	/* a thread, or an old leader an exec replaced */
	r = bpf_map_lookup_elem(&reg, &tgid);
	return r && (!r->start_ns || r->start_ns == BPF_CORE_READ(p, start_time));
}

/*
 * The leader is reaped: every other thread has been released and has
 * added its counts to the signal struct; the leader's own are in its task
 * until __exit_signal() moves them.  Their sum is the final count, now.
 */
SEC("fentry/release_task")
int BPF_PROG(on_release, struct task_struct *p)
{
	struct signal_struct *sig = BPF_CORE_READ(p, signal);
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (!registered_leader(p, tgid) || BPF_CORE_READ(sig, nr_threads) != 1)
		return 0;
	keep_final(p, tgid,
		   BPF_CORE_READ(sig, sum_sched_runtime) +
		   BPF_CORE_READ(p, se.sum_exec_runtime),
		   BPF_CORE_READ(sig, min_flt) + BPF_CORE_READ(p, min_flt),
		   BPF_CORE_READ(sig, maj_flt) + BPF_CORE_READ(p, maj_flt));
	return 0;
}

/*
 * Where on_release cannot attach: a leader is freed an RCU grace period
 * after release_task(), once it is
 * reaped; by then __exit_signal() has added every thread's counts, the
 * leader's too, to the signal struct, which the task still references.
 */
SEC("tp_btf/sched_process_free")
int BPF_PROG(on_free, struct task_struct *p)
{
	struct signal_struct *sig = p->signal;
	__u32 tgid = p->tgid;

	if (!registered_leader(p, tgid) || BPF_CORE_READ(sig, nr_threads))
		return 0;
	keep_final(p, tgid, BPF_CORE_READ(sig, sum_sched_runtime),
		   BPF_CORE_READ(sig, min_flt), BPF_CORE_READ(sig, maj_flt));
	return 0;
}
