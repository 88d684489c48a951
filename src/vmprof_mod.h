/* SPDX-License-Identifier: GPL-2.0 */
/*
 * State shared by the parts of the vmprof module.
 */
#ifndef _VMPROF_MOD_H
#define _VMPROF_MOD_H

#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/atomic.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "vmprof_abi.h"

struct file;
struct mm_struct;
struct pid;
struct pid_namespace;
struct proc_dir_entry;
struct task_struct;
struct tracepoint;

/* Bounds of the period_ms parameter. */
#define VMPROF_PERIOD_MIN_MS	10U
#define VMPROF_PERIOD_MAX_MS	60000U

/* Processes the sampler samples between two releases of vmprof.ring_lock. */
#define VMPROF_BATCH		64

/* log2 of the buckets of vmprof.by_pid: 4096, 4 processes each at 16384. */
#define VMPROF_HASH_BITS	12

/*
 * Entries kept allocated for the fork hook, which may not allocate: it
 * refills below half.  A burst of more forks than this between two runs of
 * the refill work is refused (inherit_dropped in /proc/vmprof/stats).
 */
#define VMPROF_POOL_SIZE	256U

/**
 * struct vmprof_counters - cumulative counters of one whole process
 * @cpu_ns:  CPU time of all threads, live and dead (sum_exec_runtime)
 * @min_flt: minor faults of all threads, live and dead
 * @maj_flt: major faults of all threads, live and dead
 */
struct vmprof_counters {
	u64 cpu_ns;
	u64 min_flt;
	u64 maj_flt;
};

/**
 * struct vmprof_proc - one registered process
 * @node:    entry in vmprof.procs (RCU list: added and removed under
 *	     vmprof.lock, walked by the sampler under rcu_read_lock())
 * @hnode:   entry in vmprof.by_pid (RCU hash: added and removed under
 *	     vmprof.hash_lock, looked up under it or rcu_read_lock())
 * @birth:   entry in vmprof.births while a process registered at fork waits
 *	     to be put on vmprof.procs; before that, in vmprof.pool
 * @last_node: entry in vmprof.pending while its last record waits for the
 *	     end of the running tick, or in vmprof.exited once a tick has
 *	     written it (under vmprof.ring_lock)
 * @rcu:     queues it for freeing a grace period after its removal
 * @free:    entry in vmprof.free_list, then freed in process context
 * @pid:     reference to the thread group's struct pid
 * @task:    reference to the task that led the group when it was registered:
 *	     once the process is reaped, its signal struct (which the task
 *	     keeps) holds the final counts of all its threads
 * @ns:	     reference to the pid namespace @nr and @ppid are numbers in
 * @mm:	     the mm the process had when last sampled, with an mm_count
 *	     reference (mmgrab()), or NULL: see vmprof_rss_kb()
 * @nr:      pid number in the registrant's pid namespace, put in records
 * @ppid:    the parent's pid number in the same namespace, put in records
 * @inherit: registered with "R <pid> +": its children are registered at
 *	     fork, and inherit this flag (constant once on the list)
 * @gone:    its last record is written or due; the sampler skips it and
 *	     lookups ignore it (set under vmprof.ring_lock)
 * @last_ns: time of the previous sample (or of the registration)
 * @last:    counters at that time; records carry the differences
 *
 * @last_ns, @last, @mm and @gone belong to vmprof.ring_lock once the
 * process is on the list.
 */
struct vmprof_proc {
	struct list_head node;
	struct hlist_node hnode;
	struct list_head last_node;
	struct rcu_head rcu;
	struct llist_node free;
	struct llist_node birth;
	struct pid *pid;
	struct task_struct *task;
	struct pid_namespace *ns;
	struct mm_struct *mm;
	u32 nr;
	u32 ppid;
	bool inherit;
	bool gone;
	u64 last_ns;
	struct vmprof_counters last;
};

/**
 * struct vmprof_stats - the sampler's own figures, shown in /proc/vmprof/stats
 * @ticks:	 sampling ticks run
 * @records:	 records written to the ring
 * @overruns:	 ticks skipped because the sampler ran later than a period
 * @cost_last_ns: duration of the last tick's sampling
 * @cost_max_ns: longest tick
 * @cost_total_ns: sum over all ticks
 * @samples:	 process samples taken by ticks (for the per-process cost)
 * @last_deferred: last records of "U" that a running tick wrote for it
 */
struct vmprof_stats {
	u64 ticks;
	u64 records;
	u64 overruns;
	u64 cost_last_ns;
	u64 cost_max_ns;
	u64 cost_total_ns;
	u64 samples;
	u64 last_deferred;
};

/**
 * struct vmprof - the module's single instance
 * @lock:	 the registry: changes to @procs, @nr_procs, and the schedule
 *		 (@running, @next_tick_ns).  Held briefly: the sampler walks
 *		 @procs without it (RCU) and takes it only at the end of a
 *		 tick, so a status write never waits for a tick to finish.
 *		 Never held while cancelling or flushing the work.
 * @ring_lock:	 the producer: the ring (@head, publishing), the sampling
 *		 state of each process, @walking, @pending and @stats.  The
 *		 sampler hands it over every VMPROF_BATCH processes to the
 *		 system calls waiting for it (@ring_asks), so "U" waits one
 *		 batch at most.  Nests inside @lock, never the reverse.
 * @hash_lock:	 changes to @by_pid and @births.  A raw spinlock: the fork
 *		 hook takes it with preemption disabled, on PREEMPT_RT too.
 *		 Nests inside @lock.
 * @procs:	 registered processes (struct vmprof_proc), an RCU list
 * @by_pid:	 the same and those in @births, hashed by struct pid: for
 *		 "R", "U" and the fork hook (RCU, changed under @hash_lock)
 * @births:	 processes the fork hook registered, for @adopt_work to put
 *		 on @procs (under @hash_lock)
 * @adopt_work:	 puts @births on @procs, under @lock
 * @nr_slots:	 entries in @by_pid: what max_pids bounds
 * @nr_inherit:	 registered processes whose children are registered at fork;
 *		 while 0 the fork hook returns at once
 * @fork_hook:	 the sched_process_fork tracepoint, or NULL if the kernel has
 *		 none ("R <pid> +" then fails with EOPNOTSUPP)
 * @pool_lock:	 @pool and @pool_count (raw: taken by the fork hook)
 * @pool:	 entries allocated ahead for the fork hook
 * @pool_count:	 their number
 * @pool_work:	 refills @pool to VMPROF_POOL_SIZE
 * @inherited:	 processes the fork hook registered
 * @inherit_refused: forks of inheriting processes not followed: max_pids
 * @inherit_dropped: the same, because @pool was empty
 * @nr_procs:	 length of @procs (exited ones count until the end of the
 *		 tick that found them)
 * @running:	 the sampling work is scheduled or running
 * @next_tick_ns: absolute CLOCK_MONOTONIC deadline of the next tick
 * @work:	 the sampling work, queued on @wq_tick
 * @wq_tick:	 an unbound, high-priority workqueue of its own
 * @walking:	 a tick is walking @procs: a last record is due at its end
 * @ring_asks:	 system calls that have asked for @ring_lock
 *		 (vmprof_ring_ask())
 * @ring_gets:	 those that have got it: a walk lets in those that asked
 *		 before each of its batch boundaries
 * @pending:	 processes "U" removed during the walk, whose last records
 *		 the tick writes with its own
 * @exited:	 processes a tick found exited, for the registry to take off
 *		 at the end of the tick (under @ring_lock)
 * @free_list:	 processes taken off, queued here for @free_work a grace
 *		 period later, when no walk can see them any more
 * @free_work:	 frees them and puts their pid and mm references, in process
 *		 context: __mmdrop() may not run in the RCU callback's softirq
 * @hdr:	 start of the vmalloc_user() ring: header page, then records
 * @recs:	 first record slot
 * @capacity:	 number of record slots
 * @head:	 records written; readers see @hdr->head, which
 *		 vmprof_ring_publish() sets to it after each batch
 * @slot:	 @head % @capacity, the slot of the next record
 * @ring_size:	 bytes of the whole mapping
 * @generation:	 bumped after each batch of records, for poll()
 * @wq:		 poll() waiters, woken after each tick
 * @stats:	 the sampler's own figures
 * @proc_dir:	 /proc/vmprof
 * @misc:	 /dev/vmprof
 */
struct vmprof {
	struct mutex lock;	/* see above */
	spinlock_t ring_lock;	/* see above */
	raw_spinlock_t hash_lock;	/* see above */
	struct list_head procs;
	DECLARE_HASHTABLE(by_pid, VMPROF_HASH_BITS);
	struct llist_head births;
	struct work_struct adopt_work;
	atomic_t nr_slots;
	atomic_t nr_inherit;
	struct tracepoint *fork_hook;
	raw_spinlock_t pool_lock;	/* see above */
	struct llist_node *pool;
	unsigned int pool_count;
	struct work_struct pool_work;
	atomic_long_t inherited;
	atomic_long_t inherit_refused;
	atomic_long_t inherit_dropped;
	unsigned int nr_procs;
	bool running;
	u64 next_tick_ns;
	struct delayed_work work;
	struct workqueue_struct *wq_tick;
	bool walking;
	atomic_t ring_asks;
	atomic_t ring_gets;
	struct list_head pending;
	struct list_head exited;
	struct llist_head free_list;
	struct work_struct free_work;

	struct vmprof_ring_header *hdr;
	struct vmprof_record *recs;
	u64 capacity;
	u64 head;
	u64 slot;
	size_t ring_size;
	unsigned long generation;
	wait_queue_head_t wq;

	struct vmprof_stats stats;
	struct proc_dir_entry *proc_dir;
	struct miscdevice misc;
};

extern struct vmprof vmprof;

/* Module parameters (main.c). */
unsigned int vmprof_period_ms(void);
unsigned int vmprof_max_pids(void);

/* ring.c */
int vmprof_ring_init(struct vmprof *vp, unsigned int pages);
void vmprof_ring_free(struct vmprof *vp);
struct vmprof_record *vmprof_ring_begin(struct vmprof *vp);
void vmprof_ring_commit(struct vmprof *vp, struct vmprof_record *slot);
void vmprof_ring_publish(struct vmprof *vp);
extern const struct file_operations vmprof_dev_fops;

/* sampler.c */
void vmprof_read_counters(struct task_struct *task, struct vmprof_counters *c);
struct mm_struct *vmprof_track_mm(struct vmprof_proc *p,
				  struct task_struct *task);
int vmprof_sample_last(struct vmprof *vp, struct vmprof_proc *p);
void vmprof_ring_ask(struct vmprof *vp);
void vmprof_ring_got(struct vmprof *vp);
void vmprof_tick(struct work_struct *work);
void vmprof_start_locked(struct vmprof *vp);

/* registry.c */
int vmprof_register(struct vmprof *vp, struct file *file, pid_t nr,
		    bool inherit);
int vmprof_unregister(struct vmprof *vp, struct file *file, pid_t nr);
void vmprof_remove_gone(struct vmprof *vp);
void vmprof_free_procs(struct vmprof *vp);
void vmprof_free_work(struct work_struct *work);
void vmprof_proc_free_later(struct vmprof *vp, struct vmprof_proc *p);
struct vmprof_proc *vmprof_lookup_rcu(struct vmprof *vp, struct pid *pid);
bool vmprof_take_slot(struct vmprof *vp);
int vmprof_hash_add(struct vmprof *vp, struct vmprof_proc *p, bool birth);
void vmprof_adopt_locked(struct vmprof *vp);
void vmprof_adopt_work(struct work_struct *work);

/* inherit.c */
/*
 * Never defined: declared with the type register_trace_sched_process_fork()
 * must have for vmprof's probe, which inherit.c checks at build time.
 */
int vmprof_fork_register_type(void (*probe)(void *data,
					    struct task_struct *parent,
					    struct task_struct *child),
			      void *data);
int vmprof_inherit_init(struct vmprof *vp);
void vmprof_inherit_exit(struct vmprof *vp);
int vmprof_pool_fill(struct vmprof *vp);
void vmprof_pool_work(struct work_struct *work);

/* status.c */
int vmprof_proc_init(struct vmprof *vp);
void vmprof_proc_exit(struct vmprof *vp);

#endif /* _VMPROF_MOD_H */
