// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/vmprof/status (register, unregister, list) and
 * /proc/vmprof/stats.
 *
 * A write holds exactly one command, "R <pid>" or "U <pid>", optionally
 * surrounded by blanks and ended by one newline.  Anything else fails with
 * EINVAL before any state changes.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/pid.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/threads.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "vmprof_mod.h"

/**
 * vmprof_parse() - parse one status command
 * @buf: the bytes written, NUL-terminated by the caller at @len
 * @len: number of bytes written
 * @op:	 'R' or 'U' on success
 * @nr:	 the pid on success
 *
 * Return: 0, or -EINVAL if any byte does not fit the grammar.
 */
static int vmprof_parse(const char *buf, size_t len, char *op, pid_t *nr)
{
	const char *s = buf, *end = buf + len, *digits;
	char num[12];
	int val;

	if (len && end[-1] == '\n')
		end--;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end || (*s != 'R' && *s != 'U'))
		return -EINVAL;
	*op = *s++;
	if (s == end || (*s != ' ' && *s != '\t'))
		return -EINVAL;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	digits = s;
	while (s < end && isdigit(*s))
		s++;
	if (s == digits || s - digits >= sizeof(num))
		return -EINVAL;
	memcpy(num, digits, s - digits);
	num[s - digits] = '\0';
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s != end)
		return -EINVAL;
	if (kstrtoint(num, 10, &val) || val <= 0 || val > PID_MAX_LIMIT)
		return -EINVAL;
	*nr = val;
	return 0;
}

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

static struct vmprof_proc *vmprof_lookup(struct vmprof *vp, struct pid *pid)
{
	struct vmprof_proc *p;

	list_for_each_entry(p, &vp->procs, node)
		if (p->pid == pid)
			return p;
	return NULL;
}

static int vmprof_register(struct vmprof *vp, struct file *file, pid_t nr)
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

	mutex_lock(&vp->lock);
	err = -EEXIST;
	if (vmprof_lookup(vp, pid))
		goto err_unlock;
	err = -ENOSPC;
	if (vp->nr_procs >= vmprof_max_pids())
		goto err_unlock;
	/* The baseline: the first record covers only what follows "R". */
	p->last_ns = ktime_get_ns();
	vmprof_read_counters(task, &p->last);
	list_add_tail(&p->node, &vp->procs);
	vp->nr_procs++;
	WRITE_ONCE(vp->hdr->nr_pids, vp->nr_procs);
	vmprof_start_locked(vp);
	mutex_unlock(&vp->lock);
	put_task_struct(task);
	return 0;

err_unlock:
	mutex_unlock(&vp->lock);
	kfree(p);
err_put:
	put_pid(pid);
	put_task_struct(task);
	return err;
}

static int vmprof_unregister(struct vmprof *vp, struct file *file, pid_t nr)
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
		vmprof_sample_final(vp, p, VMPROF_REC_UNREGISTERED);
		vmprof_proc_remove(vp, p);
	} else {
		err = -ENOENT;
	}
	mutex_unlock(&vp->lock);
out:
	put_pid(pid);
	put_task_struct(task);
	return err;
}

static ssize_t vmprof_status_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	char buf[VMPROF_CMD_MAX];
	pid_t nr;
	char op;
	int err;

	if (count == 0 || count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	err = vmprof_parse(buf, count, &op, &nr);
	if (err)
		return err;
	if (op == 'R')
		err = vmprof_register(&vmprof, file, nr);
	else
		err = vmprof_unregister(&vmprof, file, nr);
	return err ? err : count;
}

static int vmprof_status_show(struct seq_file *m, void *v)
{
	struct vmprof *vp = m->private;
	struct vmprof_proc *p;

	mutex_lock(&vp->lock);
	list_for_each_entry(p, &vp->procs, node)
		seq_printf(m, "%u\n", p->nr);
	mutex_unlock(&vp->lock);
	return 0;
}

static int vmprof_status_open(struct inode *inode, struct file *file)
{
	return single_open(file, vmprof_status_show, &vmprof);
}

static const struct proc_ops vmprof_status_ops = {
	.proc_open = vmprof_status_open,
	.proc_read = seq_read,
	.proc_write = vmprof_status_write,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

static int vmprof_stats_show(struct seq_file *m, void *v)
{
	struct vmprof *vp = m->private;
	struct vmprof_stats s;
	unsigned int nr;
	u64 head;

	mutex_lock(&vp->lock);
	s = vp->stats;
	nr = vp->nr_procs;
	head = vp->hdr->head;
	mutex_unlock(&vp->lock);

	seq_printf(m, "ticks %llu\n", s.ticks);
	seq_printf(m, "records %llu\n", s.records);
	seq_printf(m, "head %llu\n", head);
	seq_printf(m, "capacity %llu\n", vp->capacity);
	seq_printf(m, "registered %u\n", nr);
	seq_printf(m, "max_pids %u\n", vmprof_max_pids());
	seq_printf(m, "period_ms %u\n", vmprof_period_ms());
	seq_printf(m, "overruns %llu\n", s.overruns);
	seq_printf(m, "samples %llu\n", s.samples);
	seq_printf(m, "cost_last_ns %llu\n", s.cost_last_ns);
	seq_printf(m, "cost_max_ns %llu\n", s.cost_max_ns);
	seq_printf(m, "cost_total_ns %llu\n", s.cost_total_ns);
	seq_printf(m, "cost_per_sample_ns %llu\n",
		   s.samples ? div64_u64(s.cost_total_ns, s.samples) : 0);
	return 0;
}

static int vmprof_stats_open(struct inode *inode, struct file *file)
{
	return single_open(file, vmprof_stats_show, &vmprof);
}

static const struct proc_ops vmprof_stats_ops = {
	.proc_open = vmprof_stats_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

/**
 * vmprof_proc_init() - create /proc/vmprof and its files
 * @vp: the instance
 *
 * Return: 0 or -ENOMEM.
 */
int vmprof_proc_init(struct vmprof *vp)
{
	vp->proc_dir = proc_mkdir(VMPROF_PROC_DIR, NULL);
	if (!vp->proc_dir)
		return -ENOMEM;
	/*
	 * World-writable by design: any user may register the processes
	 * vmprof_may_watch() lets them watch, as with kill(2).
	 */
	if (!proc_create("status", 0666, vp->proc_dir, &vmprof_status_ops) ||
	    !proc_create("stats", 0444, vp->proc_dir, &vmprof_stats_ops)) {
		proc_remove(vp->proc_dir);
		return -ENOMEM;
	}
	return 0;
}

/* Remove /proc/vmprof; waits for writers in progress to finish. */
void vmprof_proc_exit(struct vmprof *vp)
{
	proc_remove(vp->proc_dir);
}

/**
 * vmprof_proc_remove() - take a process off the list and free it
 * @vp: the instance
 * @p:	the process, whose last record (if any) is already written
 *
 * The one way a process leaves: the sampler when it is gone, U, and the
 * module's exit.  Caller holds @vp->lock.
 */
void vmprof_proc_remove(struct vmprof *vp, struct vmprof_proc *p)
{
	lockdep_assert_held(&vp->lock);
	list_del(&p->node);
	vp->nr_procs--;
	put_pid(p->pid);
	kfree(p);
}

/**
 * vmprof_free_procs() - forget every process, once sampling has stopped
 * @vp: the instance
 *
 * Takes @vp->lock: the work that also takes it is cancelled by then.
 */
void vmprof_free_procs(struct vmprof *vp)
{
	struct vmprof_proc *p, *tmp;

	mutex_lock(&vp->lock);
	list_for_each_entry_safe(p, tmp, &vp->procs, node)
		vmprof_proc_remove(vp, p);
	vp->running = false;
	mutex_unlock(&vp->lock);
}
