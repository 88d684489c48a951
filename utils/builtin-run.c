// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof run [-o FILE] [--period MS] -- CMD ARGS */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "report.h"
#include "stream.h"
#include "util.h"
#include "vmprof.h"

/* --strict: the exit status of a run whose profile does not add up. */
#define EXIT_NOT_EXACT 125

const char run_usage[] =
"Usage: vmprof run [OPTION]... [--] COMMAND [ARG]...\n"
"\n"
"Run COMMAND under profiling: it is registered with the sampler before it\n"
"executes its first instruction, so no fault is missed, and so is every\n"
"process it forks, and they fork, at fork (the whole tree); the samples\n"
"(all threads) are recorded until it exits.  Processes of the tree still\n"
"running then are unregistered.  Then a summary is printed on standard\n"
"error: per process and the tree's total, the rusage from wait4(2) of the\n"
"command and of the descendants it and they waited for, and what the command\n"
"did between fork and its registration: the samples plus that equal the\n"
"rusage; processes still running when the command ended (daemons), which\n"
"wait4 does not count, apart; whether the profile adds up to the rusage\n"
"(faults exactly, CPU time within 2 ms + 10 ms a child + 1 %), and if not\n"
"by how much and the forks the sampler could not follow; and a line on the\n"
"sampler and its cost over the run.  The exit status is COMMAND's (128+N if\n"
"killed by signal N).\n"
"\n"
"The sampler is the vmprof module if it is loaded, else a BPF sampler that\n"
"runs inside vmprof run (root, or CAP_BPF and CAP_PERFMON; Linux 6.1 or later\n"
"with BTF; not in a container's pid namespace).\n"
"\n"
"Options:\n"
"  -o, --output FILE   data file (default vmprof.csv; - for standard output)\n"
"  -f, --format FMT    csv (default), tsv or json\n"
"  -a, --aggregate     one row per tick instead of per process\n"
"      --no-children   profile the command's process alone, not what it forks\n"
"      --period MS     sample every MS ms (10 to 60000): with BPF, this run's\n"
"                      sampler; the module's period is every user's, set by\n"
"                      root (parameter period_ms): MS must be the module's\n"
"      --backend B     auto (default: VMPROF_BACKEND if set, else the module\n"
"                      if loaded, else bpf), module or bpf\n"
"      --strict        exit 125 when the profile does not add up to wait4's\n"
"                      rusage (or cannot be checked), whatever COMMAND's status\n"
"  -q, --quiet         no summary\n"
"  -h, --help          show this help\n"
"\n"
"Examples:\n"
"  vmprof run -- vmprof-work 256 R 20000 5\n"
"  vmprof run -o build.csv -- make -j2\n"
"  vmprof run -o sort.csv -- sort -S 1G big.txt -o /dev/null\n"
"  vmprof run --period 10 -o fast.csv -- ./a.out\n"
"  sudo vmprof run --backend bpf -o sort.csv -- sort big.txt\n"
"  vmprof report sort.csv; vmprof plot sort.csv -o sort.png\n";

static pid_t child;

static void forward_term(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static void on_record(const struct vmprof_record *rec, void *arg)
{
	struct vmprof_row row;

	vmprof_row_from_record(&row, rec);
	report_add(arg, &row);
}

static void on_name(uint32_t pid, const char *command, void *arg)
{
	report_name(arg, pid, command);
}

/*
 * What the command's process did between fork and its registration, which
 * the profile cannot have: its faults (/proc/PID/stat) and CPU time (its
 * CPU-time clock, the scheduler's sum_exec_runtime, as the module reads).
 */
struct before {
	int known;
	unsigned long min_flt, maj_flt;
	long long cpu_ns;
};

/* Read state, minflt and majflt of @pid from /proc/PID/stat. */
static int read_stat(pid_t pid, char *state, unsigned long *min_flt,
		     unsigned long *maj_flt)
{
	char path[64], buf[1024];
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* After the command name, which may hold anything but ends at the
	 * last ')': state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %lu %*u %lu",
			 state, min_flt, maj_flt) != 3)
		return -EBADMSG;
	return 0;
}

/*
 * Wait (up to 2 s) until @pid sleeps, which it does only in its read of
 * the start pipe: from then on its counters stand still until it is told
 * to go, so they can be read after its registration and be exactly what
 * the registration took as its baseline.
 */
static int wait_asleep(pid_t pid)
{
	unsigned long min_flt, maj_flt;
	char state = 0;

	for (int i = 0; i < 2000; i++) {
		if (read_stat(pid, &state, &min_flt, &maj_flt))
			return -1;
		if (state == 'S')
			return 0;
		usleep(1000);
	}
	return -1;
}

static void read_before(pid_t pid, struct before *b)
{
	struct timespec ts;
	clockid_t clk;
	char state;

	b->known = !read_stat(pid, &state, &b->min_flt, &b->maj_flt) &&
		   state == 'S' && !clock_getcpuclockid(pid, &clk) &&
		   !clock_gettime(clk, &ts);
	if (b->known)
		b->cpu_ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sums of records, and the processes they are of. */
struct tally {
	unsigned long long min_flt, maj_flt, cpu_ns;
	size_t n;
};

static void tally_add(struct tally *t, const struct report_proc *p)
{
	t->min_flt += p->min_flt;
	t->maj_flt += p->maj_flt;
	t->cpu_ns += p->cpu_ns;
	t->n++;
}

/*
 * Does the profile add up to wait4's rusage @ru?  The processes that ended
 * during the run, plus what the command did before its registration
 * (@b), must give its faults exactly and its CPU time from 0 to 2 ms + 10
 * ms a child + 1 % more: a child its parent reaps before its last switch
 * off the CPU runs on, which vmprof counts and wait4 does not, for
 * microseconds on hardware, and under emulation on a loaded host for as
 * long as the host keeps the vCPU waiting (8.5 ms seen in the lab VM).  Processes still running at the end (their last record is
 * UNREGISTERED) are not in wait4's rusage: they are shown apart.  Print
 * the verdict, with what the sampler could not follow; return 1 if it
 * adds up.
 */
static int verdict(FILE *f, const struct report *rep, const struct rusage *ru,
		   const struct before *b, const struct vmprof_stats *from,
		   const struct vmprof_stats *to, uint64_t lost, int children)
{
	struct tally in = { 0 }, out = { 0 };
	unsigned long long refused = 0, dropped = 0;
	long long dmin, dmaj, dcpu, bound, rcpu;
	size_t reaped = 0;

	for (size_t i = 0; i < rep->nprocs; i++) {
		const struct report_proc *p = &rep->procs[i];

		if ((p->flags & VMPROF_REC_UNREGISTERED) &&
		    !(p->flags & VMPROF_REC_EXITED))
			tally_add(&out, p);
		else
			tally_add(&in, p);
		reaped += !!(p->flags & VMPROF_REC_REAPED);
	}
	if (f)
		fprintf(f, "still running when the command ended (not in wait4's rusage): %zu processes, minflt %llu majflt %llu cpu_ns %llu\n",
			out.n, out.min_flt, out.maj_flt, out.cpu_ns);
	if (from && to) {
		refused = to->inherit_refused - from->inherit_refused;
		dropped = to->inherit_dropped - from->inherit_dropped;
	}
	if (!children || !b->known) {
		if (f)
			fprintf(f, "vmprof: the profile cannot be checked against wait4's rusage: %s\n",
				!children ? "it has the command's process alone, the rusage its descendants too" :
				"what the command did before its registration is unknown");
		return 0;
	}
	rcpu = (long long)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000000LL +
	       (long long)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) * 1000LL;
	dmin = (long long)(in.min_flt + b->min_flt) - ru->ru_minflt;
	dmaj = (long long)(in.maj_flt + b->maj_flt) - ru->ru_majflt;
	dcpu = (long long)in.cpu_ns + b->cpu_ns - rcpu;
	bound = 2000000LL + 10000000LL * (long long)(in.n ? in.n - 1 : 0) +
		rcpu / 100;
	if (!dmin && !dmaj && dcpu >= 0 && dcpu <= bound && !refused &&
	    !dropped && !reaped && !lost) {
		if (f)
			fprintf(f, "vmprof: the profile adds up to wait4's rusage: faults exactly, CPU time %+.3f ms (within %.3f ms)\n",
				(double)dcpu / 1e6, (double)bound / 1e6);
		return 1;
	}
	if (!f)
		return 0;
	fprintf(f, "vmprof: the profile does not add up to wait4's rusage: minflt %+lld, majflt %+lld, cpu %+.3f ms (allowed 0 to %+.3f ms); forks not followed: %llu refused (max_pids), %llu dropped (the sampler's fork queue or map was full); %zu processes without their last interval (REAPED); %llu records lost (the ring overflowed)\n",
		dmin, dmaj, (double)dcpu / 1e6, (double)bound / 1e6, refused,
		dropped, reaped, (unsigned long long)lost);
	/* More than wait4's: processes of the tree that ended during the
	 * run but that no process of it waited for. */
	if (dmin > 0 || dmaj > 0)
		fprintf(f, "vmprof: more than wait4 counts: processes that ended during the run without being waited for by the tree (orphans reaped by init or a subreaper outside it, children of a process that ignores SIGCHLD) are in the profile, not in the rusage\n");
	return 0;
}

/*
 * Fork a child that waits on @go before exec'ing @argv; an exec failure
 * comes back through @err_pipe (closed by a successful exec).
 */
static pid_t spawn(char **argv, int go[2], int err_pipe[2])
{
	pid_t pid = fork();
	char c;

	if (pid != 0)
		return pid;
	close(go[1]);
	close(err_pipe[0]);
	if (read(go[0], &c, 1) != 1)
		_exit(127);
	close(go[0]);
	execvp(argv[0], argv);
	c = (char)errno;
	if (write(err_pipe[1], &c, 1) < 0)
		_exit(127);
	_exit(127);
}

/* The command as one line: its arguments separated by spaces. */
static char *join_args(char **argv)
{
	size_t len = 1;
	char *s;

	for (char **a = argv; *a; a++)
		len += strlen(*a) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (char **a = argv; *a; a++) {
		if (a != argv)
			strcat(s, " ");
		strcat(s, *a);
	}
	return s;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "aggregate", no_argument, NULL, 'a' },
		{ "no-children", no_argument, NULL, 'C' },
		{ "period", required_argument, NULL, 'P' },
		{ "backend", required_argument, NULL, 'B' },
		{ "strict", no_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct stream_opts o = { .fmt = VMPROF_FMT_CSV };
	enum vmprof_backend backend = VMPROF_BACKEND_AUTO;
	const char *out = "vmprof.csv";
	unsigned int period = 0;
	int go[2], ep[2], quiet = 0, children = 1, c, err, rc, status = 0;
	int strict = 0, exact = 1;
	int have_from, have_to;
	struct vmprof_stats from, to;
	struct stream_result res = { 0 };
	struct vmprof_session *s;
	char sampler[256];
	struct sigaction sa;
	struct report rep;
	struct rusage ru = { 0 };
	struct before before = { 0 };
	char *command = NULL;
	int asleep;
	char exec_errno;

	while ((c = getopt_long(argc, argv, "+o:f:aqh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			if (vmprof_format_parse(optarg, &o.fmt))
				return util_usage_error("--format must be csv, tsv or json");
			break;
		case 'a':
			o.aggregate = 1;
			break;
		case 'C':
			children = 0;
			break;
		case 'P':
			period = (unsigned int)util_parse_ulong(optarg, "period", 10, 60000);
			break;
		case 'B':
			backend = util_parse_backend(optarg);
			break;
		case 'S':
			strict = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return util_help(run_usage);
		default:
			return util_usage_error(NULL);
		}
	}
	if (optind >= argc)
		return util_usage_error("expected a COMMAND to run");

	rc = util_session_open(&s, VMPROF_OPEN_RING, backend);
	if (rc)
		return rc;
	if (period) {
		err = vmprof_session_set_period(s, period);
		if (err) {
			vmprof_session_close(s);
			return err == -EOPNOTSUPP ? util_fail_period(period) :
			       util_fail_errno(err, "cannot sample every %u ms", period);
		}
	}
	if (!strcmp(out, "-")) {
		o.out = stdout;
		o.out_name = "standard output";
	} else {
		o.out = fopen(out, "w");
		o.out_name = out;
		if (!o.out) {
			vmprof_session_close(s);
			return util_fail("cannot create %s: %s (choose another file with -o)",
					 out, strerror(errno));
		}
	}
	/* The module's figures count since it was loaded: the run's are the
	 * difference. */
	have_from = !vmprof_stats_read(s, &from);

	report_init(&rep, GROUP_PROCESS);
	o.on_record = on_record;
	o.on_name = on_name;
	o.arg = &rep;
	if (pipe2(go, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		rc = util_fail("pipe: %s", strerror(errno));
		goto out;
	}
	child = spawn(argv + optind, go, ep);
	if (child < 0) {
		rc = util_fail("fork: %s", strerror(errno));
		goto out;
	}
	close(go[0]);
	close(ep[1]);
	/* Registered while it waits: the profile starts before exec. */
	asleep = !wait_asleep(child);
	err = children ? vmprof_register_tree(s, child) : vmprof_register(s, child);
	if (err == -EOPNOTSUPP) {
		util_warn("this kernel cannot follow the processes the command forks (no sched_process_fork tracepoint): profiling its own process only");
		children = 0;
		err = vmprof_register(s, child);
	}
	if (err) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		rc = util_fail_errno(err, "cannot register the command's process");
		goto out;
	}
	if (asleep)
		read_before(child, &before);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_term;
	sigaction(SIGTERM, &sa, NULL);
	/* Ctrl-C reaches the command from the terminal; we wait for it. */
	signal(SIGINT, SIG_IGN);
	if (write(go[1], "g", 1) != 1) {
		kill(child, SIGKILL);
		rc = util_fail("cannot start the command: %s", strerror(errno));
		goto reap;
	}
	close(go[1]);
	if (read(ep[0], &exec_errno, 1) == 1) {
		waitpid(child, NULL, 0);
		util_warn("cannot run %s: %s", argv[optind],
			  strerror(exec_errno));
		/* The shell's convention: 127 not found, 126 not runnable. */
		rc = exec_errno == ENOENT ? 127 : 126;
		goto out;
	}
	close(ep[0]);

	/* Not reaped until its last record is in: it stays a zombie, so
	 * the module reads its final counts. */
	o.until_exit = child;
	o.follow_tree = children;
	command = join_args(argv + optind);
	o.command = command;
	rc = stream_run(s, &o, &res);
	if (!res.saw_exit && rc == EXIT_OK)
		rc = util_fail("the sampler did not report the end of %d",
			       (int)child);
reap:
	have_to = !vmprof_stats_read(s, &to);
	while (wait4(child, &status, 0, &ru) < 0 && errno == EINTR)
		;
	if (o.out != stdout && util_close_file(o.out, out))
		rc = EXIT_FAIL;
	o.out = NULL;
	if (res.lost)
		util_warn("%llu records lost (the ring overflowed)", res.lost);
	report_finish(&rep);
	if (!quiet) {
		fprintf(stderr, "vmprof: %s %s %d; %llu samples in %s\n",
			argv[optind],
			WIFSIGNALED(status) ? "killed by signal" : "exited with",
			WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
			res.records, out);
		report_print(&rep, stderr, REPORT_TEXT);
		/* The kernel's own totals for the whole life of the command
		 * and of the descendants reaped by it or by them (what
		 * RUSAGE_CHILDREN counts), from wait4(2), to set the profile
		 * against. */
		fprintf(stderr, "rusage of the command%s (wait4): minflt %ld majflt %ld cpu_ns %lld\n",
			children ? " and the descendants it waited for" : "",
			ru.ru_minflt, ru.ru_majflt,
			(long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
			(long long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL);
		/* With the samples, this adds up to the rusage above. */
		if (before.known)
			fprintf(stderr, "before its registration (not sampled): minflt %lu majflt %lu cpu_ns %lld\n",
				before.min_flt, before.maj_flt, before.cpu_ns);
		else
			fprintf(stderr, "before its registration (not sampled): unknown\n");
	}
	if (rc == EXIT_OK && (!quiet || strict))
		exact = verdict(quiet ? NULL : stderr, &rep, &ru, &before,
				have_from ? &from : NULL, have_to ? &to : NULL,
				res.lost, children);
	if (!quiet) {
		util_sampler_line(sampler, sizeof(sampler), s,
				  have_from ? &from : NULL,
				  have_to ? &to : NULL);
		fprintf(stderr, "%s\n", sampler);
	}
	if (rc == EXIT_OK && strict && !exact)
		rc = EXIT_NOT_EXACT;
	else if (rc == EXIT_OK)
		rc = WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
					   WEXITSTATUS(status);
out:
	if (o.out && o.out != stdout)
		fclose(o.out);
	if (o.out == stdout && util_close_stdout())
		rc = EXIT_FAIL;
	report_free(&rep);
	free(command);
	vmprof_session_close(s);
	return rc;
}
