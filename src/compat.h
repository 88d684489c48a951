/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few shims vmprof needs across kernel versions, in one place.
 */
#ifndef _VMPROF_COMPAT_H
#define _VMPROF_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
/* vm_flags became read-only behind helpers in 6.3. */
static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

#endif /* _VMPROF_COMPAT_H */
