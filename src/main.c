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
	.procs = LIST_HEAD_INIT(vmprof.procs),
};

static unsigned int period_ms = 50;
static unsigned int buffer_pages = 128;
static unsigned int max_pids = 1024;

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
module_param(buffer_pages, uint, 0444);
MODULE_PARM_DESC(buffer_pages,
		 "Pages of record space in the ring, 1..65536 (default 128 = 512 KiB = 8192 records)");
module_param(max_pids, uint, 0644);
MODULE_PARM_DESC(max_pids,
		 "Most processes registered at once (default 1024); R fails with ENOSPC beyond");

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
	if (buffer_pages < 1 || buffer_pages > 65536) {
		pr_err("buffer_pages must be 1..65536\n");
		return -EINVAL;
	}

	INIT_DELAYED_WORK(&vp->work, vmprof_tick);
	err = vmprof_ring_init(vp, buffer_pages);
	if (err)
		return err;
	err = vmprof_proc_init(vp);
	if (err)
		goto err_free_ring;

	vp->misc.minor = MISC_DYNAMIC_MINOR;
	vp->misc.name = "vmprof";
	vp->misc.fops = &vmprof_dev_fops;
	vp->misc.mode = 0444;
	err = misc_register(&vp->misc);
	if (err)
		goto err_remove_proc;

	pr_info("loaded, period %u ms, ring of %llu records\n",
		period_ms, vp->capacity);
	return 0;

err_remove_proc:
	vmprof_proc_exit(vp);
err_free_ring:
	vmprof_ring_free(vp);
	return err;
}

static void __exit vmprof_exit(void)
{
	struct vmprof *vp = &vmprof;

	/* No new users: an open /dev/vmprof holds a module reference. */
	misc_deregister(&vp->misc);
	/* Waits for writes in progress; after it no one registers. */
	vmprof_proc_exit(vp);
	/* Not under vp->lock, which the work takes; stops re-arming too. */
	cancel_delayed_work_sync(&vp->work);
	vmprof_free_procs(vp);
	vmprof_ring_free(vp);
	pr_info("unloaded\n");
}

module_init(vmprof_init);
module_exit(vmprof_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Per-process page fault and CPU time sampler");
MODULE_AUTHOR("The vmprof developers");
