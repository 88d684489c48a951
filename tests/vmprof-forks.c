/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmprof-forks: process trees of the shapes that make a profiler's tree
 * following hard, for tests/guest/exact.sh, which runs each under vmprof
 * run and checks the records against wait4's rusage and against the
 * processes tracefs saw created.  Exit 0 on success; on any failure a
 * message on standard error and exit 1 (2: usage).
 *
 *   vmprof-forks spawn N       posix_spawn /bin/sh -c '/bin/true; /bin/true'
 *                              N times, waiting for each
 *   vmprof-forks vfork N       vfork() and execve /bin/true N times,
 *                              waiting for each
 *   vmprof-forks threads T N   T threads start together (a barrier); each
 *                              forks N children that touch a few pages and
 *                              exit, and waits for its own
 *   vmprof-forks burst N       a child forks a child that forks N children
 *                              as fast as it can (depth 3), each touching a
 *                              few pages and exiting at once, reaped as fast
 *                              as they exit
 *   vmprof-forks daemon S      a double fork: the intermediate child exits at
 *                              once and is reaped; the grandchild, a daemon
 *                              (setsid, standard streams on /dev/null),
 *                              touches some memory, sleeps S seconds and
 *                              exits, long after the command returned.
 *                              Prints "grandchild PID"
 *   vmprof-forks subreaper N   a child subreaper (PR_SET_CHILD_SUBREAPER)
 *                              forks N children, each forks a grandchild and
 *                              exits at once; the grandchildren, reparented
 *                              to it, are reaped by it (waitpid(-1) until
 *                              ECHILD), 2N processes in all
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PAGE		4096
#define CHILD_PAGES	4	/* what a short child touches */
#define DAEMON_PAGES	64	/* what the daemon touches */

static const char *prog = "vmprof-forks";
/* Written by the children after fork (copy-on-write faults). */
static char scratch[CHILD_PAGES * PAGE];

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
	fprintf(stderr, "Usage: %s spawn N | vfork N | threads T N | burst N | daemon S | subreaper N\n",
		prog);
	exit(2);
}

static unsigned long number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max)
		usage();
	return v;
}

/* A short child: touch its pages (a fault each) and exit. */
static void touch_and_exit(void)
{
	for (size_t i = 0; i < sizeof(scratch); i += PAGE)
		scratch[i] = (char)(i / PAGE + 1);
	_exit(0);
}

/* Wait for @pid, which must exit 0. */
static void reap(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid %s %d: %s", what, (int)pid, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("%s %d ended with status 0x%x", what, (int)pid, status);
}

/* waitpid(-1) until ECHILD; every child must exit 0: how many. */
static unsigned long reap_all(const char *what)
{
	unsigned long n = 0;
	int status;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, 0);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0 && errno == ECHILD)
			return n;
		if (pid < 0)
			fail("waitpid(-1) for %s: %s", what, strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail("%s %d ended with status 0x%x", what, (int)pid, status);
		n++;
	}
}

static pid_t do_fork(const char *what)
{
	pid_t pid = fork();

	if (pid < 0)
		fail("fork (%s): %s", what, strerror(errno));
	return pid;
}

/* --------------------------------------------------------------- modes */

static void mode_spawn(unsigned long n)
{
	char *argv[] = { "sh", "-c", "/bin/true; /bin/true", NULL };

	for (unsigned long i = 0; i < n; i++) {
		pid_t pid;
		int err = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);

		if (err)
			fail("posix_spawn /bin/sh: %s", strerror(err));
		reap(pid, "sh");
	}
}

/* vfork() and exec /bin/true: the child's pid.  A function of its own, so
 * that no variable of the caller's lives across vfork(). */
static __attribute__((noinline)) pid_t vfork_true(void)
{
	pid_t pid = vfork();

	if (!pid) {
		static char *argv[] = { "true", NULL };

		execve("/bin/true", argv, environ);
		_exit(127);
	}
	return pid;
}

static void mode_vfork(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		pid_t pid = vfork_true();

		if (pid < 0)
			fail("vfork: %s", strerror(errno));
		reap(pid, "/bin/true");
	}
}

struct thread_arg {
	pthread_barrier_t *start;
	unsigned long n;
	pid_t *pids;
};

static void *forker(void *p)
{
	struct thread_arg *a = p;

	pthread_barrier_wait(a->start);
	for (unsigned long i = 0; i < a->n; i++) {
		a->pids[i] = do_fork("threads");
		if (!a->pids[i])
			touch_and_exit();
	}
	for (unsigned long i = 0; i < a->n; i++)
		reap(a->pids[i], "child of a thread");
	return NULL;
}

static void mode_threads(unsigned long t, unsigned long n)
{
	pthread_barrier_t start;
	pthread_t *tid = calloc(t, sizeof(*tid));
	struct thread_arg *args = calloc(t, sizeof(*args));
	pid_t *pids = calloc(t * n, sizeof(*pids));
	int err;

	if (!tid || !args || !pids)
		fail("out of memory");
	err = pthread_barrier_init(&start, NULL, (unsigned int)t);
	if (err)
		fail("pthread_barrier_init: %s", strerror(err));
	for (unsigned long i = 0; i < t; i++) {
		args[i].start = &start;
		args[i].n = n;
		args[i].pids = pids + i * n;
		err = pthread_create(&tid[i], NULL, forker, &args[i]);
		if (err)
			fail("pthread_create: %s", strerror(err));
	}
	for (unsigned long i = 0; i < t; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start);
	free(pids);
	free(args);
	free(tid);
}

static void mode_burst(unsigned long n)
{
	pid_t a = do_fork("burst: first child"), b;
	unsigned long forked = 0, reaped = 0;
	int status;

	if (a) {
		reap(a, "burst: first child");
		return;
	}
	b = do_fork("burst: second child");
	if (b) {
		reap(b, "burst: second child");
		_exit(0);
	}
	/* The burst: fork them all, reaping whatever has exited between
	 * two forks, then the rest as they exit. */
	while (forked < n) {
		pid_t pid = do_fork("burst");

		if (!pid)
			touch_and_exit();
		forked++;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				fail("burst child %d ended with status 0x%x",
				     (int)pid, status);
			reaped++;
		}
	}
	reaped += reap_all("burst child");
	if (reaped != n)
		fail("burst: reaped %lu children of %lu", reaped, n);
	_exit(0);
}

static void mode_daemon(unsigned long s)
{
	int p[2];
	pid_t mid, grand;
	ssize_t got;

	if (pipe(p))
		fail("pipe: %s", strerror(errno));
	mid = do_fork("daemon: intermediate");
	if (!mid) {
		close(p[0]);
		grand = fork();
		if (grand < 0)
			_exit(1);
		if (grand) {
			/* Tell the command the grandchild's pid, exit at once. */
			_exit(write(p[1], &grand, sizeof(grand)) == sizeof(grand) ? 0 : 1);
		}
		close(p[1]);
		{
			struct timespec ts = { .tv_sec = (time_t)s };
			char *mem;
			int fd;

			setsid();
			fd = open("/dev/null", O_RDWR);
			if (fd >= 0) {
				dup2(fd, 0);
				dup2(fd, 1);
				dup2(fd, 2);
				if (fd > 2)
					close(fd);
			}
			mem = mmap(NULL, DAEMON_PAGES * PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (mem == MAP_FAILED)
				_exit(1);
			for (size_t i = 0; i < DAEMON_PAGES * PAGE; i += PAGE)
				mem[i] = 1;
			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
			_exit(0);
		}
	}
	close(p[1]);
	do
		got = read(p[0], &grand, sizeof(grand));
	while (got < 0 && errno == EINTR);
	close(p[0]);
	reap(mid, "daemon: intermediate");
	if (got != (ssize_t)sizeof(grand))
		fail("daemon: the intermediate child did not tell the grandchild's pid");
	printf("grandchild %d\n", (int)grand);
}

static void mode_subreaper(unsigned long n)
{
	unsigned long reaped;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		fail("prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
	for (unsigned long i = 0; i < n; i++) {
		int p[2];
		char c;

		if (do_fork("subreaper: child"))
			continue;
		/* The child: a grandchild that outlives it, then exit. */
		if (pipe(p))
			_exit(1);
		if (!fork()) {
			/* Until the child is gone (end of file): then it
			 * is the subreaper's. */
			close(p[1]);
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
			touch_and_exit();
		}
		_exit(0);
	}
	reaped = reap_all("subreaper: child or grandchild");
	if (reaped != 2 * n)
		fail("subreaper: reaped %lu processes, not %lu", reaped, 2 * n);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		usage();
	if (!strcmp(argv[1], "spawn") && argc == 3)
		mode_spawn(number(argv[2], 100000));
	else if (!strcmp(argv[1], "vfork") && argc == 3)
		mode_vfork(number(argv[2], 100000));
	else if (!strcmp(argv[1], "threads") && argc == 4)
		mode_threads(number(argv[2], 256), number(argv[3], 10000));
	else if (!strcmp(argv[1], "burst") && argc == 3)
		mode_burst(number(argv[2], 100000));
	else if (!strcmp(argv[1], "daemon") && argc == 3)
		mode_daemon(number(argv[2], 3600));
	else if (!strcmp(argv[1], "subreaper") && argc == 3)
		mode_subreaper(number(argv[2], 100000));
	else
		usage();
	if (fflush(stdout))
		fail("standard output: %s", strerror(errno));
	return 0;
}
