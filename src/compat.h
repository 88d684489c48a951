/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few shims vmprof needs across kernel versions, in one place.
 *
 * Each is keyed on a HAVE_* name that kernel-probes.sh defines in the
 * generated vmprof_config.h after compiling probes/NAME.c against the
 * kernel tree, never on LINUX_VERSION_CODE: distribution kernels backport
 * APIs, and a version test guesses wrong for them.
 */
#ifndef _VMPROF_COMPAT_H
#define _VMPROF_COMPAT_H

#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>

/* Missing?  Run ./kernel-probes.sh KERNEL_BUILD_DIR first (make and DKMS do). */
#include "vmprof_config.h"

#ifndef HAVE_VM_FLAGS_CLEAR
/* Before vm_flags became read-only behind helpers (probes/vm_flags_clear.c). */
static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

#ifndef HAVE_MMDROP_SCHED
/*
 * Before mmdrop_sched() (probes/mmdrop_sched.c) PREEMPT_RT was out of tree,
 * and mmdrop() was what the scheduler itself called with preemption off.
 */
static inline void mmdrop_sched(struct mm_struct *mm)
{
	mmdrop(mm);
}
#endif

/**
 * vmprof_task_off_cpu() - has @task left its CPU (for now)?
 * @task: a task, referenced by the caller
 *
 * task_struct.on_cpu exists only with CONFIG_SMP.  On a uniprocessor the
 * caller itself holds the only CPU, so every other task is off it.
 *
 * Return: true if @task is not running on any CPU.
 */
static inline bool vmprof_task_off_cpu(struct task_struct *task)
{
#ifdef CONFIG_SMP
	/* Pairs with smp_store_release() in finish_task(). */
	return !smp_load_acquire(&task->on_cpu);
#else
	return true;
#endif
}

#endif /* _VMPROF_COMPAT_H */
