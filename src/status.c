// SPDX-License-Identifier: GPL-2.0
/*
 * The procfs front-end: /proc/vmprof/status (register, unregister, list)
 * and /proc/vmprof/stats.  The registry itself is registry.c.
 *
 * A write holds exactly one command, "R <pid>", "R <pid> +" or "U <pid>",
 * optionally surrounded by blanks and ended by one newline.  Anything else
 * fails with EINVAL before any state changes.
 */
#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/threads.h>
#include <linux/uaccess.h>

#include "vmprof_mod.h"

/**
 * vmprof_parse() - parse one status command
 * @buf: the bytes written, NUL-terminated by the caller at @len
 * @len: number of bytes written
 * @op:	 'R' or 'U' on success
 * @nr:	 the pid on success
 * @inherit: on success, whether "R" ended with "+" (its children too)
 *
 * Return: 0, or -EINVAL if any byte does not fit the grammar.
 */
static int vmprof_parse(const char *buf, size_t len, char *op, pid_t *nr,
			bool *inherit)
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
	*inherit = false;
	if (*op == 'R' && s < end && *s == '+') {
		/* At least one blank between the pid and '+'. */
		if (s[-1] != ' ' && s[-1] != '\t')
			return -EINVAL;
		*inherit = true;
		s++;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
	}
	if (s != end)
		return -EINVAL;
	if (kstrtoint(num, 10, &val) || val <= 0 || val > PID_MAX_LIMIT)
		return -EINVAL;
	*nr = val;
	return 0;
}

static ssize_t vmprof_status_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	char buf[VMPROF_CMD_MAX];
	bool inherit;
	pid_t nr;
	char op;
	int err;

	if (count == 0 || count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	err = vmprof_parse(buf, count, &op, &nr, &inherit);
	if (err)
		return err;
	if (op == 'R')
		err = vmprof_register(&vmprof, file, nr, inherit);
	else
		err = vmprof_unregister(&vmprof, file, nr);
	return err ? err : count;
}

static int vmprof_status_show(struct seq_file *m, void *v)
{
	struct vmprof *vp = m->private;
	struct vmprof_proc *p;

	mutex_lock(&vp->lock);
	vmprof_adopt_locked(vp);
	list_for_each_entry(p, &vp->procs, node)
		if (!READ_ONCE(p->gone))
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

	vmprof_ring_ask(vp);
	spin_lock(&vp->ring_lock);
	vmprof_ring_got(vp);
	s = vp->stats;
	head = vp->hdr->head;
	spin_unlock(&vp->ring_lock);
	nr = READ_ONCE(vp->nr_procs);

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
	seq_printf(m, "last_deferred %llu\n", s.last_deferred);
	seq_printf(m, "fork_hook %d\n", !!vp->fork_hook);
	seq_printf(m, "inheriting %d\n", atomic_read(&vp->nr_inherit));
	seq_printf(m, "inherited %ld\n", atomic_long_read(&vp->inherited));
	seq_printf(m, "inherit_refused %ld\n",
		   atomic_long_read(&vp->inherit_refused));
	seq_printf(m, "inherit_dropped %ld\n",
		   atomic_long_read(&vp->inherit_dropped));
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
