/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * The one definition of the vmprof kernel/user interface.
 *
 * This header is shared verbatim by the kernel module and by user space
 * (libvmprof, the tools, the tests).  It depends on <linux/types.h> only.
 *
 * /dev/vmprof is mapped read-only with mmap(2) at offset 0.  The mapping is
 * VMPROF_HEADER_SIZE bytes of struct vmprof_ring_header followed by
 * hdr->capacity records of hdr->record_size bytes each.  Its total length is
 * hdr->header_size + hdr->capacity * hdr->record_size; map the header page
 * first to learn it, or map (1 + buffer_pages) pages.
 *
 * Producer contract (the module's sampler is the only writer):
 *  - Record number n (n = 0, 1, 2, ...) lives in slot n % capacity.
 *  - To write record n the producer stores seq = VMPROF_SEQ_BUSY, issues a
 *    write barrier, fills the payload, issues a write barrier and stores
 *    seq = n.  After the last record of a batch (all the records of one
 *    tick, or the last record of a process that "U" removes) it publishes
 *    head = n + 1 with release semantics (smp_store_release).  head
 *    therefore counts every record ever written, and a reader never sees
 *    part of a tick.
 *
 * Consumer contract:
 *  - Load head with acquire semantics (__atomic_load_n(..., __ATOMIC_ACQUIRE)).
 *    Records n < head are complete unless overwritten since.
 *  - If head - next > capacity, records next .. head - capacity - 1 were
 *    overwritten before they were read: they are lost, count them and
 *    continue at head - capacity.
 *  - To read record n: load seq (acquire), copy the record, issue a read
 *    barrier (acquire fence), load seq again.  The copy is valid only if both
 *    loads returned n; otherwise the producer overwrote the slot during the
 *    copy (a torn read) and record n is lost.
 *  - The kernel never reads anything from the mapping; readers cannot
 *    disturb each other or the producer.
 */
#ifndef _VMPROF_ABI_H
#define _VMPROF_ABI_H

#include <linux/types.h>

#define VMPROF_MAGIC		0x46504d56U	/* "VMPF" in memory, little endian */
#define VMPROF_ABI_VERSION	2U
#define VMPROF_HEADER_SIZE	4096U		/* bytes before record 0 */
#define VMPROF_SEQ_BUSY		(~(__u64)0)	/* slot is being written */

#define VMPROF_PROC_DIR		"vmprof"
#define VMPROF_STATUS_PATH	"/proc/vmprof/status"
#define VMPROF_STATS_PATH	"/proc/vmprof/stats"
#define VMPROF_DEVICE_PATH	"/dev/vmprof"

/* A write to /proc/vmprof/status must be shorter than this (31 bytes). */
#define VMPROF_CMD_MAX		32

/*
 * struct vmprof_record.flags.  A last record has EXITED or UNREGISTERED,
 * or both when "U <pid>" named a process that had exited but was not yet
 * reaped.  Other bits are never set.
 */
#define VMPROF_REC_EXITED	0x1U	/* last record: the process exited */
#define VMPROF_REC_UNREGISTERED	0x2U	/* last record: "U <pid>" */
/*
 * ABI version 1 only: exited and reaped before the final sample, the counts
 * of the last interval lost.  Since version 2 the module keeps a reference
 * to each process's task and reads a reaped process's final counts from its
 * signal struct, so this bit is never set.
 */
#define VMPROF_REC_REAPED	0x4U

/**
 * struct vmprof_ring_header - first page of the /dev/vmprof mapping
 * @magic:	 VMPROF_MAGIC
 * @abi_version: VMPROF_ABI_VERSION
 * @header_size: bytes from the start of the mapping to record 0
 * @record_size: sizeof(struct vmprof_record) as the module knows it
 * @capacity:	 number of record slots in the ring
 * @head:	 number of records ever written; slot of record n is
 *		 n % capacity.  Written with release after each batch, read
 *		 with acquire.
 * @ticks:	 sampling ticks completed since the module was loaded
 * @period_ms:	 current sampling period in milliseconds
 * @nr_pids:	 processes registered; updated by every tick, registration
 *		 and unregistration
 * @pending:	 processes that have ended whose last record is still to
 *		 come: 0 from the module, which has a process's final counts
 *		 at the first tick after it was reaped; libvmprof's BPF
 *		 backend, where it must wait for them, counts those it waits
 *		 for (a reader that wants every last record waits for 0)
 * @reserved0:	 0
 */
struct vmprof_ring_header {
	__u32 magic;
	__u32 abi_version;
	__u32 header_size;
	__u32 record_size;
	__u64 capacity;
	__u64 head;
	__u64 ticks;
	__u32 period_ms;
	__u32 nr_pids;
	__u32 pending;
	__u32 reserved0;
	__u64 reserved[9];
};

/**
 * struct vmprof_record - one sample of one process
 * @seq:	 record number (see the consumer contract), VMPROF_SEQ_BUSY
 *		 while the producer writes the slot
 * @time_ns:	 CLOCK_MONOTONIC time of the sample in ns
 * @interval_ns: time covered by the deltas below: since the previous sample
 *		 of this process, or since its registration for the first one
 * @cpu_ns:	 CPU time (user + system) used in the interval by all threads
 *		 of the process, from the scheduler's sum_exec_runtime
 * @min_flt:	 minor page faults in the interval, all threads
 * @maj_flt:	 major page faults in the interval, all threads
 * @rss_kb:	 resident set size at the sample (anon + file + shmem), KiB
 * @pid:	 process id (thread group id) in the pid namespace of whoever
 *		 wrote "R <pid>" (for a process registered at fork, of whoever
 *		 registered the tree)
 * @flags:	 VMPROF_REC_* bits
 * @ppid:	 for a process registered at fork ("R <pid> +"), the process
 *		 that forked it; otherwise its parent when it was registered.
 *		 In the same pid namespace as @pid; 0 if not visible there.
 * @reserved0:	 0
 * @comm:	 the process's name at the sample (the leader's comm, as in
 *		 /proc/PID/comm), NUL-terminated: it names processes that are
 *		 gone before a reader could look them up in /proc
 * @reserved:	 0; room for later fields within the same record size
 *
 * Version 1 of the ABI had 64-byte records, without @ppid, @comm and
 * @reserved.
 */
struct vmprof_record {
	__u64 seq;
	__u64 time_ns;
	__u64 interval_ns;
	__u64 cpu_ns;
	__u64 min_flt;
	__u64 maj_flt;
	__u64 rss_kb;
	__u32 pid;
	__u32 flags;
	__u32 ppid;
	__u32 reserved0;
	char comm[16];
	__u64 reserved[5];
};

#endif /* _VMPROF_ABI_H */
