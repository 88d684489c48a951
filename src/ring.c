// SPDX-License-Identifier: GPL-2.0
/*
 * The sample ring and /dev/vmprof.
 *
 * The ring is one vmalloc_user() area: a header page, then the record slots.
 * The sampler is the only producer and always runs under vmprof.ring_lock; user
 * space maps the area read-only and follows the protocol documented in
 * vmprof_abi.h.  Nothing user space can do reaches the producer.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "vmprof_mod.h"

/**
 * vmprof_ring_init() - allocate the ring and fill in its header
 * @vp:	   the instance
 * @pages: pages of record space
 *
 * Return: 0 or -ENOMEM.
 */
int vmprof_ring_init(struct vmprof *vp, unsigned int pages)
{
	struct vmprof_ring_header *hdr;

	BUILD_BUG_ON(sizeof(*hdr) > VMPROF_HEADER_SIZE);
	BUILD_BUG_ON(VMPROF_HEADER_SIZE % PAGE_SIZE);
	BUILD_BUG_ON(PAGE_SIZE % sizeof(struct vmprof_record));
	BUILD_BUG_ON(sizeof(struct vmprof_record) != 128);

	vp->ring_size = VMPROF_HEADER_SIZE + (size_t)pages * PAGE_SIZE;
	hdr = vmalloc_user(vp->ring_size);	/* zeroed */
	if (!hdr)
		return -ENOMEM;

	vp->hdr = hdr;
	vp->recs = (void *)hdr + VMPROF_HEADER_SIZE;
	vp->capacity = (u64)pages * PAGE_SIZE / sizeof(struct vmprof_record);
	vp->head = 0;
	vp->slot = 0;
	init_waitqueue_head(&vp->wq);

	hdr->magic = VMPROF_MAGIC;
	hdr->abi_version = VMPROF_ABI_VERSION;
	hdr->header_size = VMPROF_HEADER_SIZE;
	hdr->record_size = sizeof(struct vmprof_record);
	hdr->capacity = vp->capacity;
	hdr->period_ms = vmprof_period_ms();
	return 0;
}

void vmprof_ring_free(struct vmprof *vp)
{
	vfree(vp->hdr);
	vp->hdr = NULL;
	vp->recs = NULL;
}

/**
 * vmprof_ring_begin() - claim the next slot, overwriting the oldest if full
 * @vp: the instance, with vp->ring_lock held
 *
 * The slot is marked busy; the caller fills in every field but seq, in
 * place, then calls vmprof_ring_commit().
 *
 * Return: the slot.
 */
struct vmprof_record *vmprof_ring_begin(struct vmprof *vp)
{
	struct vmprof_record *slot = &vp->recs[vp->slot];

	lockdep_assert_held(&vp->ring_lock);
	WRITE_ONCE(slot->seq, VMPROF_SEQ_BUSY);
	smp_wmb();		/* mark busy before touching the payload */
	return slot;
}

/**
 * vmprof_ring_commit() - finish the slot vmprof_ring_begin() returned
 * @vp:	  the instance, with vp->ring_lock held
 * @slot: the slot, filled in
 *
 * Readers see the record once vmprof_ring_publish() publishes the new
 * head, with the rest of its batch: a reader never sees part of a tick.
 */
void vmprof_ring_commit(struct vmprof *vp, struct vmprof_record *slot)
{
	lockdep_assert_held(&vp->ring_lock);
	smp_wmb();		/* payload before its sequence number */
	WRITE_ONCE(slot->seq, vp->head);
	vp->head++;
	/* head % capacity, kept without a division per record */
	if (++vp->slot == vp->capacity)
		vp->slot = 0;
	vp->stats.records++;
}

/**
 * vmprof_ring_publish() - publish the records written, update the header
 * and wake poll() waiters
 * @vp: the instance, with vp->ring_lock held
 */
void vmprof_ring_publish(struct vmprof *vp)
{
	lockdep_assert_held(&vp->ring_lock);

	/* Pairs with the readers' acquire load of head (vmprof_abi.h). */
	smp_store_release(&vp->hdr->head, vp->head);
	WRITE_ONCE(vp->hdr->ticks, vp->stats.ticks);
	WRITE_ONCE(vp->hdr->period_ms, vmprof_period_ms());
	WRITE_ONCE(vp->hdr->nr_pids, vp->nr_procs);
	WRITE_ONCE(vp->generation, vp->generation + 1);
	wake_up_interruptible_all(&vp->wq);
}

/*
 * Each open file remembers the generation it last reported readable, so
 * that poll() reports every tick once to every reader.
 */
static int vmprof_dev_open(struct inode *inode, struct file *file)
{
	file->private_data = (void *)READ_ONCE(vmprof.generation);
	return nonseekable_open(inode, file);
}

static int vmprof_dev_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_flags & (VM_WRITE | VM_EXEC))
		return -EPERM;
	/* Not even mprotect() may make it writable later. */
	vm_flags_clear(vma, VM_MAYWRITE | VM_MAYEXEC);

	/*
	 * Checks that offset and length lie inside the ring and sets
	 * VM_DONTEXPAND | VM_DONTDUMP.
	 */
	return remap_vmalloc_range(vma, vmprof.hdr, vma->vm_pgoff);
}

static __poll_t vmprof_dev_poll(struct file *file, poll_table *wait)
{
	unsigned long gen;

	poll_wait(file, &vmprof.wq, wait);
	gen = READ_ONCE(vmprof.generation);
	if (gen == (unsigned long)file->private_data)
		return 0;
	file->private_data = (void *)gen;
	return EPOLLIN | EPOLLRDNORM;
}

const struct file_operations vmprof_dev_fops = {
	.owner = THIS_MODULE,
	.open = vmprof_dev_open,
	.mmap = vmprof_dev_mmap,
	.poll = vmprof_dev_poll,
	/* No .llseek: nonseekable_open() makes lseek() fail with ESPIPE. */
};
