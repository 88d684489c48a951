/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmprof-stress: the stress test of vmprof.ko, run as root in the lab VM
 * by tests/guest/stress.sh.  Prints "PASS what" and "FAIL what" lines (the
 * script turns them into TAP), "# ..." figures, and exits 1 if anything
 * failed.
 *
 *   vmprof-stress chaos [--writers N] [--writes N] [--fuzz N] [--readers N]
 *                       [--pool N] [--lifetime-ms MS] [--no-params]
 *	A pool of child processes that fault memory, start threads and exit
 *	at random, half forking children of their own, reaped by their parent
 *	(a process of their own) as soon as they exit and respawned; N writer
 *	threads doing --writes random "R <pid>", "R <pid> +" (the process and
 *	what it forks) and "U <pid>" each over that pool, through descriptors they
 *	keep open; beside the pool a process registered with "R <pid> +"
 *	that forks children all along; one fuzzer thread doing --fuzz
 *	malformed or mutated writes
 *	(random bytes, grammar tokens, huge writes, bad buffers), each checked
 *	against a reference parser of the grammar; N ring readers checking
 *	every record; and a thread changing max_pids and period_ms under
 *	them all.  Only the documented errnos may come back.
 *
 *   vmprof-stress writers [--writers N] [--pool N] [--lifetime-ms MS]
 *	Writers on the pool through descriptors they keep open until
 *	SIGTERM, while the module is unloaded and loaded again under them: a
 *	write through a descriptor of an unloaded module fails with EIO, an
 *	open of the status file with ENOENT while the module is out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmprof_abi.h"

#define PID_MAX_LIMIT	(4 * 1024 * 1024)	/* the kernel's, on 64-bit */
#define POOL_MAX	256
#define PARAMS		"/sys/module/vmprof/parameters/"

static int failures;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void result(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	fputs(ok ? "PASS " : "FAIL ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
	pthread_mutex_unlock(&out_lock);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* xorshift64*: a cheap per-thread random number generator. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

static uint64_t seed_for(unsigned int salt)
{
	return (now_ns() ^ ((uint64_t)getpid() << 32) ^ (salt * 0x9e3779b97f4a7c15ULL)) | 1;
}

/* --------------------------------------------------------------- errnos -- */

/*
 * Outcomes of writes, counted per errno.  An index per errno we may see;
 * anything else lands in OTHER and fails the test.
 */
enum outcome { O_OK, O_EINVAL, O_ESRCH, O_EEXIST, O_ENOENT, O_EPERM,
	       O_ENOSPC, O_EFAULT, O_EIO, O_OTHER, O_N };
static const char *const outcome_name[O_N] = {
	"ok", "EINVAL", "ESRCH", "EEXIST", "ENOENT", "EPERM", "ENOSPC",
	"EFAULT", "EIO", "other",
};

static enum outcome outcome_of(ssize_t n, size_t len, int err)
{
	if (n >= 0)
		return (size_t)n == len ? O_OK : O_OTHER;
	switch (err) {
	case EINVAL: return O_EINVAL;
	case ESRCH: return O_ESRCH;
	case EEXIST: return O_EEXIST;
	case ENOENT: return O_ENOENT;
	case EPERM: return O_EPERM;
	case ENOSPC: return O_ENOSPC;
	case EFAULT: return O_EFAULT;
	case EIO: return O_EIO;
	default: return O_OTHER;
	}
}

struct tally {
	_Atomic uint64_t n[O_N];
	_Atomic int other_errno;	/* the last unexpected one */
};

static void tally_add(struct tally *t, enum outcome o, int err)
{
	atomic_fetch_add(&t->n[o], 1);
	if (o == O_OTHER)
		atomic_store(&t->other_errno, err);
}

static uint64_t tally_total(struct tally *t)
{
	uint64_t s = 0;

	for (int i = 0; i < O_N; i++)
		s += atomic_load(&t->n[i]);
	return s;
}

/* "ok 123, ESRCH 4, ..." for the outcomes seen. */
static void tally_format(struct tally *t, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < O_N && off < size; i++) {
		uint64_t v = atomic_load(&t->n[i]);

		if (v)
			off += (size_t)snprintf(buf + off, size - off, "%s%s %" PRIu64,
						off ? ", " : "", outcome_name[i], v);
	}
}

/* Only outcomes in @allowed (a bit mask of enum outcome) were seen. */
static bool tally_only(struct tally *t, unsigned int allowed)
{
	for (int i = 0; i < O_N; i++)
		if (atomic_load(&t->n[i]) && !(allowed & (1u << i)))
			return false;
	return true;
}

#define BIT(o) (1u << (o))

/* ----------------------------------------------------------------- pool -- */

/*
 * The pool lives in shared memory: its manager, a single-threaded process,
 * forks the children, reaps each as soon as it exits (at any point of a
 * tick) and respawns it; the writers pick pids from it.
 */
struct pool {
	int size;
	long lifetime_us;	/* a child lives 2 ms to this long */
	_Atomic int stop;
	_Atomic int pid[POOL_MAX];
	_Atomic uint64_t spawned, reaped;
};

static struct pool *pool;
static pid_t pool_manager;

static void *child_thread(void *arg)
{
	uint64_t s = (uintptr_t)arg;
	size_t len = (1 + rnd_below(&s, 64)) * 4096;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		for (size_t i = 0; i < len; i += 4096)
			p[i] = 1;
	sleep_us((long)rnd_below(&s, 40000));
	return NULL;
}

/*
 * A child: faults fresh memory for a while, sometimes with threads of its
 * own, some of which outlive the main thread (a zombie leader with live
 * threads), sometimes with a child of its own (registered at fork when a
 * writer's "R <pid> +" named it), then exits.
 */
static void child_main(uint64_t s)
{
	long lifetime_us = 2000 + (long)rnd_below(&s, (uint64_t)pool->lifetime_us);
	uint64_t end = now_ns() + (uint64_t)lifetime_us * 1000;
	int nthreads = (int)rnd_below(&s, 3);
	bool leader_first = rnd_below(&s, 4) == 0;
	/*
	 * Half fork children of their own, one at a time, one a round (a
	 * round is a few milliseconds): the writers' "R <pid> +" must find
	 * them forking while registered, and their "U <pid>" comes within
	 * milliseconds.
	 */
	bool forker = rnd_below(&s, 2) == 0;
	pid_t grandchild = -1;
	pthread_t th[2];

	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, child_thread,
				   (void *)(uintptr_t)(rnd(&s) | 1)))
			nthreads = i;
	while (now_ns() < end) {
		size_t len = (1 + rnd_below(&s, 128)) * 4096;
		char *p;

		if (grandchild > 0 && waitpid(grandchild, NULL, WNOHANG) == grandchild)
			grandchild = -1;
		if (forker && grandchild < 0) {
			/* Its one thread faults, sleeps and exits. */
			grandchild = fork();
			if (grandchild == 0) {
				p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				if (p != MAP_FAILED)
					for (size_t i = 0; i < 16 * 4096; i += 4096)
						p[i] = 1;
				sleep_us((long)rnd_below(&s, 5000));
				_exit(0);
			}
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			break;
		for (size_t i = 0; i < len; i += 4096)
			p[i] = (char)i;
		munmap(p, len);
		sleep_us((long)rnd_below(&s, 20000));
	}
	if (grandchild > 0)
		waitpid(grandchild, NULL, 0);
	if (leader_first && nthreads)
		pthread_exit(NULL);	/* the process ends with its last thread */
	_exit(0);
}

static pid_t spawn_child(uint64_t *s)
{
	uint64_t cs = rnd(s) | 1;
	pid_t pid = fork();

	if (pid == 0)
		child_main(cs);
	return pid;
}

static void pool_manager_main(void)
{
	uint64_t s = seed_for(999);
	int status;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 0; i < pool->size; i++) {
		pid_t pid = spawn_child(&s);

		if (pid > 0) {
			atomic_store(&pool->pid[i], pid);
			atomic_fetch_add(&pool->spawned, 1);
		}
	}
	for (;;) {
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;		/* no child left: stopped */
		}
		atomic_fetch_add(&pool->reaped, 1);
		for (int i = 0; i < pool->size; i++) {
			if (atomic_load(&pool->pid[i]) != pid)
				continue;
			atomic_store(&pool->pid[i], 0);
			if (!atomic_load(&pool->stop)) {
				pid_t np = spawn_child(&s);

				if (np > 0) {
					atomic_store(&pool->pid[i], np);
					atomic_fetch_add(&pool->spawned, 1);
				}
			}
			break;
		}
	}
	_exit(0);
}

static pid_t tree_forker;

/*
 * Beside the pool, a process that registers itself with "R <pid> +" (again
 * whenever it finds itself unregistered: the fuzzer may name it, max_pids
 * may refuse it) and forks short-lived children until stopped, so that
 * forks are followed throughout, whatever the writers do.
 */
static void tree_forker_main(void)
{
	char cmd[32];
	int len;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	len = snprintf(cmd, sizeof(cmd), "R %d +\n", (int)getpid());
	while (!atomic_load(&pool->stop)) {
		/* EEXIST, ENOSPC, or EIO and ENOENT while the module is
		 * reloaded: try again next round. */
		int fd = open(VMPROF_STATUS_PATH, O_WRONLY);
		pid_t c;

		if (fd >= 0) {
			if (write(fd, cmd, (size_t)len) < 0)
				errno = 0;
			close(fd);
		}
		c = fork();
		if (c == 0) {
			char *p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p != MAP_FAILED)
				for (size_t i = 0; i < 8 * 4096; i += 4096)
					p[i] = 1;
			_exit(0);
		}
		if (c > 0)
			waitpid(c, NULL, 0);
		sleep_us(2000);
	}
	_exit(0);
}

static int pool_start(int size, long lifetime_ms)
{
	pool = mmap(NULL, sizeof(*pool), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pool == MAP_FAILED)
		return -1;
	pool->size = size;
	pool->lifetime_us = lifetime_ms * 1000;
	pool_manager = fork();
	if (pool_manager < 0)
		return -1;
	if (pool_manager == 0)
		pool_manager_main();
	tree_forker = fork();
	if (tree_forker < 0)
		return -1;
	if (tree_forker == 0)
		tree_forker_main();
	/* Let it fill the pool. */
	for (int i = 0; i < 200 && atomic_load(&pool->spawned) < (uint64_t)size; i++)
		sleep_us(10000);
	return 0;
}

/* Stop respawning and wait until every child is reaped. */
static void pool_stop(void)
{
	int status;

	atomic_store(&pool->stop, 1);
	waitpid(pool_manager, &status, 0);
	waitpid(tree_forker, &status, 0);
	note("pool: %" PRIu64 " children spawned, %" PRIu64 " reaped by their parent",
	     atomic_load(&pool->spawned), atomic_load(&pool->reaped));
}

/* A pid to name: mostly a pool child (live, exiting or just reaped). */
static int pick_pid(uint64_t *s)
{
	for (int tries = 0; tries < 8; tries++) {
		int pid = atomic_load(&pool->pid[rnd_below(s, (uint64_t)pool->size)]);

		if (pid > 0)
			return pid;
	}
	return 2 + (int)rnd_below(s, 32768);	/* whatever lives there */
}

/* -------------------------------------------------------------- writers -- */

static struct tally write_tally;	/* well-formed R and U */
static struct tally open_tally;		/* open() of the status file */
static _Atomic uint64_t reopens;
static volatile sig_atomic_t stop_signal;
static _Atomic int stop_all;

static bool stopping(void)
{
	return atomic_load(&stop_all) || stop_signal;
}

static void on_stop(int sig)
{
	(void)sig;
	stop_signal = 1;
}

static int status_open(void)
{
	for (;;) {
		int fd = open(VMPROF_STATUS_PATH, O_WRONLY);

		if (fd >= 0)
			return fd;
		tally_add(&open_tally, errno == ENOENT ? O_ENOENT : O_OTHER, errno);
		if (errno != ENOENT || stopping())
			return -1;
		sleep_us(5000);		/* the module is out: wait for it */
	}
}

struct writer {
	pthread_t thread;
	unsigned int id;
	long writes;		/* < 0: until stopped */
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t s = seed_for(w->id);
	int fd = status_open();

	for (long i = 0; fd >= 0 && (w->writes < 0 ? !stopping() : i < w->writes); i++) {
		char cmd[32];
		int op = (int)rnd_below(&s, 4);	/* R, R +, U, U */
		int len = snprintf(cmd, sizeof(cmd), "%c %d%s\n",
				   op < 2 ? 'R' : 'U', pick_pid(&s),
				   op == 1 ? " +" : "");
		ssize_t n = write(fd, cmd, (size_t)len);
		enum outcome o = outcome_of(n, (size_t)len, errno);

		tally_add(&write_tally, o, errno);
		/*
		 * EIO: the module was unloaded since this descriptor was
		 * opened; the descriptor stays dead, open a new one.  Else
		 * now and then, a new descriptor anyway.
		 */
		if (o == O_EIO || rnd_below(&s, 1000) == 0) {
			close(fd);
			fd = status_open();
			atomic_fetch_add(&reopens, 1);
		}
		/*
		 * Until stopped (while the module comes and goes): a pause
		 * after each write, so that rmmod and insmod get the CPUs of
		 * a small VM too; 8 writers still write thousands of times
		 * a second.
		 */
		if (w->writes < 0)
			sleep_us(1000);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* ------------------------------------------------------------- fuzzer -- */

/*
 * The grammar of a status write, as documented: blanks (space, tab), R or
 * U, at least one blank, decimal digits naming a pid from 1 to
 * PID_MAX_LIMIT, blanks, after R optionally a '+' preceded by at least one
 * blank and followed by blanks, at most one newline at the very end, all in
 * fewer than VMPROF_CMD_MAX bytes.  Return whether @buf is such a command.
 */
static bool grammar_ok(const unsigned char *buf, size_t len)
{
	const unsigned char *s = buf, *end = buf + len, *digits;
	long long v = 0;
	unsigned char op;

	if (len == 0 || len >= VMPROF_CMD_MAX)
		return false;
	if (end[-1] == '\n')
		end--;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end || (*s != 'R' && *s != 'U'))
		return false;
	op = *s++;
	if (s == end || (*s != ' ' && *s != '\t'))
		return false;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	digits = s;
	while (s < end && *s >= '0' && *s <= '9') {
		if (v <= PID_MAX_LIMIT)
			v = v * 10 + (*s - '0');
		s++;
	}
	if (s == digits || s - digits > 11)
		return false;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (op == 'R' && s < end && *s == '+' && (s[-1] == ' ' || s[-1] == '\t')) {
		s++;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
	}
	return s == end && v >= 1 && v <= PID_MAX_LIMIT;
}

static const char *const tokens[] = {
	"R", "U", " ", "\t", "\n", "-", "+", "0", "1", "4194304", "4194305",
	"99999999999", "2147483648", "0x10", "r", "X", "\r", " R ", "\xff",
};

/* A command of the grammar, with random blanks and a pid of the pool. */
static size_t fuzz_valid(uint64_t *s, unsigned char *buf, size_t size)
{
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), "%.*s%c%.*s%0*d%.*s%s",
			 (int)rnd_below(s, 3), "\t  ", rnd_below(s, 2) ? 'R' : 'U',
			 1 + (int)rnd_below(s, 3), " \t ",
			 (int)rnd_below(s, 4), pick_pid(s),
			 (int)rnd_below(s, 3), " \t ", rnd_below(s, 2) ? "\n" : "");
	size_t len = (size_t)n < size ? (size_t)n : size;

	memcpy(buf, tmp, len);
	return len;
}

/* Mutate @buf in place: flip, insert, delete or splice in a token. */
static size_t fuzz_mutate(uint64_t *s, unsigned char *buf, size_t len, size_t size)
{
	size_t at = len ? rnd_below(s, len) : 0;
	const char *t;
	size_t tl;

	switch (rnd_below(s, 4)) {
	case 0:
		if (len)
			buf[at] ^= (unsigned char)(1u << rnd_below(s, 8));
		break;
	case 1:
		if (len < size) {
			memmove(buf + at + 1, buf + at, len - at);
			buf[at] = (unsigned char)rnd(s);
			len++;
		}
		break;
	case 2:
		if (len) {
			memmove(buf + at, buf + at + 1, len - at - 1);
			len--;
		}
		break;
	default:
		t = tokens[rnd_below(s, sizeof(tokens) / sizeof(tokens[0]))];
		tl = strlen(t);
		if (len + tl <= size) {
			memmove(buf + at + tl, buf + at, len - at);
			memcpy(buf + at, t, tl);
			len += tl;
		}
		break;
	}
	return len;
}

struct fuzzer {
	pthread_t thread;
	long writes;
	struct tally malformed;		/* the grammar says no: EINVAL */
	struct tally wellformed;	/* the grammar says yes: not EINVAL */
	struct tally huge;		/* VMPROF_CMD_MAX bytes or more */
	struct tally badbuf;		/* a buffer that is not mapped */
};

static void *fuzzer_main(void *arg)
{
	struct fuzzer *f = arg;
	uint64_t s = seed_for(1000);
	size_t huge_len = 1 << 20;
	unsigned char *huge = malloc(huge_len);
	unsigned char buf[64];
	int fd = status_open();

	if (!huge || fd < 0) {
		result(false, "fuzzer: cannot start (%s)", strerror(errno));
		return NULL;
	}
	memset(huge, ' ', huge_len);
	for (long i = 0; i < f->writes; i++) {
		uint64_t kind = rnd_below(&s, 1000);
		const void *p = buf;
		struct tally *t;
		size_t len;
		ssize_t n;

		if (kind == 0) {
			/* 32 bytes and more: refused before being read. */
			static const size_t sizes[] = { 32, 33, 4096, 65536, 1 << 20 };

			len = sizes[rnd_below(&s, 5)];
			memcpy(huge, "R 1\n", 4);
			p = huge;
			t = &f->huge;
		} else if (kind == 1) {
			/* A short write from an address that is not mapped. */
			p = (const void *)(uintptr_t)4096;
			len = 1 + rnd_below(&s, VMPROF_CMD_MAX - 1);
			t = &f->badbuf;
		} else {
			if (kind < 400) {
				len = rnd_below(&s, 40);
				for (size_t j = 0; j < len; j++)
					buf[j] = (unsigned char)rnd(&s);
			} else {
				len = fuzz_valid(&s, buf, sizeof(buf));
				for (uint64_t m = rnd_below(&s, 4); m; m--)
					len = fuzz_mutate(&s, buf, len, sizeof(buf));
			}
			t = grammar_ok(buf, len) ? &f->wellformed : &f->malformed;
		}
		n = write(fd, p, len);
		tally_add(t, outcome_of(n, len, errno), errno);
	}
	close(fd);
	free(huge);
	return NULL;
}

/* ------------------------------------------------------------- readers -- */

struct reader {
	pthread_t thread;
	unsigned int id;
	uint64_t records, lost, torn, invalid, polls;
	char first_bad[200];
};

static long ncpus;

/* Why @r is not a valid record, or NULL. */
static const char *record_problem(const struct vmprof_record *r, uint64_t prev_time,
				  uint64_t now)
{
	/* REAPED is ABI version 1's: the module reads a reaped process's
	 * final counts now.  EXITED and UNREGISTERED together: "U" after the
	 * process exited.
	 */
	const uint32_t known = VMPROF_REC_EXITED | VMPROF_REC_UNREGISTERED;

	if (r->flags & ~known)
		return "unknown flag bits";
	if (r->pid == 0 || r->pid > PID_MAX_LIMIT)
		return "pid out of range";
	if (r->ppid > PID_MAX_LIMIT)
		return "ppid out of range";
	if (r->reserved0)
		return "reserved0 not 0";
	if (!memchr(r->comm, '\0', sizeof(r->comm)))
		return "comm not terminated";
	for (size_t i = 0; i < sizeof(r->reserved) / sizeof(r->reserved[0]); i++)
		if (r->reserved[i])
			return "reserved not 0";
	if (r->time_ns < prev_time)
		return "time goes backwards in ring order";
	if (r->time_ns > now)
		return "time in the future";
	if (r->interval_ns > 60ULL * 1000000000u || r->interval_ns > r->time_ns)
		return "implausible interval";
	/*
	 * More CPU than every CPU had since boot: a counter that went
	 * backwards.  Not more than the interval had: a thread's runtime lags
	 * until its next scheduler update, and the next interval gets the
	 * lag, which under TCG a vCPU the host deschedules stretches without
	 * limit (288 ms in an 80 ms interval at a host load of 20).
	 * vm-timing bounds the CPU by the time from an exact baseline.
	 */
	if (r->cpu_ns > r->time_ns * (uint64_t)ncpus)
		return "more CPU than all CPUs had since boot";
	if (r->min_flt > 100000000u || r->maj_flt > 100000000u)
		return "implausible fault count";
	if (r->rss_kb > 64ULL << 20)
		return "implausible RSS";
	return NULL;
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	const struct vmprof_ring_header *h;
	const struct vmprof_record *recs;
	uint64_t next, prev_time = 0;
	size_t len;
	int fd = open(VMPROF_DEVICE_PATH, O_RDONLY);

	if (fd < 0)
		goto fail;
	h = mmap(NULL, VMPROF_HEADER_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		goto fail;
	if (h->magic != VMPROF_MAGIC || h->abi_version != VMPROF_ABI_VERSION ||
	    h->record_size != sizeof(struct vmprof_record) || !h->capacity) {
		snprintf(rd->first_bad, sizeof(rd->first_bad), "bad ring header");
		rd->invalid++;
		return NULL;
	}
	len = h->header_size + h->capacity * h->record_size;
	munmap((void *)h, VMPROF_HEADER_SIZE);
	h = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		goto fail;
	recs = (const void *)((const char *)h + h->header_size);
	next = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);

	for (;;) {
		bool last = atomic_load(&stop_all);
		uint64_t head = __atomic_load_n(&h->head, __ATOMIC_ACQUIRE);
		uint64_t now = now_ns();
		struct pollfd pfd = { fd, POLLIN, 0 };

		if (head - next > h->capacity) {
			rd->lost += head - h->capacity - next;
			next = head - h->capacity;
		}
		for (; next < head; next++) {
			const struct vmprof_record *slot = &recs[next % h->capacity];
			struct vmprof_record r;
			uint64_t s1, s2;
			const char *why;

			s1 = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
			memcpy(&r, slot, sizeof(r));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s2 = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
			if (s1 != next || s2 != next) {
				/* Overwritten while we copied it: lost. */
				rd->torn++;
				rd->lost++;
				continue;
			}
			rd->records++;
			why = record_problem(&r, prev_time, now);
			if (why) {
				if (!rd->invalid++)
					snprintf(rd->first_bad, sizeof(rd->first_bad),
						 "record %" PRIu64 " (pid %u flags %u time %" PRIu64
						 " interval %" PRIu64 " cpu %" PRIu64 "): %s",
						 next, r.pid, r.flags, (uint64_t)r.time_ns,
						 (uint64_t)r.interval_ns, (uint64_t)r.cpu_ns, why);
			}
			prev_time = r.time_ns;
		}
		if (last)
			break;
		rd->polls++;
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			goto fail;
	}
	munmap((void *)h, len);
	close(fd);
	return NULL;
fail:
	snprintf(rd->first_bad, sizeof(rd->first_bad), "reader: %s", strerror(errno));
	rd->invalid++;
	return NULL;
}

/* ---------------------------------------------------------- parameters -- */

static struct tally param_good, param_bad;
static _Atomic uint64_t param_changes;
static const char *_Atomic param_bad_accepted;	/* a value that got through */

static enum outcome param_write(const char *name, const char *val)
{
	char path[128];
	int fd, err = 0;
	ssize_t n;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return O_OTHER;
	n = write(fd, val, strlen(val));
	if (n < 0)
		err = errno;
	close(fd);
	if (n < 0 && err == ERANGE)
		return O_EINVAL;	/* counted with EINVAL: "refused" */
	return outcome_of(n, strlen(val), err);
}

static void *params_main(void *arg)
{
	uint64_t s = seed_for(2000);
	static const char *const bad_period[] = { "5", "9", "60001", "junk", "-1", "0x" };
	static const char *const bad_max[] = { "junk", "-1", "4294967296" };

	(void)arg;
	while (!atomic_load(&stop_all)) {
		char v[32];

		snprintf(v, sizeof(v), "%u", 10 + (unsigned int)rnd_below(&s, 91));
		tally_add(&param_good, param_write("period_ms", v), 0);
		/* Sometimes below the number registered: R gets ENOSPC. */
		snprintf(v, sizeof(v), "%u", 1 + (unsigned int)rnd_below(&s, 300));
		tally_add(&param_good, param_write("max_pids", v), 0);
		const char *bp = bad_period[rnd_below(&s, 6)];
		const char *bm = bad_max[rnd_below(&s, 3)];
		enum outcome o;

		o = param_write("period_ms", bp);
		tally_add(&param_bad, o, 0);
		if (o == O_OK)
			atomic_store(&param_bad_accepted, bp);
		o = param_write("max_pids", bm);
		tally_add(&param_bad, o, 0);
		if (o == O_OK)
			atomic_store(&param_bad_accepted, bm);
		atomic_fetch_add(&param_changes, 1);
		sleep_us(20000 + (long)rnd_below(&s, 100000));
	}
	param_write("period_ms", "10");
	param_write("max_pids", "1024");
	return NULL;
}

/* ---------------------------------------------------------------- status -- */

/* Every pid listed in the status file: a live process? */
static int status_check_live(int *listed, int *dead)
{
	FILE *f = fopen(VMPROF_STATUS_PATH, "r");
	int pid;

	*listed = *dead = 0;
	if (!f)
		return -1;
	while (fscanf(f, "%d", &pid) == 1) {
		(*listed)++;
		if (kill(pid, 0) && errno == ESRCH)
			(*dead)++;
	}
	fclose(f);
	return 0;
}

/* Unregister whatever is registered (the fuzzer may have named anyone). */
static void status_clear(void)
{
	int pids[8192], n = 0, pid;
	FILE *f = fopen(VMPROF_STATUS_PATH, "r");
	int fd;

	if (!f)
		return;
	while (n < 8192 && fscanf(f, "%d", &pid) == 1)
		pids[n++] = pid;
	fclose(f);
	fd = open(VMPROF_STATUS_PATH, O_WRONLY);
	for (int i = 0; fd >= 0 && i < n; i++)
		dprintf(fd, "U %d\n", pids[i]);
	if (fd >= 0)
		close(fd);
}

static long stat_value(const char *key)
{
	FILE *f = fopen(VMPROF_STATS_PATH, "r");
	char k[64];
	long v = -1, x;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", k, &x) == 2)
		if (!strcmp(k, key))
			v = x;
	fclose(f);
	return v;
}

/* ------------------------------------------------------------------ main -- */

static long opt(int argc, char **argv, const char *name, long def)
{
	for (int i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return atol(argv[i + 1]);
	return def;
}

static bool flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

static int cmd_chaos(int argc, char **argv)
{
	int nwriters = (int)opt(argc, argv, "--writers", 8);
	long writes = opt(argc, argv, "--writes", 10000);
	int nreaders = (int)opt(argc, argv, "--readers", 3);
	int poolsize = (int)opt(argc, argv, "--pool", 48);
	long lifetime = opt(argc, argv, "--lifetime-ms", 200);
	bool params = !flag(argc, argv, "--no-params");
	struct fuzzer fz = { .writes = opt(argc, argv, "--fuzz", 1000000) };
	struct writer w[64];
	struct reader rd[16];
	pthread_t pt;
	uint64_t t0 = now_ns(), head0, head1;
	char buf[400];
	int listed, dead;
	bool ok;

	if (nwriters < 1 || nwriters > 64 || nreaders < 0 || nreaders > 16 ||
	    poolsize < 1 || poolsize > POOL_MAX || lifetime < 1) {
		fprintf(stderr, "vmprof-stress: bad arguments\n");
		return 2;
	}
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (pool_start(poolsize, lifetime)) {
		perror("pool");
		return 1;
	}
	head0 = (uint64_t)stat_value("head");
	for (int i = 0; i < nreaders; i++) {
		rd[i] = (struct reader){ .id = (unsigned int)i };
		pthread_create(&rd[i].thread, NULL, reader_main, &rd[i]);
	}
	if (params)
		pthread_create(&pt, NULL, params_main, NULL);
	for (int i = 0; i < nwriters; i++) {
		w[i] = (struct writer){ .id = (unsigned int)i + 1, .writes = writes };
		pthread_create(&w[i].thread, NULL, writer_main, &w[i]);
	}
	pthread_create(&fz.thread, NULL, fuzzer_main, &fz);

	for (int i = 0; i < nwriters; i++)
		pthread_join(w[i].thread, NULL);
	note("writers done after %.1f s", (double)(now_ns() - t0) / 1e9);
	pthread_join(fz.thread, NULL);
	note("fuzzer done after %.1f s", (double)(now_ns() - t0) / 1e9);

	/* Quiesce: no more children, the sampler drops the dead ones. */
	pool_stop();
	atomic_store(&stop_all, 1);
	if (params)
		pthread_join(pt, NULL);
	sleep_us(300000);	/* several ticks at period_ms=10 */
	for (int i = 0; i < nreaders; i++)
		pthread_join(rd[i].thread, NULL);
	head1 = (uint64_t)stat_value("head");

	tally_format(&write_tally, buf, sizeof(buf));
	note("register/unregister writes: %s", buf);
	result(tally_total(&write_tally) == (uint64_t)nwriters * (uint64_t)writes,
	       "%d writers made %ld writes each (%" PRIu64 " in all)", nwriters, writes,
	       tally_total(&write_tally));
	result(tally_only(&write_tally, BIT(O_OK) | BIT(O_ESRCH) | BIT(O_EEXIST) |
			  BIT(O_ENOENT) | BIT(O_ENOSPC)),
	       "well-formed R/U writes only got ok, ESRCH, EEXIST, ENOENT, ENOSPC (%s)", buf);
	result(atomic_load(&write_tally.n[O_OK]) > 0 &&
	       atomic_load(&write_tally.n[O_ESRCH]) + atomic_load(&write_tally.n[O_ENOENT]) > 0,
	       "both successes and races with exiting processes happened");

	tally_format(&fz.malformed, buf, sizeof(buf));
	result(tally_only(&fz.malformed, BIT(O_EINVAL)) && tally_total(&fz.malformed) > 0,
	       "%" PRIu64 " malformed writes all failed with EINVAL (%s)",
	       tally_total(&fz.malformed), buf);
	tally_format(&fz.wellformed, buf, sizeof(buf));
	result(tally_only(&fz.wellformed, BIT(O_OK) | BIT(O_ESRCH) | BIT(O_EEXIST) |
			  BIT(O_ENOENT) | BIT(O_ENOSPC)) && tally_total(&fz.wellformed) > 0,
	       "%" PRIu64 " fuzzed writes the grammar accepts were never EINVAL (%s)",
	       tally_total(&fz.wellformed), buf);
	tally_format(&fz.huge, buf, sizeof(buf));
	result(tally_only(&fz.huge, BIT(O_EINVAL)),
	       "%" PRIu64 " writes of 32 bytes to 1 MiB failed with EINVAL (%s)",
	       tally_total(&fz.huge), buf);
	tally_format(&fz.badbuf, buf, sizeof(buf));
	result(tally_only(&fz.badbuf, BIT(O_EFAULT)),
	       "%" PRIu64 " writes from an unmapped buffer failed with EFAULT (%s)",
	       tally_total(&fz.badbuf), buf);
	result(tally_total(&fz.malformed) + tally_total(&fz.wellformed) +
	       tally_total(&fz.huge) + tally_total(&fz.badbuf) == (uint64_t)fz.writes,
	       "the fuzzer made %ld writes", fz.writes);

	if (params) {
		tally_format(&param_good, buf, sizeof(buf));
		result(tally_only(&param_good, BIT(O_OK)),
		       "%" PRIu64 " changes of period_ms (10..100) and max_pids (1..300) under load (%s)",
		       tally_total(&param_good), buf);
		tally_format(&param_bad, buf, sizeof(buf));
		result(tally_only(&param_bad, BIT(O_EINVAL)),
		       "%" PRIu64 " out-of-range or malformed parameter values refused (%s)%s%s",
		       tally_total(&param_bad), buf,
		       atomic_load(&param_bad_accepted) ? "; accepted: " : "",
		       atomic_load(&param_bad_accepted) ? atomic_load(&param_bad_accepted) : "");
	}

	for (int i = 0; i < nreaders; i++) {
		note("reader %d: %" PRIu64 " records, %" PRIu64 " lost (%" PRIu64
		     " overwritten while read), %" PRIu64 " polls", i, rd[i].records,
		     rd[i].lost, rd[i].torn, rd[i].polls);
		result(rd[i].invalid == 0, "reader %d: every one of %" PRIu64
		       " records is valid%s%s", i, rd[i].records,
		       rd[i].invalid ? ": " : "", rd[i].first_bad);
		/*
		 * The ring (buffer_pages=1024: 65536 records) holds half a
		 * minute of this load: a reader that kept up loses nothing.
		 */
		result(rd[i].lost == 0 && rd[i].torn == 0,
		       "reader %d: no record lost or overwritten while read", i);
		result(rd[i].records + rd[i].lost > 0 &&
		       rd[i].records + rd[i].lost <= head1 - head0,
		       "reader %d: records read + lost (%" PRIu64 ") within the %" PRIu64
		       " written while it ran", i, rd[i].records + rd[i].lost, head1 - head0);
	}

	/* The sampler drops a dead process at its next tick: wait for it. */
	for (int i = 0; i < 100; i++) {
		ok = status_check_live(&listed, &dead) == 0;
		if (ok && dead == 0)
			break;
		sleep_us(50000);
	}
	result(ok && dead == 0, "after the pool is gone, the %d pids still registered are all alive (%d dead)",
	       listed, dead);
	{
		long reg = -1;

		/* (A process the fuzzer named may exit between the reads.) */
		for (int i = 0; i < 10 && reg != listed; i++) {
			if (i)
				sleep_us(50000);
			status_check_live(&listed, &dead);
			reg = stat_value("registered");
		}
		result(reg == listed, "stats' registered (%ld) matches the status file (%d)",
		       reg, listed);
	}
	status_clear();
	result(stat_value("registered") == 0, "everything unregistered at the end");
	note("chaos took %.1f s", (double)(now_ns() - t0) / 1e9);
	return failures ? 1 : 0;
}

static int cmd_writers(int argc, char **argv)
{
	int nwriters = (int)opt(argc, argv, "--writers", 8);
	int poolsize = (int)opt(argc, argv, "--pool", 16);
	long lifetime = opt(argc, argv, "--lifetime-ms", 1000);
	struct writer w[64];
	struct sigaction sa = { .sa_handler = on_stop };
	char buf[400];

	if (nwriters < 1 || nwriters > 64 || poolsize < 1 || poolsize > POOL_MAX ||
	    lifetime < 1) {
		fprintf(stderr, "vmprof-stress writers: bad arguments\n");
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	if (pool_start(poolsize, lifetime)) {
		perror("pool");
		return 1;
	}
	for (int i = 0; i < nwriters; i++) {
		w[i] = (struct writer){ .id = (unsigned int)i + 1, .writes = -1 };
		pthread_create(&w[i].thread, NULL, writer_main, &w[i]);
	}
	/* Tell the script we are writing. */
	printf("# writing\n");
	fflush(stdout);
	for (int i = 0; i < nwriters; i++)
		pthread_join(w[i].thread, NULL);
	pool_stop();

	tally_format(&write_tally, buf, sizeof(buf));
	note("writes while the module came and went: %s; %" PRIu64 " new descriptors",
	     buf, atomic_load(&reopens));
	result(tally_only(&write_tally, BIT(O_OK) | BIT(O_ESRCH) | BIT(O_EEXIST) |
			  BIT(O_ENOENT) | BIT(O_ENOSPC) | BIT(O_EIO)),
	       "writes through kept descriptors only got ok, ESRCH, EEXIST, ENOENT, ENOSPC or EIO (%s)",
	       buf);
	result(atomic_load(&write_tally.n[O_EIO]) > 0,
	       "writes through a descriptor of an unloaded module failed with EIO (%" PRIu64 ")",
	       atomic_load(&write_tally.n[O_EIO]));
	tally_format(&open_tally, buf, sizeof(buf));
	result(tally_only(&open_tally, BIT(O_ENOENT)),
	       "opening the status file while the module was out failed only with ENOENT (%s)",
	       buf[0] ? buf : "never failed");
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "chaos"))
		return cmd_chaos(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "writers"))
		return cmd_writers(argc - 1, argv + 1);
	fprintf(stderr, "usage: vmprof-stress chaos|writers [OPTION]... (see vmprof-stress.c)\n");
	return 2;
}
