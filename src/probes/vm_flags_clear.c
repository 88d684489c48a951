// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_VM_FLAGS_CLEAR: vm_flags_clear() and its siblings, through which
 * vma->vm_flags must be changed since it became read-only (Linux 6.3;
 * backported by some distributions, RHEL 9.5 among them).
 */
#include <linux/mm.h>

void vmprof_probe(struct vm_area_struct *vma);
void vmprof_probe(struct vm_area_struct *vma)
{
	vm_flags_clear(vma, VM_MAYWRITE | VM_MAYEXEC);
}
