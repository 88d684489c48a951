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
#include <linux/rculist.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "compat.h"
#include "vmprof_mod.h"

/**
 * vmprof_read_counters() - read a whole process's cumulative counters
 * @task: any thread of the process, found under rcu_read_lock()
 * @c:	  where to store them
 *
 * The caller holds rcu_read_lock(), which keeps the thread list walkable.
 * Consistent against concurrent thread exit thanks to signal->stats_lock,
 * which __exit_signal() holds while it moves a dying thread's counts into
 * the signal struct.
 */
void vmprof_read_counters(struct task_struct *task, struct vmprof_counters *c)
{
	struct signal_struct *sig = task->signal;
	struct task_struct *t;
	unsigned int seq;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "vmprof: no rcu_read_lock()");
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
}

/**
 * vmprof_track_mm() - follow @task to its current mm
 * @p:	  the process, whose @p->mm reference moves to that mm
 * @task: its group leader, found under rcu_read_lock() or referenced
 *
 * task_lock() keeps task->mm from being dropped (exec and exit_mm() switch
 * or clear it under that lock before they put the old mm), which is what
 * get_task_mm() relies on; mmgrab() then keeps the mm_struct and its
 * counters (not the address space) until vmprof drops it.  Called at
 * registration, and by the sampler once per change of task->mm: it may be
 * in atomic context, hence mmdrop_sched().
 *
 * Return: the mm, or NULL if the process has none (it is exiting, or is a
 * kernel thread).
 */
struct mm_struct *vmprof_track_mm(struct vmprof_proc *p,
				  struct task_struct *task)
{
	struct mm_struct *old = p->mm, *mm;

	task_lock(task);
	mm = task->flags & PF_KTHREAD ? NULL : task->mm;
	if (mm)
		mmgrab(mm);
	task_unlock(task);
	p->mm = mm;
	if (old)
		mmdrop_sched(old);
	return mm;
}

/*
 * Resident set size of @task's mm, without a lock or an atomic operation in
 * the common case.  @p->mm holds an mm_count reference on the mm the task
 * had at the previous sample, so that mm_struct cannot be freed or reused:
 * if task->mm still points to it, its counters are the task's, read as
 * /proc/PID/statm reads them (get_mm_counter() is a lockless read of a
 * per-CPU or atomic counter).  Otherwise the process has exec'd or is
 * exiting, and vmprof_track_mm() moves the reference.  An exit that
 * clears task->mm just after the comparison can make this one sample read
 * an RSS the teardown has begun to lower; the next reads 0.
 *
 * task_lock() on every sample cost a third of the sample in the lab VM
 * (README, "Measured").
 */
static u64 vmprof_rss_kb(struct vmprof_proc *p, struct task_struct *task)
{
	struct mm_struct *mm = READ_ONCE(task->mm);
	unsigned long pages;

	if (unlikely(mm != p->mm))
		mm = vmprof_track_mm(p, task);
	if (!mm)
		return 0;
	pages = get_mm_counter(mm, MM_FILEPAGES) +
		get_mm_counter(mm, MM_ANONPAGES) +
		get_mm_counter(mm, MM_SHMEMPAGES);
	return (u64)pages << (PAGE_SHIFT - 10);
}

static u64 vmprof_delta(u64 now, u64 then)
{
	return now > then ? now - then : 0;
}

/*
 * Is this the process's final sample?  Once the leader is a zombie, every
 * other thread has been released and the leader has left its CPU for the
 * last time: then the scheduler has charged its last slice
 * (sum_exec_runtime of a running task lags until the next tick or switch),
 * and do_exit() has torn down the memory.  signal->live reaches 0 much
 * earlier.  A zombie is off its CPU too when it is preempted on its way to
 * do_task_dead(), often on PREEMPT_RT, and then runs again: only TASK_DEAD,
 * which do_task_dead() sets before its last schedule, says it will not.
 */
static bool vmprof_task_done(struct task_struct *task)
{
	if (!READ_ONCE(task->exit_state) || !thread_group_empty(task) ||
	    READ_ONCE(task->__state) != TASK_DEAD)
		return false;
	/* on_cpu read after __state, also on weakly ordered CPUs. */
	smp_rmb();
	return vmprof_task_off_cpu(task);
}

/*
 * Sample @p at @now_ns: write one record covering [p->last_ns, now_ns] into
 * the ring's next slot and advance the baseline.  Return true if the
 * process has exited: the record carries VMPROF_REC_EXITED and is its last.
 *
 * Called under rcu_read_lock() and vp->ring_lock.  No reference is taken:
 * the task found through the pid is valid until rcu_read_unlock() (tasks
 * and their signal structs are freed a grace period after release), its
 * counters are read locklessly under signal->stats_lock's sequence count,
 * and the RSS through the mm reference the process keeps.  Once the
 * process is reaped the pid leads nowhere, and the task @p keeps a
 * reference to gives its signal struct, where release_task() has added
 * the counts of every thread: the last record is complete.
 */
static bool vmprof_sample(struct vmprof *vp, struct vmprof_proc *p, u64 now_ns,
			  u32 flags)
{
	struct task_struct *task = pid_task(p->pid, PIDTYPE_TGID);
	struct vmprof_record *rec;
	struct vmprof_counters c;

	lockdep_assert_held(&vp->ring_lock);
	if (!task) {
		/* Reaped: its counts are final. */
		task = p->task;
		flags |= VMPROF_REC_EXITED;
	} else if (vmprof_task_done(task)) {
		flags |= VMPROF_REC_EXITED;
	}

	rec = vmprof_ring_begin(vp);
	rec->time_ns = now_ns;
	rec->interval_ns = vmprof_delta(now_ns, p->last_ns);
	rec->pid = p->nr;
	rec->ppid = p->ppid;
	p->last_ns = now_ns;
	vmprof_read_counters(task, &c);
	rec->cpu_ns = vmprof_delta(c.cpu_ns, p->last.cpu_ns);
	rec->min_flt = vmprof_delta(c.min_flt, p->last.min_flt);
	rec->maj_flt = vmprof_delta(c.maj_flt, p->last.maj_flt);
	rec->rss_kb = vmprof_rss_kb(p, task);
	/*
	 * Without task_lock(), as the scheduler's tracepoints copy it: an
	 * exec renaming the task at this moment can leave a mix of the two
	 * names in this one record, never an unterminated string.  A
	 * longer comm than the record's 16 bytes would be cut.
	 */
	BUILD_BUG_ON(sizeof(task->comm) < sizeof(rec->comm));
	memcpy(rec->comm, task->comm, sizeof(rec->comm));
	rec->comm[sizeof(rec->comm) - 1] = '\0';
	rec->flags = flags;
	p->last = c;
	vmprof_ring_commit(vp, rec);
	return flags & VMPROF_REC_EXITED;
}

/**
 * vmprof_ring_ask() - before a system call's spin_lock() of ring_lock
 * @vp: the instance
 *
 * A tick holds ring_lock while it walks the list and lets it go every
 * VMPROF_BATCH processes, but a plain spin_lock() is not sure to get it
 * then.  In a virtual machine without paravirtual spinlocks the kernel's
 * spinlock is a test-and-set lock (virt_spin_lock()), and the walk, which
 * takes it back at once, wins it nearly every time: the caller would wait
 * out the whole walk.  Asking first makes the walk wait for the caller at
 * its next batch boundary.  The caller asks with preemption off and keeps
 * it off until it holds the lock (vmprof_ring_got()), so it is running, on
 * another CPU than the walk, and the walk's wait is short.
 *
 * On PREEMPT_RT the lock sleeps and this does nothing: see the README's
 * known issues.
 */
void vmprof_ring_ask(struct vmprof *vp)
{
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		return;
	preempt_disable();
	atomic_inc(&vp->ring_asks);
}

/**
 * vmprof_ring_got() - after the spin_lock() that vmprof_ring_ask() preceded
 * @vp: the instance, with ring_lock held
 */
void vmprof_ring_got(struct vmprof *vp)
{
	lockdep_assert_held(&vp->ring_lock);
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		return;
	atomic_inc(&vp->ring_gets);
	preempt_enable();
}

/*
 * A batch boundary of the walk: let in the system calls that have asked
 * for ring_lock by now (vmprof_ring_ask()), and only those, so that a
 * stream of new ones cannot hold the walk up.
 */
static void vmprof_walk_break(struct vmprof *vp)
	__must_hold(&vp->ring_lock)
{
	unsigned int asks = atomic_read(&vp->ring_asks);

	spin_unlock(&vp->ring_lock);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
		while ((int)(asks - (unsigned int)atomic_read(&vp->ring_gets)) > 0)
			cpu_relax();
	spin_lock(&vp->ring_lock);
}

/**
 * vmprof_sample_last() - write the last record (UNREGISTERED) of a process
 * "U" removes
 * @vp:	   the instance, with vp->lock held
 * @p:	   the process, still on the list
 *
 * Between ticks the record is written and published now.  While a tick
 * walks the list, it is left to that tick, which writes it (sampled then)
 * after its own records: the caller does not wait for the walk, and a
 * reader still never sees part of a tick.
 *
 * Return: 0, or -ENOENT if a tick has just found the process exited and
 * written its last record.
 */
int vmprof_sample_last(struct vmprof *vp, struct vmprof_proc *p)
{
	int err = 0;

	lockdep_assert_held(&vp->lock);
	vmprof_ring_ask(vp);
	spin_lock(&vp->ring_lock);
	vmprof_ring_got(vp);
	if (p->gone) {
		err = -ENOENT;
	} else if (vp->walking) {
		list_add_tail(&p->last_node, &vp->pending);
	} else {
		rcu_read_lock();
		vmprof_sample(vp, p, ktime_get_ns(), VMPROF_REC_UNREGISTERED);
		rcu_read_unlock();
		vmprof_ring_publish(vp);
	}
	WRITE_ONCE(p->gone, true);
	spin_unlock(&vp->ring_lock);
	return err;
}

static void vmprof_schedule_locked(struct vmprof *vp, u64 now_ns)
{
	u64 period_ns = (u64)vmprof_period_ms() * NSEC_PER_MSEC;

	lockdep_assert_held(&vp->lock);
	vp->next_tick_ns += period_ns;
	if (vp->next_tick_ns <= now_ns) {
		/* We ran late by a period or more: skip, never burst. */
		u64 behind = now_ns - vp->next_tick_ns;

		spin_lock(&vp->ring_lock);
		vp->stats.overruns += div64_u64(behind, period_ns) + 1;
		spin_unlock(&vp->ring_lock);
		vp->next_tick_ns += (div64_u64(behind, period_ns) + 1) *
				    period_ns;
	}
	/*
	 * A timer can only fire on a jiffy (4 ms at HZ=250), so each tick
	 * lands within a jiffy of its deadline.  Because every deadline is
	 * the previous one plus the period, not "now" plus the period, the
	 * rounding never accumulates and the mean period is exact.
	 */
	queue_delayed_work(vp->wq_tick, &vp->work,
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

/*
 * Sample every process on the list.  Returns whether any has exited.
 *
 * Called under rcu_read_lock() and vp->ring_lock, which it hands over every
 * VMPROF_BATCH processes to a waiting "U" (vmprof_walk_break()).  The
 * registry's lock is not held: "R" and "U" never wait for the walk.
 */
static bool vmprof_walk(struct vmprof *vp, u64 now_ns)
{
	struct vmprof_proc *p, *tmp;
	unsigned int n = 0;
	bool exited = false;

	lockdep_assert_held(&vp->ring_lock);
	vp->walking = true;
	list_for_each_entry_rcu(p, &vp->procs, node) {
		/* Gone, or registered after this tick's time: next tick. */
		if (p->gone || p->last_ns > now_ns)
			continue;
		if (vmprof_sample(vp, p, now_ns, 0)) {
			WRITE_ONCE(p->gone, true);
			list_add_tail(&p->last_node, &vp->exited);
			exited = true;
		}
		if (++n % VMPROF_BATCH == 0)
			vmprof_walk_break(vp);
	}
	/* The last records of the processes "U" removed meanwhile. */
	list_for_each_entry_safe(p, tmp, &vp->pending, last_node) {
		list_del_init(&p->last_node);
		vmprof_sample(vp, p, ktime_get_ns(), VMPROF_REC_UNREGISTERED);
		vp->stats.last_deferred++;
	}
	vp->walking = false;
	vp->stats.samples += n;
	return exited;
}

/**
 * vmprof_tick() - the sampling work: sample every registered process
 * @work: vmprof.work
 *
 * The cost figures are measured with local_clock() (the scheduler's clock,
 * a TSC read), not ktime_get_ns(): in a VM whose clocksource is emulated
 * (HPET or the ACPI PM timer under TCG) each ktime_get_ns() costs
 * microseconds, and the tick needs only one, for the records' timestamp.
 *
 * The fixed cost of a tick, beyond its samples, is a lock, one clock read,
 * the header's four stores and a wake-up of no one or of the readers: a
 * few hundred instructions.  In the lab VM (TCG, clocksource tsc) a tick
 * of one process costs about 20 us all the same, and timing the records
 * with local_clock() instead changed nothing: what it pays there is the
 * software TLB's refill on the first touch of each page of code and data
 * after the vCPU idled, which hardware pays in nanoseconds.
 */
void vmprof_tick(struct work_struct *work)
{
	struct vmprof *vp = container_of(to_delayed_work(work), struct vmprof,
					 work);
	u64 now_ns, t0, cost;
	bool exited;

	rcu_read_lock();
	spin_lock(&vp->ring_lock);
	t0 = local_clock();
	now_ns = ktime_get_ns();
	exited = vmprof_walk(vp, now_ns);
	vp->stats.ticks++;
	vmprof_ring_publish(vp);
	cost = local_clock() - t0;
	vp->stats.cost_last_ns = cost;
	vp->stats.cost_total_ns += cost;
	if (cost > vp->stats.cost_max_ns)
		vp->stats.cost_max_ns = cost;
	spin_unlock(&vp->ring_lock);
	rcu_read_unlock();

	mutex_lock(&vp->lock);
	if (exited)
		vmprof_remove_gone(vp);
	if (vp->nr_procs)
		vmprof_schedule_locked(vp, ktime_get_ns());
	else
		vp->running = false;
	mutex_unlock(&vp->lock);
}
