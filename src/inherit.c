// SPDX-License-Identifier: GPL-2.0
/*
 * Process trees: "R <pid> +" registers a process and, from then on, every
 * process it forks, and every process those fork, in the kernel at fork,
 * so that a child is sampled from its first instruction.
 *
 * The hook is the sched_process_fork tracepoint, which kernel_clone() hits
 * once the child is complete and before it first runs.  The tracepoint is
 * not exported to modules, but for_each_kernel_tracepoint() finds it and
 * tracepoint_probe_register() attaches to it, as tracers outside the tree
 * do.  The probe runs with preemption disabled (PREEMPT_RT included), so it
 * takes no sleeping lock and allocates nothing: it takes its entry from a
 * pool allocated ahead, enters it in the hash under a raw spinlock (so that
 * what the child forks before it is adopted is followed too), and leaves it
 * to a work item to put it on the sampler's list, under the registry's
 * mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>
#include <trace/events/sched.h>

#include "vmprof_mod.h"

#define VMPROF_FORK_TRACEPOINT	"sched_process_fork"

/*
 * The probe's type is the tracepoint's, checked at build time against the
 * kernel's own declaration: if a kernel changes the tracepoint's arguments,
 * the module does not build, rather than call the probe with the wrong ones.
 */
static_assert(__same_type(register_trace_sched_process_fork,
			  vmprof_fork_register_type),
	      "sched_process_fork's arguments differ from vmprof_fork_probe()'s");

/* Take an entry from the pool, and have it refilled below half. */
static struct vmprof_proc *vmprof_pool_get(struct vmprof *vp)
{
	struct llist_node *n;
	unsigned int left;

	raw_spin_lock(&vp->pool_lock);
	n = vp->pool;
	if (n) {
		vp->pool = n->next;
		vp->pool_count--;
	}
	left = vp->pool_count;
	raw_spin_unlock(&vp->pool_lock);
	if (left < VMPROF_POOL_SIZE / 2)
		queue_work(system_wq, &vp->pool_work);
	return n ? llist_entry(n, struct vmprof_proc, birth) : NULL;
}

/**
 * vmprof_pool_fill() - allocate the fork hook's entries ahead
 * @vp: the instance
 *
 * Called by "R <pid> +" before it registers, and by @vp->pool_work.
 *
 * Return: 0, or -ENOMEM if the pool could not be filled.
 */
int vmprof_pool_fill(struct vmprof *vp)
{
	for (;;) {
		struct vmprof_proc *p;
		bool full;

		raw_spin_lock(&vp->pool_lock);
		full = vp->pool_count >= VMPROF_POOL_SIZE;
		raw_spin_unlock(&vp->pool_lock);
		if (full)
			return 0;
		p = kzalloc(sizeof(*p), GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		raw_spin_lock(&vp->pool_lock);
		p->birth.next = vp->pool;
		vp->pool = &p->birth;
		vp->pool_count++;
		raw_spin_unlock(&vp->pool_lock);
	}
}

/**
 * vmprof_pool_work() - refill the pool the fork hook takes from
 * @work: vmprof.pool_work
 */
void vmprof_pool_work(struct work_struct *work)
{
	struct vmprof *vp = container_of(work, struct vmprof, pool_work);

	/* On failure the hook drops forks and counts them; nothing to add. */
	vmprof_pool_fill(vp);
}

static void vmprof_pool_free(struct vmprof *vp)
{
	struct llist_node *n = vp->pool;

	while (n) {
		struct llist_node *next = n->next;

		kfree(llist_entry(n, struct vmprof_proc, birth));
		n = next;
	}
	vp->pool = NULL;
	vp->pool_count = 0;
}

/*
 * The fork hook: @parent (the task that called fork(), clone() or vfork())
 * has made @child, which has not run yet.  Preemption is disabled.
 */
static void vmprof_fork_probe(void *data, struct task_struct *parent,
			      struct task_struct *child)
{
	struct vmprof *vp = data;
	struct vmprof_proc *pp, *p;

	/* Nobody asked for trees: the cost of every fork is this test. */
	if (likely(!atomic_read(&vp->nr_inherit)))
		return;
	/* A new thread belongs to a process that is watched or not. */
	if (!thread_group_leader(child))
		return;

	rcu_read_lock();
	pp = vmprof_lookup_rcu(vp, task_tgid(parent));
	if (!pp || !pp->inherit)
		goto out;
	if (!vmprof_take_slot(vp)) {
		atomic_long_inc(&vp->inherit_refused);
		goto out;
	}
	p = vmprof_pool_get(vp);
	if (!p) {
		atomic_dec(&vp->nr_slots);
		atomic_long_inc(&vp->inherit_dropped);
		goto out;
	}
	/*
	 * The child's counters, and those of its new signal struct, are all
	 * zero: the baseline is zero, and its first record covers everything
	 * it did since now.
	 */
	p->pid = get_pid(task_tgid(child));
	get_task_struct(child);
	p->task = child;
	p->ns = get_pid_ns(pp->ns);
	p->nr = pid_nr_ns(p->pid, p->ns);
	p->ppid = pp->nr;
	p->inherit = true;
	p->last_ns = ktime_get_ns();
	INIT_LIST_HEAD(&p->last_node);
	/* Counted before it is visible: a "U" of it may come at once. */
	atomic_inc(&vp->nr_inherit);
	if (vmprof_hash_add(vp, p, true)) {
		/* "R <child>" won the race: it is watched already. */
		atomic_dec(&vp->nr_inherit);
		atomic_dec(&vp->nr_slots);
		vmprof_proc_free_later(vp, p);
		goto out;
	}
	atomic_long_inc(&vp->inherited);
	queue_work(system_wq, &vp->adopt_work);
out:
	rcu_read_unlock();
}

static void vmprof_find_tracepoint(struct tracepoint *tp, void *priv)
{
	struct tracepoint **found = priv;

	if (!strcmp(tp->name, VMPROF_FORK_TRACEPOINT))
		*found = tp;
}

/**
 * vmprof_inherit_init() - attach the fork hook
 * @vp: the instance
 *
 * A kernel without the tracepoint (CONFIG_TRACEPOINTS off) loads the module
 * all the same, without process trees: "R <pid> +" fails with EOPNOTSUPP.
 *
 * Return: 0, or the error of tracepoint_probe_register().
 */
int vmprof_inherit_init(struct vmprof *vp)
{
	struct tracepoint *tp = NULL;
	int err;

	for_each_kernel_tracepoint(vmprof_find_tracepoint, &tp);
	if (!tp) {
		pr_notice("no %s tracepoint: process trees (R <pid> +) unavailable\n",
			  VMPROF_FORK_TRACEPOINT);
		return 0;
	}
	err = tracepoint_probe_register(tp, (void *)vmprof_fork_probe, vp);
	if (err) {
		pr_err("cannot attach to %s: %d\n", VMPROF_FORK_TRACEPOINT, err);
		return err;
	}
	vp->fork_hook = tp;
	return 0;
}

/**
 * vmprof_inherit_exit() - detach the fork hook and free its pool
 * @vp: the instance; nothing registers any more
 *
 * After it no probe runs, and the works it queued have finished; the
 * entries the probe added are on @vp->births or the list, for
 * vmprof_free_procs().  Not under @vp->lock, which the adopt work takes.
 */
void vmprof_inherit_exit(struct vmprof *vp)
{
	if (vp->fork_hook) {
		tracepoint_probe_unregister(vp->fork_hook,
					    (void *)vmprof_fork_probe, vp);
		/* Waits for the probes running on other CPUs. */
		tracepoint_synchronize_unregister();
		vp->fork_hook = NULL;
	}
	cancel_work_sync(&vp->pool_work);
	cancel_work_sync(&vp->adopt_work);
	vmprof_pool_free(vp);
}
