// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_MMDROP_SCHED: mmdrop_sched(), which drops an mm_count reference
 * from a context that cannot sleep (Linux 6.0, with PREEMPT_RT going
 * mainline: there it defers the free through RCU).
 */
#include <linux/sched/mm.h>

void vmprof_probe(struct mm_struct *mm);
void vmprof_probe(struct mm_struct *mm)
{
	mmdrop_sched(mm);
}
