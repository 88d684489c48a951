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

/*
 * The entry of @pid, ignoring one whose last record is written (exited,
 * and not yet taken off by the end of the tick that saw it exit).
 */
static struct vmprof_proc *vmprof_lookup(struct vmprof *vp, struct pid *pid)
{
	struct vmprof_proc *p;

	lockdep_assert_held(&vp->lock);
	hash_for_each_possible(vp->by_pid, p, hnode, (unsigned long)pid)
		if (p->pid == pid && !READ_ONCE(p->gone))
			return p;
	return NULL;
}

static void vmprof_proc_free(struct vmprof_proc *p)
{
	if (p->mm)
		mmdrop(p->mm);
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

static void vmprof_proc_free_rcu(struct rcu_head *head)
{
	struct vmprof_proc *p = container_of(head, struct vmprof_proc, rcu);

	if (llist_add(&p->free, &vmprof.free_list))
		schedule_work(&vmprof.free_work);
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
	hash_del(&p->hnode);
	WRITE_ONCE(vp->nr_procs, vp->nr_procs - 1);
	call_rcu(&p->rcu, vmprof_proc_free_rcu);
}

/**
 * vmprof_register() - start watching a process
 * @vp:	  the instance
 * @file: the file the request came through (its opener must be allowed too)
 * @nr:	  a pid or thread id in the writer's pid namespace
 *
 * Return: 0; -ESRCH if there is no such live process, -EPERM if the opener
 * or the writer may not watch it, -EEXIST if it is watched already,
 * -ENOSPC at max_pids, -ENOMEM.
 */
int vmprof_register(struct vmprof *vp, struct file *file, pid_t nr)
{
	struct task_struct *task;
	struct vmprof_proc *p;
	struct pid *pid;
	int err;

	pid = vmprof_find_group(nr, true, &task);
	if (!pid)
		return -ESRCH;
	err = -EPERM;
	if (!vmprof_may_watch(file, task))
		goto err_put;
	err = -ENOMEM;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		goto err_put;
	p->pid = pid;
	p->nr = pid_vnr(pid);
	INIT_LIST_HEAD(&p->last_node);
	vmprof_track_mm(p, task);

	mutex_lock(&vp->lock);
	err = -EEXIST;
	if (vmprof_lookup(vp, pid))
		goto err_unlock;
	err = -ENOSPC;
	if (vp->nr_procs >= vmprof_max_pids())
		goto err_unlock;
	/*
	 * The baseline: the first record covers only what follows "R".  The
	 * sampler sees none of it before list_add_tail_rcu() publishes it.
	 */
	p->last_ns = ktime_get_ns();
	rcu_read_lock();
	vmprof_read_counters(task, &p->last);
	rcu_read_unlock();
	list_add_tail_rcu(&p->node, &vp->procs);
	hash_add(vp->by_pid, &p->hnode, (unsigned long)pid);
	WRITE_ONCE(vp->nr_procs, vp->nr_procs + 1);
	WRITE_ONCE(vp->hdr->nr_pids, vp->nr_procs);
	vmprof_start_locked(vp);
	mutex_unlock(&vp->lock);
	put_task_struct(task);
	return 0;

err_unlock:
	mutex_unlock(&vp->lock);
	vmprof_proc_free(p);	/* puts the pid and the mm */
	pid = NULL;
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
	p = vmprof_lookup(vp, pid);
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
 * Takes @vp->lock: the work that also takes it is cancelled by then.  Waits
 * for the frees it queues (and those of earlier removals) to finish, and
 * for the mm drops the sampler deferred through RCU, so that none runs
 * after the module is gone.
 */
void vmprof_free_procs(struct vmprof *vp)
{
	struct vmprof_proc *p, *tmp;

	mutex_lock(&vp->lock);
	list_for_each_entry_safe(p, tmp, &vp->procs, node)
		vmprof_proc_del(vp, p);
	INIT_LIST_HEAD(&vp->exited);
	vp->running = false;
	mutex_unlock(&vp->lock);
	rcu_barrier();
	flush_work(&vp->free_work);
}
