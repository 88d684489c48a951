// SPDX-License-Identifier: GPL-2.0
/*
 * The periodic sampling work.
 *
 * While at least one process is registered, a delayed work item runs every
 * period_ms on an absolute schedule and appends, for each registered
 * process, the differences of its counters since its previous sample.
 *
 * CPU time is the scheduler's sum_exec_runtime (ns, exact at every context
 * switch and tick), summed over live threads plus what the signal struct
 * keeps for dead ones: what thread_group_cputime() computes, which is not
 * exported to modules.  For a thread running while it is sampled the figure
 * lags by at most one scheduler tick (4 ms at HZ=250), never by more, and
 * the lag is made up in the next sample.  Fault counts are those of
 * getrusage(RUSAGE_SELF) and /proc/<pid>/stat: per-thread min_flt and
 * maj_flt plus the signal struct's totals for dead threads.
 */
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "compat.h"
#include "vmprof_mod.h"

/**
 * vmprof_read_counters() - read a whole process's cumulative counters
 * @task: any thread of the process, referenced by the caller
 * @c:	  where to store them
 *
 * Consistent against concurrent thread exit thanks to signal->stats_lock,
 * which __exit_signal() holds while it moves a dying thread's counts into
 * the signal struct.
 */
void vmprof_read_counters(struct task_struct *task, struct vmprof_counters *c)
{
	struct signal_struct *sig = task->signal;
	struct task_struct *t;
	unsigned int seq;

	rcu_read_lock();
	do {
		/* Exits are rare next to ticks: plain lockless retries. */
		seq = read_seqbegin(&sig->stats_lock);
		c->cpu_ns = sig->sum_sched_runtime;
		c->min_flt = sig->min_flt;
		c->maj_flt = sig->maj_flt;
		for_each_thread(task, t) {
			c->cpu_ns += READ_ONCE(t->se.sum_exec_runtime);
			c->min_flt += READ_ONCE(t->min_flt);
			c->maj_flt += READ_ONCE(t->maj_flt);
		}
	} while (read_seqretry(&sig->stats_lock, seq));
	rcu_read_unlock();
}

static u64 vmprof_rss_kb(struct task_struct *task)
{
	struct mm_struct *mm = get_task_mm(task);
	unsigned long pages;

	if (!mm)
		return 0;
	pages = get_mm_counter(mm, MM_FILEPAGES) +
		get_mm_counter(mm, MM_ANONPAGES) +
		get_mm_counter(mm, MM_SHMEMPAGES);
	mmput(mm);
	return (u64)pages << (PAGE_SHIFT - 10);
}

static u64 vmprof_delta(u64 now, u64 then)
{
	return now > then ? now - then : 0;
}

/*
 * Append one record for @p covering [p->last_ns, now_ns] and advance its
 * baseline.  A NULL @c means the counters could not be read.
 */
static void vmprof_emit(struct vmprof *vp, struct vmprof_proc *p, u64 now_ns,
			const struct vmprof_counters *c, u64 rss_kb, u32 flags)
{
	struct vmprof_record rec = {
		.time_ns = now_ns,
		.interval_ns = vmprof_delta(now_ns, p->last_ns),
		.rss_kb = rss_kb,
		.pid = p->nr,
		.flags = flags,
	};

	if (c) {
		rec.cpu_ns = vmprof_delta(c->cpu_ns, p->last.cpu_ns);
		rec.min_flt = vmprof_delta(c->min_flt, p->last.min_flt);
		rec.maj_flt = vmprof_delta(c->maj_flt, p->last.maj_flt);
		p->last = *c;
	}
	p->last_ns = now_ns;
	vmprof_ring_write(vp, &rec);
}

/*
 * Sample one process at @now_ns.  Return true if it has exited, in which
 * case the record just written carries VMPROF_REC_EXITED and the caller
 * drops the process.
 */
static bool vmprof_sample(struct vmprof *vp, struct vmprof_proc *p, u64 now_ns,
			  u32 flags)
{
	struct task_struct *task = get_pid_task(p->pid, PIDTYPE_TGID);
	struct vmprof_counters c;
	u64 rss_kb;

	if (!task) {
		/* Exited and reaped between two ticks: the tail is gone. */
		vmprof_emit(vp, p, now_ns, NULL, 0,
			    flags | VMPROF_REC_EXITED | VMPROF_REC_REAPED);
		return true;
	}

	/*
	 * Final once the leader is a zombie, every other thread has been
	 * released and the leader has left its CPU for the last time: then
	 * the scheduler has charged its last slice (sum_exec_runtime of a
	 * running task lags until the next tick or switch), and do_exit()
	 * has torn down the memory.  signal->live reaches 0 much earlier.
	 */
	if (READ_ONCE(task->exit_state) && thread_group_empty(task) &&
	    vmprof_task_off_cpu(task))
		flags |= VMPROF_REC_EXITED;

	vmprof_read_counters(task, &c);
	rss_kb = vmprof_rss_kb(task);
	put_task_struct(task);

	vmprof_emit(vp, p, now_ns, &c, rss_kb, flags);
	return flags & VMPROF_REC_EXITED;
}

/**
 * vmprof_sample_final() - write the last record of a process leaving the list
 * @vp:	   the instance, with vp->lock held
 * @p:	   the process, still on the list
 * @flags: why it leaves
 */
void vmprof_sample_final(struct vmprof *vp, struct vmprof_proc *p, u32 flags)
{
	vmprof_sample(vp, p, ktime_get_ns(), flags);
	vmprof_ring_publish(vp);
}

static void vmprof_schedule_locked(struct vmprof *vp, u64 now_ns)
{
	u64 period_ns = (u64)vmprof_period_ms() * NSEC_PER_MSEC;

	vp->next_tick_ns += period_ns;
	if (vp->next_tick_ns <= now_ns) {
		/* We ran late by a period or more: skip, never burst. */
		u64 behind = now_ns - vp->next_tick_ns;

		vp->stats.overruns += div64_u64(behind, period_ns) + 1;
		vp->next_tick_ns += (div64_u64(behind, period_ns) + 1) *
				    period_ns;
	}
	/*
	 * A timer can only fire on a jiffy (4 ms at HZ=250), so each tick
	 * lands within a jiffy of its deadline.  Because every deadline is
	 * the previous one plus the period, not "now" plus the period, the
	 * rounding never accumulates and the mean period is exact.
	 */
	queue_delayed_work(system_highpri_wq, &vp->work,
			   nsecs_to_jiffies(vp->next_tick_ns - now_ns +
					    TICK_NSEC - 1));
}

/**
 * vmprof_start_locked() - start sampling when the first process registers
 * @vp: the instance, with vp->lock held
 */
void vmprof_start_locked(struct vmprof *vp)
{
	lockdep_assert_held(&vp->lock);
	if (vp->running)
		return;
	vp->running = true;
	vp->next_tick_ns = ktime_get_ns();
	vmprof_schedule_locked(vp, vp->next_tick_ns);
}

/**
 * vmprof_tick() - the sampling work: sample every registered process
 * @work: vmprof.work
 */
void vmprof_tick(struct work_struct *work)
{
	struct vmprof *vp = container_of(to_delayed_work(work), struct vmprof,
					 work);
	struct vmprof_proc *p, *tmp;
	u64 start, cost;

	mutex_lock(&vp->lock);
	start = ktime_get_ns();
	list_for_each_entry_safe(p, tmp, &vp->procs, node) {
		vp->stats.samples++;
		if (vmprof_sample(vp, p, start, 0))
			vmprof_proc_remove(vp, p);
	}
	vp->stats.ticks++;

	cost = ktime_get_ns() - start;
	vp->stats.cost_last_ns = cost;
	vp->stats.cost_total_ns += cost;
	if (cost > vp->stats.cost_max_ns)
		vp->stats.cost_max_ns = cost;

	vmprof_ring_publish(vp);
	if (vp->nr_procs)
		vmprof_schedule_locked(vp, ktime_get_ns());
	else
		vp->running = false;
	mutex_unlock(&vp->lock);
}
