/* SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause */
/*
 * What libvmprof's BPF sampler (sampler.bpf.c) and its loader (lib/bpf.c)
 * share: the layout of the programs' global data and map values.  Plain C
 * types only: this is compiled both with clang -target bpf and vmlinux.h,
 * and with the host's compiler.
 */
#ifndef VMPROF_BPF_H
#define VMPROF_BPF_H

/* Processes one session samples (the module's max_pids default). */
#define VMPROF_BPF_MAX_PROCS	16384
/* Threads of one process a sample walks; more are counted as TRUNC. */
#define VMPROF_BPF_MAX_THREADS	65536
/* Reads of one process retried while __exit_signal() moves counts. */
#define VMPROF_BPF_MAX_RETRY	8

/* vmprof_bpf_out.flags */
#define VMPROF_BPF_FOUND	0x1U	/* the pid names a live or zombie process */
#define VMPROF_BPF_DONE		0x2U	/* its final counts: a zombie leader,
					 * alone, TASK_DEAD and off its CPU */
#define VMPROF_BPF_TORN		0x4U	/* retries used up: counts may be
					 * off by one exiting thread's */
#define VMPROF_BPF_TRUNC	0x8U	/* more than MAX_THREADS threads */
#define VMPROF_BPF_FINAL	0x10U	/* reaped: the final counts, from the
					 * signal struct of the leader held */

/* The cumulative counters of one process, as the module's
 * vmprof_read_counters() sums them, and its identity. */
struct vmprof_bpf_out {
	unsigned long long start_ns;	/* task->start_time: a reused pid
					 * has another */
	unsigned long long cpu_ns;
	unsigned long long min_flt;
	unsigned long long maj_flt;
	unsigned long long rss_pages;	/* file + anon + shmem */
	unsigned long long want_start_ns; /* input: its start_ns, or 0 */
	unsigned int pid;		/* input: the process (or a thread
					 * of it) to sample */
	unsigned int tgid;		/* the process sampled */
	unsigned int ppid;		/* real_parent's tgid */
	unsigned int flags;		/* VMPROF_BPF_* */
	unsigned int nthreads;
	int live;			/* signal->live: 0 once exiting */
	unsigned int uid, suid;		/* its real and saved uids */
	char comm[16];
};

/* Value of the reg map: a registered process. */
struct vmprof_bpf_reg {
	unsigned long long start_ns;	/* 0: not known yet (any matches) */
	unsigned int inherit;		/* its children are registered at fork */
	unsigned int pad;
};

/* Ring buffer event: a registered process forked @pid. */
struct vmprof_bpf_fork {
	unsigned long long time_ns;	/* CLOCK_MONOTONIC, at the fork */
	unsigned long long start_ns;
	unsigned int pid;
	unsigned int ppid;
};

#endif
