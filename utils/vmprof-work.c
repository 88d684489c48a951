// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmprof-work: the workload generator of the vmprof case studies.
 *
 * Allocates SIZE_MB of anonymous memory, then ITERATIONS times makes
 * ACCESSES page accesses (a read-modify-write of one byte of the page) in
 * a random or a local pattern, pausing between iterations.  At exit it
 * prints its own fault counts and CPU time so profiles can be checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "vmprof_abi.h"

/* Locality: accesses stay within a window of this many pages... */
#define WINDOW_PAGES	64
/* ...which moves by one page every this many accesses... */
#define WINDOW_STEP	100
/* ...and one access in this many goes anywhere. */
#define STRAY_ONE_IN	50

static const char usage_text[] =
"Usage: vmprof-work [OPTION]... SIZE_MB PATTERN ACCESSES [ITERATIONS]\n"
"\n"
"Touch SIZE_MB of memory with ACCESSES page accesses per iteration, for\n"
"ITERATIONS iterations (default 20) with a pause between them.\n"
"PATTERN is R (random: any page, uniformly) or L (locality: accesses stay\n"
"in a 256 KiB window that moves slowly through the memory; 1 in 50 strays).\n"
"At exit prints its own minor/major faults and CPU time (getrusage).\n"
"\n"
"Options:\n"
"  -p, --pause-ms MS   pause between iterations (default 1000)\n"
"  -t, --threads N     share the accesses among N threads (default 1)\n"
"  -r, --register      register this process with vmprof first\n"
"  -c, --copies N      run N copies of the workload as child processes of a\n"
"                      supervisor that locks itself in memory; it starts\n"
"                      them together once all have their memory (written,\n"
"                      with --prefault), and once all are ready (registered,\n"
"                      with -r) prints \"copies: PID...\" and waits for them\n"
"  -d, --duration SEC  stop (SIGKILL) the copies after SEC seconds\n"
"  -s, --seed N        random seed (default 1): runs are repeatable\n"
"      --prefault      write every page once before registering, so that\n"
"                      the profile starts with the memory in use\n"
"      --thp           allow transparent huge pages (default: 4 KiB pages,\n"
"                      so one first touch is one fault)\n"
"  -h, --help          show this help\n"
"  -V, --version       show the version\n"
"\n"
"Examples:\n"
"  vmprof-work 1024 R 50000          random accesses over 1 GiB\n"
"  vmprof-work 1024 L 10000 5        local accesses, 5 iterations\n"
"  vmprof-work -p 0 -t 4 256 R 100000 1\n"
"  vmprof-work --copies 8 --duration 10 --register 24 R 10000 1000000\n"
"  vmprof run -- vmprof-work 200 R 10000\n";

struct job {
	char *mem;
	size_t pages;
	long psz;
	int local;
	unsigned long accesses;
	unsigned long iterations;
	long pause_ms;
	unsigned int threads;
	unsigned long seed;
};

struct worker {
	const struct job *job;
	unsigned int index;
	pthread_t thread;
	uint64_t state;
	unsigned long sum;
};

static uint64_t next_random(uint64_t *s)
{
	/* xorshift64*: fast, and enough for picking pages. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	const struct job *j = w->job;
	unsigned long n = j->accesses / j->threads +
			  (w->index < j->accesses % j->threads);
	size_t base = (j->pages / j->threads) * w->index;

	for (unsigned long it = 0; it < j->iterations; it++) {
		for (unsigned long i = 0; i < n; i++) {
			uint64_t r = next_random(&w->state);
			size_t page;

			if (!j->local || r % STRAY_ONE_IN == 0) {
				page = (size_t)(r >> 8) % j->pages;
			} else {
				size_t win = j->pages < WINDOW_PAGES ?
					     j->pages : WINDOW_PAGES;

				page = (base + (size_t)(r >> 8) % win) %
				       j->pages;
				if (i % WINDOW_STEP == WINDOW_STEP - 1)
					base = (base + 1) % j->pages;
			}
			/* Really touch it: a read, then a write. */
			w->sum += (unsigned char)j->mem[page * (size_t)j->psz];
			j->mem[page * (size_t)j->psz] = (char)(w->sum + 1);
		}
		/* All threads pause at once only loosely; fine for a load. */
		if (it + 1 < j->iterations && j->pause_ms > 0)
			sleep_ms(j->pause_ms);
	}
	return NULL;
}

/*
 * Written out rather than through libvmprof: the workload stays a plain
 * program whose own figures nothing else disturbs.
 */
static int register_self(void)
{
	char cmd[VMPROF_CMD_MAX];
	int fd = open(VMPROF_STATUS_PATH, O_WRONLY | O_CLOEXEC);
	int len = snprintf(cmd, sizeof(cmd), "R %d\n", (int)getpid());

	if (fd < 0 && errno == ENOENT) {
		util_fail("cannot register: %s", MODULE_HINT);
		return -1;
	}
	if (fd < 0 || write(fd, cmd, (size_t)len) != len) {
		util_fail("cannot register with vmprof: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static pid_t *children;
static unsigned long nchildren;
/* In a copy: where to tell the supervisor that it has its memory (and
 * later that it is registered), and where it waits for the start. */
static int ready_fd = -1, go_fd = -1;

/* Read @n bytes from @fd, one per copy; fewer at EOF (a copy failed). */
static unsigned long read_ready(int fd, unsigned long n)
{
	unsigned long got = 0;
	char c;

	while (got < n) {
		ssize_t r = read(fd, &c, 1);

		if (r == 1)
			got++;
		else if (r == 0 || errno != EINTR)
			break;
	}
	return got;
}

/*
 * The parent of --copies: it forks the copies (each goes on as an ordinary
 * vmprof-work, with its own seed), starts them together once every one has
 * mapped (and with --prefault written) its memory, stops them after
 * @duration seconds if asked, and reaps them.  It locks itself in memory
 * first, so that the memory pressure the copies make cannot stall it: its
 * timing stays right.
 */
static int supervise(unsigned long copies, double duration,
		     unsigned long seed)
{
	unsigned long ready = 0;
	struct timespec ts;
	int status, rc = EXIT_OK, pfd[2], gfd[2];

	mlockall(MCL_CURRENT);	/* best effort: needs CAP_IPC_LOCK */
	children = calloc(copies, sizeof(*children));
	if (!children)
		return util_fail("out of memory");
	if (pipe(pfd) || pipe(gfd))
		return util_fail("cannot create a pipe: %s", strerror(errno));
	for (nchildren = 0; nchildren < copies; nchildren++) {
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			rc = util_fail("fork: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			munlockall();
			close(pfd[0]);
			close(gfd[1]);
			ready_fd = pfd[1];
			go_fd = gfd[0];
			return -(int)(seed + nchildren + 1);	/* child */
		}
		children[nchildren] = pid;
	}
	/*
	 * Each copy writes a byte once it has its memory, waits for the start
	 * (EOF on the go pipe), registers, and writes another; EOF if one
	 * failed first.  All start together: none runs alone while the others
	 * are still filling their memory.
	 */
	close(pfd[1]);
	close(gfd[0]);
	ready = read_ready(pfd[0], nchildren);
	close(gfd[1]);		/* the start, or EOF to the rest if one failed */
	if (ready == nchildren)
		ready = read_ready(pfd[0], nchildren);
	close(pfd[0]);
	if (ready < nchildren && rc == EXIT_OK)
		rc = util_fail("%lu of %lu copies failed to start",
			       nchildren - ready, nchildren);
	printf("copies:");
	for (unsigned long i = 0; i < nchildren; i++)
		printf(" %d", (int)children[i]);
	printf("\n");
	fflush(stdout);
	if (duration > 0 && rc == EXIT_OK) {
		ts.tv_sec = (time_t)duration;
		ts.tv_nsec = (long)((duration - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		for (unsigned long i = 0; i < nchildren; i++)
			kill(children[i], SIGKILL);
		/* Let them be sampled as zombies, with their final counts. */
		sleep_ms(200);
	} else if (rc != EXIT_OK) {
		for (unsigned long i = 0; i < nchildren; i++)
			kill(children[i], SIGKILL);
	}
	for (unsigned long i = 0; i < nchildren; i++) {
		while (waitpid(children[i], &status, 0) < 0 && errno == EINTR)
			;
		if (duration <= 0 && (!WIFEXITED(status) || WEXITSTATUS(status)))
			rc = EXIT_FAIL;
	}
	free(children);
	if (rc == EXIT_OK)
		return util_close_stdout();
	return rc;
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * In a build with AddressSanitizer (make check-sanitize), no leak check at
 * exit: LeakSanitizer scans from a helper process it clones, whose faults
 * and CPU wait4(2) would count as this workload's children, so the
 * workload's rusage would no longer be its own.  Unused in other builds.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pause-ms", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "register", no_argument, NULL, 'r' },
		{ "copies", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "thp", no_argument, NULL, 'H' },
		{ "prefault", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct job j = { .iterations = 20, .pause_ms = 1000, .threads = 1,
			 .seed = 1 };
	unsigned long size_mb;
	struct worker *w;
	struct rusage ru;
	uint64_t t0;
	unsigned long copies = 1;
	double duration = 0;
	int reg = 0, thp = 0, prefault = 0, c;

	util_set_prog("vmprof-work");
	while ((c = getopt_long(argc, argv, "+p:t:rc:d:s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			j.pause_ms = (long)util_parse_ulong(optarg, "pause", 0, 3600000);
			break;
		case 't':
			j.threads = (unsigned int)util_parse_ulong(optarg, "threads", 1, 1024);
			break;
		case 'r':
			reg = 1;
			break;
		case 'c':
			copies = util_parse_ulong(optarg, "copies", 1, 4096);
			break;
		case 'd':
			duration = util_parse_double(optarg, "duration", 0.001, 1e7);
			break;
		case 's':
			j.seed = util_parse_ulong(optarg, "seed", 0, 1000000000);
			break;
		case 'H':
			thp = 1;
			break;
		case 'F':
			prefault = 1;
			break;
		case 'h':
			return util_help(usage_text);
		case 'V':
			return util_version();
		default:
			return util_usage_error(NULL);
		}
	}
	if (argc - optind < 3 || argc - optind > 4)
		return util_usage_error("expected SIZE_MB PATTERN ACCESSES [ITERATIONS]");
	size_mb = util_parse_ulong(argv[optind], "SIZE_MB", 1, 1UL << 22);
	if (strcmp(argv[optind + 1], "R") && strcmp(argv[optind + 1], "L"))
		return util_usage_error("PATTERN must be R (random) or L (locality)");
	j.local = argv[optind + 1][0] == 'L';
	j.accesses = util_parse_ulong(argv[optind + 2], "ACCESSES", 0, ULONG_MAX);
	if (argc - optind == 4)
		j.iterations = util_parse_ulong(argv[optind + 3], "ITERATIONS", 1, ULONG_MAX);

	if (copies > 1 || duration > 0) {
		int r = supervise(copies, duration, j.seed);

		if (r >= 0)
			return r;
		j.seed = (unsigned long)-r;	/* a copy: work on */
	}

	j.psz = sysconf(_SC_PAGESIZE);
	j.pages = (size_t)size_mb * (1024 * 1024 / (size_t)j.psz);
	if (j.threads > j.pages)
		j.threads = (unsigned int)j.pages;
	j.mem = mmap(NULL, j.pages * (size_t)j.psz, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (j.mem == MAP_FAILED)
		return util_fail("cannot map %lu MiB: %s", size_mb, strerror(errno));
	if (!thp)
		madvise(j.mem, j.pages * (size_t)j.psz, MADV_NOHUGEPAGE);

	if (prefault)
		for (size_t i = 0; i < j.pages; i++)
			j.mem[i * (size_t)j.psz] = 1;
	if (ready_fd >= 0) {
		char go;

		if (write(ready_fd, "m", 1) != 1)
			return util_fail("cannot tell the supervisor: %s", strerror(errno));
		while (read(go_fd, &go, 1) < 0 && errno == EINTR)
			;
		close(go_fd);
	}
	if (reg && register_self())
		return EXIT_FAIL;
	if (ready_fd >= 0) {
		if (write(ready_fd, "r", 1) != 1)
			return util_fail("cannot tell the supervisor: %s", strerror(errno));
		close(ready_fd);
	}

	w = calloc(j.threads, sizeof(*w));
	if (!w)
		return util_fail("out of memory");
	t0 = clock_ns(CLOCK_MONOTONIC);
	for (unsigned int i = 0; i < j.threads; i++) {
		w[i].job = &j;
		w[i].index = i;
		w[i].state = j.seed * 0x9E3779B97F4A7C15ULL + i + 1;
		if (j.threads > 1 &&
		    pthread_create(&w[i].thread, NULL, run_worker, &w[i]))
			return util_fail("cannot start thread %u", i);
	}
	if (j.threads == 1)
		run_worker(&w[0]);
	else
		for (unsigned int i = 0; i < j.threads; i++)
			pthread_join(w[i].thread, NULL);

	getrusage(RUSAGE_SELF, &ru);
	printf("vmprof-work: pid %d minflt %ld majflt %ld cpu_ns %" PRIu64
	       " wall_ns %" PRIu64 "\n", (int)getpid(), ru.ru_minflt,
	       ru.ru_majflt, clock_ns(CLOCK_PROCESS_CPUTIME_ID),
	       clock_ns(CLOCK_MONOTONIC) - t0);
	free(w);
	return util_close_stdout();
}
