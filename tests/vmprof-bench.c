// SPDX-License-Identifier: GPL-2.0
/*
 * vmprof-bench - the workloads and the /proc readers of make bench
 * (lab/bench.sh), run inside the lab VM.  Prints figures; asserts nothing.
 *
 *   vmprof-bench park N [sleep|fault]
 *	fork N children that sleep (or fault: touch and drop one page of
 *	their own, over and over, at SCHED_IDLE so that the bench itself
 *	still gets the CPU), print their pids one per line on stdout, then
 *	wait for SIGTERM (or SIGINT or SIGHUP) and kill and reap them all
 *   vmprof-bench procstat open|pread ROUNDS < PIDS
 *	read /proc/PID/stat of every pid ROUNDS times: open+read+close each
 *	time, or pread on descriptors opened once; print "ns_per_read X"
 *	(the mean over all rounds and pids)
 *   vmprof-bench wlat PID MS
 *	for MS milliseconds, write "R PID" and "U PID" to /proc/vmprof/status
 *	in turn; print the number of writes and the median, 99th percentile
 *	and worst latency of one write in microseconds
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmprof_abi.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int die(const char *what)
{
	fprintf(stderr, "vmprof-bench: %s: %s\n", what, strerror(errno));
	return 1;
}

static void fault_forever(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct sched_param sp = { 0 };
	volatile char *p = mmap(NULL, (size_t)psz, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || sched_setscheduler(0, SCHED_IDLE, &sp))
		_exit(1);
	for (;;) {
		p[0] = 1;	/* a minor fault: a fresh zero page */
		madvise((void *)p, (size_t)psz, MADV_DONTNEED);
	}
}

static int cmd_park(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	int fault = argc > 2 && !strcmp(argv[2], "fault");
	sigset_t stop;
	pid_t *pids;
	int sig;

	if (n <= 0) {
		fprintf(stderr, "vmprof-bench park: N must be positive\n");
		return 2;
	}
	pids = calloc((size_t)n, sizeof(*pids));
	if (!pids)
		return die("calloc");
	/* Blocked from now on: a signal that comes early waits for sigwait. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	for (long i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			int e = errno;

			for (long j = 0; j < i; j++)
				kill(pids[j], SIGKILL);
			errno = e;
			return die("fork");
		}
		if (pids[i] == 0) {
			if (fault)
				fault_forever();
			for (;;)
				pause();
		}
		printf("%d\n", (int)pids[i]);
	}
	if (fflush(stdout))
		return die("stdout");
	sigwait(&stop, &sig);
	for (long i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (long i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	free(pids);
	return 0;
}

static int read_pids(int **pids, size_t *n)
{
	size_t cap = 1024;
	int pid;

	*n = 0;
	*pids = malloc(cap * sizeof(**pids));
	if (!*pids)
		return -1;
	while (scanf("%d", &pid) == 1) {
		if (*n == cap) {
			int *p = realloc(*pids, 2 * cap * sizeof(*p));

			if (!p)
				return -1;
			*pids = p;
			cap *= 2;
		}
		(*pids)[(*n)++] = pid;
	}
	return 0;
}

static int cmd_procstat(int argc, char **argv)
{
	int pread_mode = argc > 1 && !strcmp(argv[1], "pread");
	long rounds = argc > 2 ? atol(argv[2]) : 10;
	char path[64], buf[1024];
	int *pids, *fds = NULL;
	uint64_t t0, reads = 0;
	size_t n;

	if (rounds <= 0 || read_pids(&pids, &n) || !n) {
		fprintf(stderr, "vmprof-bench procstat: no pids, or ROUNDS not positive\n");
		return 2;
	}
	if (pread_mode) {
		struct rlimit rl;

		/* One descriptor per process: 10,000 is above the usual 1,024. */
		if (getrlimit(RLIMIT_NOFILE, &rl))
			return die("getrlimit");
		if (rl.rlim_cur < n + 16) {
			rl.rlim_cur = n + 16;
			if (rl.rlim_max < rl.rlim_cur)
				rl.rlim_max = rl.rlim_cur;
			if (setrlimit(RLIMIT_NOFILE, &rl))
				return die("setrlimit(RLIMIT_NOFILE), one descriptor per process");
		}
		fds = malloc(n * sizeof(*fds));
		if (!fds)
			return die("malloc");
		for (size_t i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "/proc/%d/stat", pids[i]);
			fds[i] = open(path, O_RDONLY | O_CLOEXEC);
			if (fds[i] < 0)
				return die(path);
		}
	}
	t0 = now_ns();
	for (long r = 0; r < rounds; r++)
		for (size_t i = 0; i < n; i++) {
			ssize_t got;

			if (pread_mode) {
				got = pread(fds[i], buf, sizeof(buf), 0);
			} else {
				int fd;

				snprintf(path, sizeof(path), "/proc/%d/stat", pids[i]);
				fd = open(path, O_RDONLY | O_CLOEXEC);
				if (fd < 0)
					return die(path);
				got = read(fd, buf, sizeof(buf));
				close(fd);
			}
			if (got <= 0)
				return die("read");
			reads++;
		}
	printf("ns_per_read %.0f\n", (double)(now_ns() - t0) / (double)reads);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmd_wlat(int argc, char **argv)
{
	int pid = argc > 1 ? atoi(argv[1]) : 0;
	uint64_t ms = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;
	size_t n = 0, cap = 1 << 16;
	uint64_t *lat, end;
	char cmd[2][32];
	int fd = open(VMPROF_STATUS_PATH, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return die(VMPROF_STATUS_PATH);
	lat = malloc(cap * sizeof(*lat));
	if (!lat)
		return die("malloc");
	snprintf(cmd[0], sizeof(cmd[0]), "R %d\n", pid);
	snprintf(cmd[1], sizeof(cmd[1]), "U %d\n", pid);
	end = now_ns() + ms * 1000000u;
	while (now_ns() < end && n < cap) {
		const char *c = cmd[n % 2];
		uint64_t t = now_ns();

		if (write(fd, c, strlen(c)) < 0)
			return die(c);
		lat[n++] = now_ns() - t;
	}
	if (n % 2 && write(fd, cmd[1], strlen(cmd[1])) < 0)
		return die(cmd[1]);
	if (!n)
		return 1;
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("writes %zu median_us %.1f p99_us %.1f max_us %.1f\n", n,
	       lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3);
	free(lat);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: see the comment at the top of vmprof-bench.c\n");
		return 2;
	}
	if (!strcmp(argv[1], "park"))
		return cmd_park(argc - 1, argv + 1);
	if (!strcmp(argv[1], "procstat"))
		return cmd_procstat(argc - 1, argv + 1);
	if (!strcmp(argv[1], "wlat"))
		return cmd_wlat(argc - 1, argv + 1);
	fprintf(stderr, "vmprof-bench: unknown command %s\n", argv[1]);
	return 2;
}
