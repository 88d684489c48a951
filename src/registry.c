// SPDX-License-Identifier: GPL-2.0
/*
 * The registry: the list of watched processes, who may add to it (the
 * rule of kill(2)), and the one way a process leaves it.  Its front-end is
 * /proc/vmprof/status (status.c); the sampler (sampler.c) walks the list.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/kernel.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "vmprof_mod.h"

/* The test of kill(2): a real or effective uid of ours is a real or saved
 * set-user-id of the target's.
 */
static bool vmprof_uid_match(const struct cred *c, const struct cred *t)
{
	return uid_eq(c->euid, t->suid) || uid_eq(c->euid, t->uid) ||
	       uid_eq(c->uid, t->suid) || uid_eq(c->uid, t->uid);
}

/*
 * May the opener of @file, and the task now writing to it, watch @task?
 * Both must pass, so a privileged program cannot be tricked into writing
 * a descriptor opened by someone else.  ptrace_may_access() is not exported
 * to modules; CAP_SYS_PTRACE in the target's user namespace overrides.
 */
static bool vmprof_may_watch(struct file *file, struct task_struct *task)
{
	const struct cred *tcred = get_task_cred(task);
	bool ok;

	ok = (vmprof_uid_match(file->f_cred, tcred) ||
	      file_ns_capable(file, tcred->user_ns, CAP_SYS_PTRACE)) &&
	     (vmprof_uid_match(current_cred(), tcred) ||
	      ns_capable(tcred->user_ns, CAP_SYS_PTRACE));
	put_cred(tcred);
	return ok;
}

/*
 * Resolve @nr in the writer's pid namespace to its thread group: a thread
 * id names its whole process, as with kill(2).  With @live, a process all
 * of whose threads have exited is not found.  On success *taskp holds a
 * reference to the group leader and the return value is a reference to the
 * group's struct pid.
 */
static struct pid *vmprof_find_group(pid_t nr, bool live,
				     struct task_struct **taskp)
{
	struct task_struct *task;
	struct pid *tgid;

	rcu_read_lock();
	task = pid_task(find_vpid(nr), PIDTYPE_PID);
	if (task)
		task = task->group_leader;
	if (!task || (live && !atomic_read(&task->signal->live))) {
		rcu_read_unlock();
		return NULL;
	}
	get_task_struct(task);
	rcu_read_unlock();

	tgid = get_task_pid(task, PIDTYPE_TGID);
	if (!tgid) {
		put_task_struct(task);
		return NULL;
	}
	*taskp = task;
	return tgid;
}

/**
 * vmprof_lookup_rcu() - the entry of a process
 * @vp:	 the instance
 * @pid: the thread group's struct pid
 *
 * Ignores an entry whose last record is written (exited, and not yet taken
 * off by the end of the tick that saw it exit).  The caller holds
 * rcu_read_lock() (the fork hook), @vp->hash_lock, or @vp->lock (which
 * every removal takes).
 *
 * Return: the entry, or NULL.
 */
struct vmprof_proc *vmprof_lookup_rcu(struct vmprof *vp, struct pid *pid)
{
	struct vmprof_proc *p;

	hash_for_each_possible_rcu(vp->by_pid, p, hnode, (unsigned long)pid,
				   lockdep_is_held(&vp->lock) ||
				   lockdep_is_held(&vp->hash_lock))
		if (p->pid == pid && !READ_ONCE(p->gone))
			return p;
	return NULL;
}

/**
 * vmprof_take_slot() - count one more entry against max_pids
 * @vp: the instance
 *
 * Lock-free, for the fork hook.  vmprof_proc_del() gives the slot back.
 *
 * Return: false at max_pids.
 */
bool vmprof_take_slot(struct vmprof *vp)
{
	int n = atomic_read(&vp->nr_slots);

	do {
		if (n >= (int)vmprof_max_pids())
			return false;
	} while (!atomic_try_cmpxchg(&vp->nr_slots, &n, n + 1));
	return true;
}

/**
 * vmprof_hash_add() - enter a process in the hash, unless it is there
 * @vp: the instance
 * @p:	the new entry, its @pid set
 * @birth: registered by the fork hook: also queue it for vmprof_adopt_locked()
 *
 * The check and the insertion are one step under @vp->hash_lock, so a
 * process that "R" and the fork hook both register at the same moment gets
 * one entry.  May be called with preemption disabled.
 *
 * Return: 0, or -EEXIST.
 */
int vmprof_hash_add(struct vmprof *vp, struct vmprof_proc *p, bool birth)
{
	int err = 0;

	raw_spin_lock(&vp->hash_lock);
	if (vmprof_lookup_rcu(vp, p->pid))
		err = -EEXIST;
	else
		hash_add_rcu(vp->by_pid, &p->hnode, (unsigned long)p->pid);
	if (!err && birth)
		llist_add(&p->birth, &vp->births);
	raw_spin_unlock(&vp->hash_lock);
	return err;
}

static void vmprof_proc_free(struct vmprof_proc *p)
{
	if (p->mm)
		mmdrop(p->mm);
	if (p->task)
		put_task_struct(p->task);
	if (p->ns)
		put_pid_ns(p->ns);
	put_pid(p->pid);
	kfree(p);
}

/**
 * vmprof_free_work() - free the processes taken off a grace period ago
 * @work: vmprof.free_work
 */
void vmprof_free_work(struct work_struct *work)
{
	struct vmprof *vp = container_of(work, struct vmprof, free_work);
	struct llist_node *list = llist_del_all(&vp->free_list);
	struct vmprof_proc *p, *tmp;

	llist_for_each_entry_safe(p, tmp, list, free)
		vmprof_proc_free(p);
}

/**
 * vmprof_proc_free_later() - free @p in process context, by vmprof.free_work
 * @vp: the instance
 * @p:	an entry no walk can see (any more)
 *
 * May be called in atomic context (the RCU callback, the fork hook).
 */
void vmprof_proc_free_later(struct vmprof *vp, struct vmprof_proc *p)
{
	if (llist_add(&p->free, &vp->free_list))
		queue_work(system_wq, &vp->free_work);
}

static void vmprof_proc_free_rcu(struct rcu_head *head)
{
	vmprof_proc_free_later(&vmprof,
			       container_of(head, struct vmprof_proc, rcu));
}

/*
 * Take @p off the list; it is freed once no walk of the sampler can still
 * see it.  The one way a process leaves: U, and the end of the tick that
 * found it exited.
 */
static void vmprof_proc_del(struct vmprof *vp, struct vmprof_proc *p)
{
	lockdep_assert_held(&vp->lock);
	list_del_rcu(&p->node);
	raw_spin_lock(&vp->hash_lock);
	hash_del_rcu(&p->hnode);
	raw_spin_unlock(&vp->hash_lock);
	if (p->inherit)
		atomic_dec(&vp->nr_inherit);
	atomic_dec(&vp->nr_slots);
	WRITE_ONCE(vp->nr_procs, vp->nr_procs - 1);
	call_rcu(&p->rcu, vmprof_proc_free_rcu);
}

/* Put @p on the sampler's list: from the next tick on, it is sampled. */
static void vmprof_list_add(struct vmprof *vp, struct vmprof_proc *p)
{
	lockdep_assert_held(&vp->lock);
	list_add_tail_rcu(&p->node, &vp->procs);
	WRITE_ONCE(vp->nr_procs, vp->nr_procs + 1);
	WRITE_ONCE(vp->hdr->nr_pids, vp->nr_procs);
}

/* Put @vp->births on the list; return whether there were any. */
static bool vmprof_take_births(struct vmprof *vp)
{
	struct llist_node *list;
	struct vmprof_proc *p, *tmp;

	lockdep_assert_held(&vp->lock);
	raw_spin_lock(&vp->hash_lock);
	list = llist_del_all(&vp->births);
	raw_spin_unlock(&vp->hash_lock);
	if (!list)
		return false;
	/* Oldest first, in fork order. */
	list = llist_reverse_order(list);
	llist_for_each_entry_safe(p, tmp, list, birth)
		vmprof_list_add(vp, p);
	return true;
}

/**
 * vmprof_adopt_locked() - put the processes registered at fork on the list
 * @vp: the instance, with @vp->lock held
 *
 * Until then the sampler does not see them; their baseline is their fork,
 * so their first record covers everything they did.  "U" and the status
 * file adopt them too, so that they see only listed entries ("R" finds
 * them in the hash, which is enough to refuse a second entry).
 */
void vmprof_adopt_locked(struct vmprof *vp)
{
	if (vmprof_take_births(vp))
		vmprof_start_locked(vp);
}

/**
 * vmprof_adopt_work() - adopt the processes the fork hook registered
 * @work: vmprof.adopt_work
 */
void vmprof_adopt_work(struct work_struct *work)
{
	struct vmprof *vp = container_of(work, struct vmprof, adopt_work);

	mutex_lock(&vp->lock);
	vmprof_adopt_locked(vp);
	mutex_unlock(&vp->lock);
}

/**
 * vmprof_register() - start watching a process
 * @vp:	  the instance
 * @file: the file the request came through (its opener must be allowed too)
 * @nr:	  a pid or thread id in the writer's pid namespace
 * @inherit: also watch every process it forks from now on, at fork ("R +")
 *
 * Return: 0; -ESRCH if there is no such live process, -EPERM if the opener
 * or the writer may not watch it, -EEXIST if it is watched already,
 * -ENOSPC at max_pids, -EOPNOTSUPP for @inherit on a kernel without the
 * sched_process_fork tracepoint, -ENOMEM.
 */
int vmprof_register(struct vmprof *vp, struct file *file, pid_t nr,
		    bool inherit)
{
	struct task_struct *task;
	struct vmprof_proc *p;
	struct pid *pid;
	int err;

	if (inherit && !vp->fork_hook)
		return -EOPNOTSUPP;
	pid = vmprof_find_group(nr, true, &task);
	if (!pid)
		return -ESRCH;
	err = -EPERM;
	if (!vmprof_may_watch(file, task))
		goto err_put;
	if (inherit) {
		/* The fork hook cannot allocate: fill its pool first. */
		err = vmprof_pool_fill(vp);
		if (err)
			goto err_put;
	}
	err = -ENOMEM;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		goto err_put;
	p->pid = pid;
	p->task = task;
	p->ns = get_pid_ns(task_active_pid_ns(current));
	p->nr = pid_nr_ns(pid, p->ns);
	rcu_read_lock();
	p->ppid = task_tgid_nr_ns(rcu_dereference(task->real_parent), p->ns);
	rcu_read_unlock();
	p->inherit = inherit;
	INIT_LIST_HEAD(&p->last_node);
	vmprof_track_mm(p, task);

	mutex_lock(&vp->lock);
	err = -ENOSPC;
	if (!vmprof_take_slot(vp))
		goto err_unlock;
	/*
	 * The baseline: the first record covers only what follows "R".  The
	 * sampler sees none of it before list_add_tail_rcu() publishes it.
	 */
	p->last_ns = ktime_get_ns();
	rcu_read_lock();
	vmprof_read_counters(task, &p->last);
	rcu_read_unlock();
	err = vmprof_hash_add(vp, p, false);
	if (err) {
		atomic_dec(&vp->nr_slots);
		goto err_unlock;
	}
	if (inherit)
		atomic_inc(&vp->nr_inherit);
	vmprof_list_add(vp, p);
	vmprof_start_locked(vp);
	mutex_unlock(&vp->lock);
	return 0;

err_unlock:
	mutex_unlock(&vp->lock);
	vmprof_proc_free(p);	/* puts the pid, the task, the ns and the mm */
	return err;
err_put:
	put_pid(pid);
	put_task_struct(task);
	return err;
}

/**
 * vmprof_unregister() - stop watching a process, writing its last record
 * @vp:	  the instance
 * @file: the file the request came through
 * @nr:	  a pid or thread id in the writer's pid namespace
 *
 * Return: 0; -ENOENT if it is not watched (or already reaped: the sampler
 * drops it at the next tick), -EPERM as for vmprof_register().
 */
int vmprof_unregister(struct vmprof *vp, struct file *file, pid_t nr)
{
	struct task_struct *task;
	struct vmprof_proc *p;
	struct pid *pid;
	int err = 0;

	/* An exited but unreaped process may still be unregistered. */
	pid = vmprof_find_group(nr, false, &task);
	if (!pid)
		return -ENOENT;	/* reaped: the sampler drops it next tick */
	if (!vmprof_may_watch(file, task)) {
		err = -EPERM;
		goto out;
	}

	mutex_lock(&vp->lock);
	p = vmprof_lookup_rcu(vp, pid);
	/*
	 * After the lookup: the fork hook may enter a child in the hash at
	 * any moment, and it puts it on vp->births in the same hash_lock
	 * section, so whatever the lookup found is listed once this drains
	 * vp->births.
	 */
	vmprof_adopt_locked(vp);
	if (p) {
		/* Keep what it did since the last tick. */
		err = vmprof_sample_last(vp, p);
		/*
		 * -ENOENT: a tick found it exited since the lookup, wrote its
		 * last record and put it on vp->exited; the end of that tick
		 * takes it off, and only that.
		 */
		if (!err) {
			vmprof_proc_del(vp, p);
			WRITE_ONCE(vp->hdr->nr_pids, vp->nr_procs);
		}
	} else {
		err = -ENOENT;
	}
	mutex_unlock(&vp->lock);
out:
	put_pid(pid);
	put_task_struct(task);
	return err;
}

/**
 * vmprof_remove_gone() - take off the list the processes a tick found exited
 * @vp: the instance, with @vp->lock held
 */
void vmprof_remove_gone(struct vmprof *vp)
{
	struct vmprof_proc *p, *tmp;
	LIST_HEAD(exited);

	lockdep_assert_held(&vp->lock);
	spin_lock(&vp->ring_lock);
	list_splice_init(&vp->exited, &exited);
	spin_unlock(&vp->ring_lock);
	list_for_each_entry_safe(p, tmp, &exited, last_node)
		vmprof_proc_del(vp, p);
	WRITE_ONCE(vp->hdr->nr_pids, vp->nr_procs);
}

/**
 * vmprof_free_procs() - forget every process, once sampling has stopped
 * @vp: the instance
 *
 * Takes @vp->lock: the works that also take it are cancelled by then, and
 * the fork hook is detached, so nothing adds to the list.  Waits
 * for the frees it queues (and those of earlier removals) to finish, and
 * for the mm drops the sampler deferred through RCU, so that none runs
 * after the module is gone.
 */
void vmprof_free_procs(struct vmprof *vp)
{
	struct vmprof_proc *p, *tmp;

	mutex_lock(&vp->lock);
	vmprof_take_births(vp);
	list_for_each_entry_safe(p, tmp, &vp->procs, node)
		vmprof_proc_del(vp, p);
	INIT_LIST_HEAD(&vp->exited);
	vp->running = false;
	mutex_unlock(&vp->lock);
	rcu_barrier();
	flush_work(&vp->free_work);
}
