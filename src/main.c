// SPDX-License-Identifier: GPL-2.0
/*
 * vmprof - per-process page faults and CPU time, sampled every period_ms.
 *
 * Module parameters, initialisation and teardown.
 *
 * Processes register through /proc/vmprof/status (status.c) into the
 * registry (registry.c); a delayed work samples them (sampler.c) into a
 * ring that user space maps read-only from /dev/vmprof (ring.c).  The
 * layout of the ring is vmprof_abi.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/workqueue.h>

#include "vmprof_mod.h"

struct vmprof vmprof = {
	.lock = __MUTEX_INITIALIZER(vmprof.lock),
	.ring_lock = __SPIN_LOCK_UNLOCKED(vmprof.ring_lock),
	.hash_lock = __RAW_SPIN_LOCK_UNLOCKED(vmprof.hash_lock),
	.pool_lock = __RAW_SPIN_LOCK_UNLOCKED(vmprof.pool_lock),
	.procs = LIST_HEAD_INIT(vmprof.procs),
	.births = LLIST_HEAD_INIT(vmprof.births),
	.adopt_work = __WORK_INITIALIZER(vmprof.adopt_work, vmprof_adopt_work),
	.pool_work = __WORK_INITIALIZER(vmprof.pool_work, vmprof_pool_work),
	.pending = LIST_HEAD_INIT(vmprof.pending),
	.exited = LIST_HEAD_INIT(vmprof.exited),
	.free_list = LLIST_HEAD_INIT(vmprof.free_list),
	.free_work = __WORK_INITIALIZER(vmprof.free_work, vmprof_free_work),
};

/* Bounds of buffer_pages and max_pids. */
#define VMPROF_MIN_PAGES	128U
#define VMPROF_MAX_PAGES	65536U
#define VMPROF_MAX_PIDS		(VMPROF_MAX_PAGES * (PAGE_SIZE / \
				 sizeof(struct vmprof_record)) / 2)

static unsigned int period_ms = 50;
static unsigned int buffer_pages;
static unsigned int max_pids = 16384;

static int period_ms_set(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int err = kstrtouint(val, 0, &v);

	if (err)
		return err;
	if (v < VMPROF_PERIOD_MIN_MS || v > VMPROF_PERIOD_MAX_MS)
		return -ERANGE;
	WRITE_ONCE(period_ms, v);
	return 0;
}

static const struct kernel_param_ops period_ms_ops = {
	.set = period_ms_set,
	.get = param_get_uint,
};

module_param_cb(period_ms, &period_ms_ops, &period_ms, 0644);
MODULE_PARM_DESC(period_ms,
		 "Sampling period in ms, 10..60000 (default 50); may change at run time, takes effect from the next tick");
/*
 * max_pids may change at run time, but never beyond what the ring holds
 * two ticks of: a reader polling every tick then loses nothing.
 */
static int max_pids_set(const char *val, const struct kernel_param *kp)
{
	u64 capacity = READ_ONCE(vmprof.capacity);
	unsigned int v;
	int err = kstrtouint(val, 0, &v);

	if (err)
		return err;
	if (v < 1 || v > VMPROF_MAX_PIDS || (capacity && v > capacity / 2))
		return -ERANGE;
	WRITE_ONCE(max_pids, v);
	return 0;
}

static const struct kernel_param_ops max_pids_ops = {
	.set = max_pids_set,
	.get = param_get_uint,
};

module_param(buffer_pages, uint, 0444);
MODULE_PARM_DESC(buffer_pages,
		 "Pages of record space in the ring, 1..65536 (default 0: two ticks of max_pids processes, at least 128 pages)");
module_param_cb(max_pids, &max_pids_ops, &max_pids, 0644);
MODULE_PARM_DESC(max_pids,
		 "Most processes registered at once (default 16384); R fails with ENOSPC beyond; at run time at most half the ring's records");

unsigned int vmprof_period_ms(void)
{
	return READ_ONCE(period_ms);
}

unsigned int vmprof_max_pids(void)
{
	return READ_ONCE(max_pids);
}

static int __init vmprof_init(void)
{
	struct vmprof *vp = &vmprof;
	int err;

	if (period_ms < VMPROF_PERIOD_MIN_MS || period_ms > VMPROF_PERIOD_MAX_MS) {
		pr_err("period_ms must be %u..%u\n",
		       VMPROF_PERIOD_MIN_MS, VMPROF_PERIOD_MAX_MS);
		return -EINVAL;
	}
	if (buffer_pages > VMPROF_MAX_PAGES) {
		pr_err("buffer_pages must be 1..%u, or 0 for its default\n",
		       VMPROF_MAX_PAGES);
		return -EINVAL;
	}
	if (!buffer_pages)
		buffer_pages = max(VMPROF_MIN_PAGES,
				   (unsigned int)DIV_ROUND_UP((size_t)max_pids * 2 *
				   sizeof(struct vmprof_record), PAGE_SIZE));

	INIT_DELAYED_WORK(&vp->work, vmprof_tick);
	/*
	 * Unbound: the tick runs on whichever CPU the scheduler finds idle,
	 * not on the one its timer fired on, so a 10,000-process tick does
	 * not push the readers it wakes off their CPU.  High priority: it is
	 * not queued behind other work, and the period stays exact.
	 */
	vp->wq_tick = alloc_workqueue("vmprof", WQ_UNBOUND | WQ_HIGHPRI, 1);
	if (!vp->wq_tick)
		return -ENOMEM;
	err = vmprof_ring_init(vp, buffer_pages);
	if (err)
		goto err_destroy_wq;
	if (max_pids > vp->capacity / 2) {
		max_pids = vp->capacity / 2;
		pr_notice("max_pids lowered to %u: a ring of %llu records holds two ticks of that many\n",
			  max_pids, vp->capacity);
	}
	err = vmprof_inherit_init(vp);
	if (err)
		goto err_free_ring;

	vp->misc.minor = MISC_DYNAMIC_MINOR;
	vp->misc.name = "vmprof";
	vp->misc.fops = &vmprof_dev_fops;
	vp->misc.mode = 0444;
	err = misc_register(&vp->misc);
	if (err)
		goto err_inherit_exit;
	/* Last: from now on processes register, and nothing fails after. */
	err = vmprof_proc_init(vp);
	if (err)
		goto err_misc_deregister;

	pr_info("loaded, period %u ms, ring of %llu records, max_pids %u\n",
		period_ms, vp->capacity, max_pids);
	return 0;

err_misc_deregister:
	misc_deregister(&vp->misc);
err_inherit_exit:
	vmprof_inherit_exit(vp);
err_free_ring:
	vmprof_ring_free(vp);
err_destroy_wq:
	destroy_workqueue(vp->wq_tick);
	return err;
}

static void __exit vmprof_exit(void)
{
	struct vmprof *vp = &vmprof;

	/* No new users: an open /dev/vmprof holds a module reference. */
	misc_deregister(&vp->misc);
	/* Waits for writes in progress; after it no one registers. */
	vmprof_proc_exit(vp);
	/* No fork registers either; the adopt work, which starts the tick,
	 * is cancelled.
	 */
	vmprof_inherit_exit(vp);
	/* Not under vp->lock, which the work takes; stops re-arming too. */
	cancel_delayed_work_sync(&vp->work);
	vmprof_free_procs(vp);
	destroy_workqueue(vp->wq_tick);
	vmprof_ring_free(vp);
	pr_info("unloaded\n");
}

module_init(vmprof_init);
module_exit(vmprof_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Per-process page fault and CPU time sampler");
MODULE_AUTHOR("The vmprof developers");
