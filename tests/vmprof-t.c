/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmprof-t: small probes the module tests run inside the lab VM.
 *
 *   vmprof-t write [--uid UID] STRING     one write(2) of STRING to the
 *                                         status file; prints OK or the
 *                                         errno name (EINVAL, ...)
 *   vmprof-t writehex [--uid UID] HEX     the same with arbitrary bytes
 *   vmprof-t touch PAGES [HOLD_MS [DELAY_MS]]
 *                                         wait DELAY_MS, register self,
 *                                         write one byte to each of PAGES
 *                                         fresh pages, print the getrusage
 *                                         minflt of that loop, sleep HOLD_MS
 *   vmprof-t spin MS [DELAY_MS|stop]      wait DELAY_MS, register self,
 *                                         busy-loop MS ms, print wall and
 *                                         CPU ns of the loop; with "stop",
 *                                         stop (SIGSTOP) instead and leave
 *                                         registering to the caller, who
 *                                         then sends SIGCONT
 *   vmprof-t read [opts]                  stream ring records as text
 *        --pid P        only records of P
 *        --until-exit P stop after P's EXITED/UNREGISTERED record
 *        --count N      stop after N records
 *        --ms MS        stop after MS milliseconds
 *        --until-file F stop once F exists, after the records published
 *                       before it did
 *        --sleep-ms MS  sleep MS between polls (a slow reader)
 *        --from-start   begin at the oldest record still in the ring
 *   vmprof-t forktree N PAGES [DEPTH]     register self with "R <pid> +"
 *                                         (unless registered already, as
 *                                         by vmprof run),
 *                                         fork N children at once, each
 *                                         a chain of DEPTH processes (each
 *                                         forks the next and reaps it),
 *                                         each touching PAGES fresh pages
 *                                         and spinning 2 ms; once all are
 *                                         forked they exit; reap them all,
 *                                         print one "proc PID PPID" per
 *                                         process of the tree (self last),
 *                                         then "children MINFLT MAJFLT
 *                                         CPU_NS" from getrusage(
 *                                         RUSAGE_CHILDREN); hold 300 ms so
 *                                         the children's last records come
 *                                         before its own
 *   vmprof-t mmapcheck                    mmap must refuse writable maps
 *   vmprof-t hold SECONDS [FILE]          keep /dev/vmprof mapped & polled
 *                                         for SECONDS, or until FILE exists
 *                                         (SECONDS is then a time-out:
 *                                         "released" or "timed out")
 *
 * Record lines: "rec SEQ TIME_NS INTERVAL_NS CPU_NS MIN MAJ RSS_KB PID FLAGS
 * PPID COMM" (COMM with blanks as '_', "-" if empty).
 * At the end of read: "end NEXT" (the record number after the last one
 * looked at), "period MS" (from the ring header), "lost N" and "torn N".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmprof_abi.h"

static const char *errno_name(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case ESRCH: return "ESRCH";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOSPC: return "ENOSPC";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "EOTHER";
	}
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void drop_to(const char *uid)
{
	uid_t u = (uid_t)strtoul(uid, NULL, 10);

	if (setgid(u) || setuid(u)) {
		perror("setuid");
		exit(2);
	}
}

static int do_write(const char *buf, size_t len)
{
	int fd = open(VMPROF_STATUS_PATH, O_WRONLY);
	ssize_t n;

	if (fd < 0) {
		printf("open:%s\n", errno_name(errno));
		return 1;
	}
	n = write(fd, buf, len);
	if (n < 0) {
		printf("%s\n", errno_name(errno));
		close(fd);
		return 1;
	}
	close(fd);
	if ((size_t)n != len) {
		printf("SHORT %zd\n", n);
		return 1;
	}
	printf("OK\n");
	return 0;
}

static int cmd_write(int argc, char **argv, int hex)
{
	unsigned char buf[4096];
	size_t len = 0;
	const char *s;

	if (argc >= 3 && !strcmp(argv[1], "--uid")) {
		drop_to(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: vmprof-t write|writehex [--uid UID] ARG\n");
		return 2;
	}
	s = argv[1];
	if (!hex)
		return do_write(s, strlen(s));
	while (s[0] && s[1] && len < sizeof(buf)) {
		unsigned int b;

		if (sscanf(s, "%2x", &b) != 1)
			return 2;
		buf[len++] = (unsigned char)b;
		s += 2;
	}
	return do_write((const char *)buf, len);
}

/* Register self; with @may_exist, being registered already is fine. */
static int register_self_as(const char *suffix, int may_exist)
{
	char cmd[32];
	int fd = open(VMPROF_STATUS_PATH, O_WRONLY);
	int len = snprintf(cmd, sizeof(cmd), "R %d%s\n", (int)getpid(), suffix);

	if (fd < 0 || (write(fd, cmd, (size_t)len) != len &&
		       !(may_exist && errno == EEXIST))) {
		perror("register");
		return -1;
	}
	close(fd);
	return 0;
}

static int register_self(void)
{
	return register_self_as("", 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int cmd_touch(int argc, char **argv)
{
	long pages = argc > 1 ? atol(argv[1]) : 1000;
	long hold = argc > 2 ? atol(argv[2]) : 200;
	long delay = argc > 3 ? atol(argv[3]) : 0;
	long psz = sysconf(_SC_PAGESIZE);
	struct rusage r0, r1;
	char *p;
	long i;

	p = mmap(NULL, (size_t)(pages * psz), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* One fault per 4 KiB page, not one per 2 MiB. */
	madvise(p, (size_t)(pages * psz), MADV_NOHUGEPAGE);
	sleep_ms(delay);
	if (register_self())
		return 1;
	getrusage(RUSAGE_SELF, &r0);
	for (i = 0; i < pages; i++)
		p[i * psz] = 1;
	getrusage(RUSAGE_SELF, &r1);
	printf("pid %d minflt %ld majflt %ld\n", (int)getpid(),
	       r1.ru_minflt - r0.ru_minflt, r1.ru_majflt - r0.ru_majflt);
	fflush(stdout);
	sleep_ms(hold);
	return 0;
}

static int cmd_spin(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 1000;
	int stop = argc > 2 && !strcmp(argv[2], "stop");
	long delay = argc > 2 && !stop ? atol(argv[2]) : 0;
	uint64_t t0, c0, t1, c1;
	volatile uint64_t x = 0;

	if (stop) {
		if (raise(SIGSTOP))
			return 1;
	} else {
		sleep_ms(delay);
		if (register_self())
			return 1;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	while (now_ns(CLOCK_MONOTONIC) - t0 < (uint64_t)ms * 1000000u)
		for (int i = 0; i < 1000; i++)
			x += (uint64_t)i;
	t1 = now_ns(CLOCK_MONOTONIC);
	c1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	printf("pid %d wall_ns %" PRIu64 " cpu_ns %" PRIu64 "\n", (int)getpid(),
	       t1 - t0, c1 - c0);
	return 0;
}

/* Touch @pages fresh pages and spin 2 ms of CPU. */
static void tree_work(long pages)
{
	long psz = sysconf(_SC_PAGESIZE);
	volatile uint64_t x = 0;
	uint64_t c0;
	char *p;

	p = mmap(NULL, (size_t)(pages * psz), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(3);
	madvise(p, (size_t)(pages * psz), MADV_NOHUGEPAGE);
	for (long i = 0; i < pages; i++)
		p[i * psz] = 1;
	c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	while (now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0 < 2000000u)
		for (int i = 0; i < 1000; i++)
			x += (uint64_t)i;
}

/* One line, in one write(2): the processes of the tree share stdout. */
static void say_proc(void)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "proc %d %d\n", (int)getpid(),
			 (int)getppid());

	if (write(STDOUT_FILENO, line, (size_t)n) != n)
		_exit(4);
}

/*
 * A chain of @depth processes: work, fork the next, wait until @go reads
 * end of file (the forker closed its end, after its last fork), reap the
 * next, exit.  The forker's children are all alive at once.
 */
static _Noreturn void tree_chain(long pages, long depth, int go)
{
	char b;

	for (;;) {
		pid_t c;
		int st;

		tree_work(pages);
		if (depth <= 1)
			break;
		c = fork();
		if (c < 0)
			_exit(5);
		if (c == 0) {
			depth--;	/* the child goes on down the chain */
			continue;
		}
		while (read(go, &b, 1) < 0 && errno == EINTR)
			;
		if (waitpid(c, &st, 0) != c || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			_exit(6);
		break;
	}
	while (read(go, &b, 1) < 0 && errno == EINTR)
		;
	say_proc();
	_exit(0);
}

static int cmd_forktree(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10;
	long pages = argc > 2 ? atol(argv[2]) : 10;
	long depth = argc > 3 ? atol(argv[3]) : 1;
	struct rusage ru;
	int bad = 0, st, go[2];

	if (n < 1 || depth < 1 || pages < 1) {
		fprintf(stderr, "usage: vmprof-t forktree N PAGES [DEPTH]\n");
		return 2;
	}
	if (register_self_as(" +", 1) || pipe(go))
		return 1;
	fflush(stdout);
	for (long i = 0; i < n; i++) {
		pid_t c = fork();

		if (c < 0) {
			perror("fork");
			return 1;
		}
		if (c == 0) {
			close(go[1]);
			tree_chain(pages, depth, go[0]);
		}
	}
	close(go[1]);
	close(go[0]);
	for (long i = 0; i < n; i++)
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			bad = 1;
	say_proc();
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("children %ld %ld %" PRIu64 "\n", ru.ru_minflt, ru.ru_majflt,
	       ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
	       1000000000u + ((uint64_t)ru.ru_utime.tv_usec +
			      (uint64_t)ru.ru_stime.tv_usec) * 1000u);
	fflush(stdout);
	sleep_ms(300);
	return bad;
}

struct ring {
	int fd;
	const struct vmprof_ring_header *hdr;
	const struct vmprof_record *recs;
	size_t len;
};

static int ring_open(struct ring *r)
{
	const struct vmprof_ring_header *h;

	r->fd = open(VMPROF_DEVICE_PATH, O_RDONLY);
	if (r->fd < 0) {
		perror(VMPROF_DEVICE_PATH);
		return -1;
	}
	h = mmap(NULL, VMPROF_HEADER_SIZE, PROT_READ, MAP_SHARED, r->fd, 0);
	if (h == MAP_FAILED) {
		perror("mmap header");
		return -1;
	}
	if (h->magic != VMPROF_MAGIC || h->abi_version != VMPROF_ABI_VERSION ||
	    h->record_size != sizeof(struct vmprof_record)) {
		fprintf(stderr, "bad ring header\n");
		return -1;
	}
	r->len = h->header_size + h->capacity * h->record_size;
	munmap((void *)h, VMPROF_HEADER_SIZE);
	r->hdr = mmap(NULL, r->len, PROT_READ, MAP_SHARED, r->fd, 0);
	if (r->hdr == MAP_FAILED) {
		perror("mmap ring");
		return -1;
	}
	r->recs = (const void *)((const char *)r->hdr + r->hdr->header_size);
	return 0;
}

static int cmd_read(int argc, char **argv)
{
	long pid = -1, until = -1, count = -1, ms = -1, nap = 0;
	const char *stop_file = NULL;
	uint64_t next, head, lost = 0, torn = 0, seen = 0, deadline = 0;
	int from_start = 0, done = 0;
	struct ring r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : "0";

		if (!strcmp(a, "--from-start")) {
			from_start = 1;
			continue;
		}
		if (!strcmp(a, "--pid"))
			pid = atol(v);
		else if (!strcmp(a, "--until-exit"))
			until = atol(v);
		else if (!strcmp(a, "--count"))
			count = atol(v);
		else if (!strcmp(a, "--ms"))
			ms = atol(v);
		else if (!strcmp(a, "--until-file"))
			stop_file = v;
		else if (!strcmp(a, "--sleep-ms"))
			nap = atol(v);
		else {
			fprintf(stderr, "read: unknown option %s\n", a);
			return 2;
		}
		i++;
	}
	if (ring_open(&r))
		return 1;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	head = __atomic_load_n(&r.hdr->head, __ATOMIC_ACQUIRE);
	next = head;
	if (from_start)
		next = head > r.hdr->capacity ? head - r.hdr->capacity : 0;
	printf("start %" PRIu64 "\n", next);
	fflush(stdout);
	if (ms >= 0)
		deadline = now_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000u;
	while (!done) {
		struct pollfd pfd = { r.fd, POLLIN, 0 };
		/* Looked at first: what was published before it exists is read. */
		int last = stop_file && !access(stop_file, F_OK);

		head = __atomic_load_n(&r.hdr->head, __ATOMIC_ACQUIRE);
		if (head - next > r.hdr->capacity) {
			lost += head - r.hdr->capacity - next;
			next = head - r.hdr->capacity;
		}
		for (; next < head && !done; next++) {
			const struct vmprof_record *s = &r.recs[next % r.hdr->capacity];
			struct vmprof_record rec;
			uint64_t s1, s2;

			s1 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
			memcpy(&rec, s, sizeof(rec));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
			if (s1 != next || s2 != next) {
				torn++;
				lost++;
				continue;
			}
			seen++;
			if (pid >= 0 && rec.pid != (uint32_t)pid)
				continue;
			rec.comm[sizeof(rec.comm) - 1] = '\0';
			for (char *c = rec.comm; *c; c++)
				if (*c <= ' ')
					*c = '_';
			printf("rec %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			       " %" PRIu64 " %" PRIu64 " %" PRIu64 " %u %u %u %s\n",
			       next, (uint64_t)rec.time_ns,
			       (uint64_t)rec.interval_ns, (uint64_t)rec.cpu_ns,
			       (uint64_t)rec.min_flt, (uint64_t)rec.maj_flt,
			       (uint64_t)rec.rss_kb, rec.pid, rec.flags, rec.ppid,
			       rec.comm[0] ? rec.comm : "-");
			if (until >= 0 && rec.pid == (uint32_t)until &&
			    (rec.flags & (VMPROF_REC_EXITED |
					  VMPROF_REC_UNREGISTERED)))
				done = 1;
			if (count >= 0 && (long)seen >= count)
				done = 1;
		}
		if (last || (deadline && now_ns(CLOCK_MONOTONIC) >= deadline))
			done = 1;
		if (done)
			break;
		/* What was read is in the file before the reader waits: the
		 * tests poll it (a full buffer of 64 KiB could hold it back
		 * until the end). */
		if (fflush(stdout))
			return 1;
		if (nap)
			sleep_ms(nap);
		else if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
			return 1;
	}
	printf("end %" PRIu64 "\nperiod %u\nlost %" PRIu64 "\ntorn %" PRIu64 "\n",
	       next, r.hdr->period_ms, lost, torn);
	return fflush(stdout) ? 1 : 0;
}

static int cmd_mmapcheck(void)
{
	int fd = open(VMPROF_DEVICE_PATH, O_RDONLY);
	int bad = 0;
	void *p;

	if (fd < 0) {
		perror(VMPROF_DEVICE_PATH);
		return 1;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("shared-write %s\n", p == MAP_FAILED ? errno_name(errno) : "MAPPED");
	bad |= p != MAP_FAILED;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	printf("private-write %s\n", p == MAP_FAILED ? errno_name(errno) : "MAPPED");
	bad |= p != MAP_FAILED;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		printf("read MAPFAIL\n");
		return 1;
	}
	{
		int r = mprotect(p, 4096, PROT_READ | PROT_WRITE);

		printf("mprotect %s\n", r ? errno_name(errno) : "ALLOWED");
		bad |= !r;
	}
	p = mmap(NULL, 1u << 30, PROT_READ, MAP_SHARED, fd, 0);
	printf("oversized %s\n", p == MAP_FAILED ? errno_name(errno) : "MAPPED");
	bad |= p != MAP_FAILED;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 1u << 30);
	printf("offset %s\n", p == MAP_FAILED ? errno_name(errno) : "MAPPED");
	bad |= p != MAP_FAILED;
	return bad;
}

static int cmd_hold(int argc, char **argv)
{
	long secs = argc > 1 ? atol(argv[1]) : 5;
	const char *release = argc > 2 ? argv[2] : NULL;
	uint64_t end = now_ns(CLOCK_MONOTONIC) + (uint64_t)secs * 1000000000u;
	long wakes = 0;
	struct ring r;

	if (ring_open(&r))
		return 1;
	printf("holding\n");
	fflush(stdout);
	while (now_ns(CLOCK_MONOTONIC) < end) {
		struct pollfd pfd = { r.fd, POLLIN, 0 };

		if (poll(&pfd, 1, 100) > 0)
			wakes++;
		if (release && !access(release, F_OK))
			break;
	}
	if (release)
		printf("%s\n", access(release, F_OK) ? "timed out" : "released");
	printf("wakes %ld head %" PRIu64 "\n", wakes,
	       (uint64_t)__atomic_load_n(&r.hdr->head, __ATOMIC_ACQUIRE));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: see the comment at the top of vmprof-t.c\n");
		return 2;
	}
	argc--;
	argv++;
	if (!strcmp(argv[0], "write"))
		return cmd_write(argc, argv, 0);
	if (!strcmp(argv[0], "writehex"))
		return cmd_write(argc, argv, 1);
	if (!strcmp(argv[0], "touch"))
		return cmd_touch(argc, argv);
	if (!strcmp(argv[0], "spin"))
		return cmd_spin(argc, argv);
	if (!strcmp(argv[0], "read"))
		return cmd_read(argc, argv);
	if (!strcmp(argv[0], "forktree"))
		return cmd_forktree(argc, argv);
	if (!strcmp(argv[0], "mmapcheck"))
		return cmd_mmapcheck();
	if (!strcmp(argv[0], "hold"))
		return cmd_hold(argc, argv);
	fprintf(stderr, "vmprof-t: unknown command %s\n", argv[0]);
	return 2;
}
