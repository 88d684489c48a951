// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof run [-o FILE] [--period MS] -- CMD ARGS (the front end: record.c) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "cgroup.h"
#include "record.h"
#include "report.h"
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
"The data file has the whole system's pressure stall (PSI) at every tick,\n"
"where the kernel has it, and the command's own: vmprof run makes a cgroup\n"
"(v2) for the command below its own, vmprof-run.PID, where it may (as\n"
"root, or in a cgroup delegated to the user; under systemd, one it\n"
"delegated: systemd-run --scope -p Delegate=yes vmprof run ...; not in a\n"
"root cgroup that gives its children controllers), and removes it at the\n"
"end; where it may not, it says why and the command stays in vmprof's\n"
"cgroup.  The cgroup takes no controller: it limits nothing.\n"
"\n"
"The sampler is the vmprof module if it is loaded, else a BPF sampler that\n"
"runs inside vmprof run (root, or CAP_BPF and CAP_PERFMON; Linux 6.1 or later\n"
"with BTF; not in a container's pid namespace).\n"
"\n"
"Options:\n"
"  -o, --output FILE   data file (default vmprof.csv; - for standard output);\n"
"                      an existing FILE is kept as FILE.old\n"
"  -f, --format FMT    csv (default), tsv or json\n"
"  -a, --aggregate     one row per tick instead of per process\n"
"      --no-children   profile the command's process alone, not what it forks\n"
"      --no-cgroup     leave the command in vmprof's cgroup (see below)\n"
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

static void on_pressure(const struct pressure *p, void *arg)
{
	report_pressure(arg, p, NULL);
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

/* vmprof run: the front end's options and stream, and the command's state. */
struct run {
	struct record rec;
	char **argv;		/* the command */
	char *command;		/* the same as one line */
	int go[2];		/* the child execs once told to go */
	int ep[2];		/* its exec's errno, if it fails */
	int reaped;		/* the child is reaped (a failed start) */
	struct before before;
	struct report rep;
	struct rusage ru;
	int status;
	struct run_cgroup cg;	/* the command's own (fd -1: none) */
};

/*
 * Put the waiting child in a cgroup of its own, whose memory.pressure the
 * stream then reads with the system's; where that cannot be, say why.
 */
static void run_cgroup(struct run *r)
{
	const char *why;
	int err;

	if (r->rec.no_cgroup || !r->rec.stream.psi)
		return;		/* asked not to; no PSI to read */
	err = run_cgroup_make(&r->cg, "");
	if (!err)
		err = run_cgroup_enter(&r->cg, child);
	if (!err)
		err = pressure_add_cgroup(&r->rec.psi, r->cg.fd);
	if (!err)
		return;
	if (run_cgroup_remove(&r->cg))
		util_warn("cannot remove the command's cgroup %s", r->cg.path);
	if (r->rec.quiet)
		return;
	if (r->cg.why)
		why = r->cg.why;
	else if (err == -EOPNOTSUPP)
		why = "the machine has no cgroup v2 hierarchy mounted";
	else if (err == -EXDEV)
		why = "vmprof runs outside the root of its cgroup namespace";
	else if (err == -EACCES || err == -EPERM || err == -EROFS)
		why = "not allowed here: run as root, or from a cgroup delegated to you";
	else
		why = strerror(-err);
	util_warn("the command stays in vmprof's cgroup (%s: %s): the data has the whole system's pressure stall, not its own",
		  r->cg.path[0] ? r->cg.path : "/proc/self/cgroup", why);
}

/*
 * Fork the command and register it (and its tree) while it waits, so that
 * the profile starts before its exec; what it did before is read then.
 * EXIT_OK, or EXIT_FAIL with the child gone.
 */
static int run_spawn(struct run *r)
{
	struct vmprof_session *s = r->rec.s;
	int asleep, err;

	if (pipe2(r->go, O_CLOEXEC) || pipe2(r->ep, O_CLOEXEC))
		return util_fail("pipe: %s", strerror(errno));
	child = spawn(r->argv, r->go, r->ep);
	if (child < 0)
		return util_fail("fork: %s", strerror(errno));
	close(r->go[0]);
	close(r->ep[1]);
	run_cgroup(r);
	asleep = !wait_asleep(child);
	err = r->rec.children ? vmprof_register_tree(s, child) :
			    vmprof_register(s, child);
	if (err == -EOPNOTSUPP) {
		util_warn("this kernel cannot follow the processes the command forks (no sched_process_fork tracepoint): profiling its own process only");
		r->rec.children = 0;
		err = vmprof_register(s, child);
	}
	if (err) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		run_cgroup_remove(&r->cg);
		return util_fail_errno(err, "cannot register the command's process");
	}
	if (asleep)
		read_before(child, &r->before);
	return EXIT_OK;
}

/*
 * Let the registered child exec the command, forwarding SIGTERM to it.
 * EXIT_OK; EXIT_FAIL if it could not be told (killed, not yet reaped);
 * 127 or 126, as the shell, if the exec failed (reaped).
 */
static int run_go(struct run *r)
{
	struct sigaction sa;
	char exec_errno;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_term;
	sigaction(SIGTERM, &sa, NULL);
	/* A closed terminal too: vmprof ends with the command, its cgroup
	 * removed, not before. */
	sigaction(SIGHUP, &sa, NULL);
	/* Ctrl-C reaches the command from the terminal; we wait for it. */
	signal(SIGINT, SIG_IGN);
	if (write(r->go[1], "g", 1) != 1) {
		kill(child, SIGKILL);
		return util_fail("cannot start the command: %s", strerror(errno));
	}
	close(r->go[1]);
	if (read(r->ep[0], &exec_errno, 1) == 1) {
		waitpid(child, NULL, 0);
		r->reaped = 1;
		util_warn("cannot run %s: %s", r->argv[0], strerror(exec_errno));
		/* The shell's convention: 127 not found, 126 not runnable. */
		return exec_errno == ENOENT ? 127 : 126;
	}
	close(r->ep[0]);
	return EXIT_OK;
}

/* Stream the tree's records into the data file and the report. */
static int run_stream(struct run *r)
{
	struct stream_opts *o = &r->rec.stream;
	int rc;

	o->on_record = on_record;
	o->on_name = on_name;
	o->on_pressure = on_pressure;
	o->arg = &r->rep;
	/* Not reaped until its last record is in: it stays a zombie, so
	 * the module reads its final counts. */
	o->until_exit = child;
	o->follow_tree = r->rec.children;
	r->command = join_args(r->argv);
	o->command = r->command;
	rc = record_stream(&r->rec);
	if (!r->rec.res.saw_exit && rc == EXIT_OK)
		rc = util_fail("the sampler did not report the end of %d",
			       (int)child);
	return rc;
}

/* On standard error: how the command ended, the profile per process and
 * in total, and the figures to set it against. */
static void run_summary(const struct run *r)
{
	const struct rusage *ru = &r->ru;
	int status = r->status;

	fprintf(stderr, "vmprof: %s %s %d; %llu samples in %s\n",
		r->argv[0],
		WIFSIGNALED(status) ? "killed by signal" : "exited with",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
		r->rec.res.records, r->rec.output);
	report_print(&r->rep, stderr, REPORT_TEXT);
	/* The kernel's own totals for the whole life of the command and of
	 * the descendants reaped by it or by them (what RUSAGE_CHILDREN
	 * counts), from wait4(2), to set the profile against. */
	fprintf(stderr, "rusage of the command%s (wait4): minflt %ld majflt %ld cpu_ns %lld\n",
		r->rec.children ? " and the descendants it waited for" : "",
		ru->ru_minflt, ru->ru_majflt,
		(long long)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000000000LL +
		(long long)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) * 1000LL);
	/* With the samples, this adds up to the rusage above. */
	if (r->before.known)
		fprintf(stderr, "before its registration (not sampled): minflt %lu majflt %lu cpu_ns %lld\n",
			r->before.min_flt, r->before.maj_flt, r->before.cpu_ns);
	else
		fprintf(stderr, "before its registration (not sampled): unknown\n");
}

/*
 * Reap the command, close the data file, print the summary and the
 * verdict: @rc, the command's status (128+N if killed by signal N), or
 * EXIT_NOT_EXACT with --strict.
 */
static int run_finish(struct run *r, int rc)
{
	const struct record *rec = &r->rec;
	int exact = 1, err;

	while (wait4(child, &r->status, 0, &r->ru) < 0 && errno == EINTR)
		;
	if (record_close_output(&r->rec))
		rc = EXIT_FAIL;
	/* What the command left running is moved back to vmprof's cgroup. */
	err = run_cgroup_remove(&r->cg);
	if (err)
		util_warn("cannot remove the command's cgroup %s: %s",
			  r->cg.path, strerror(-err));
	if (rec->res.lost)
		util_warn("%llu records lost (the ring overflowed)",
			  rec->res.lost);
	report_finish(&r->rep);
	if (!rec->quiet)
		run_summary(r);
	if (rc == EXIT_OK && (!rec->quiet || rec->strict))
		exact = verdict(rec->quiet ? NULL : stderr, &r->rep, &r->ru,
				&r->before, rec->have_from ? &rec->from : NULL,
				rec->have_to ? &rec->to : NULL, rec->res.lost,
				rec->children);
	if (!rec->quiet) {
		char sampler[256];

		record_sampler_line(rec, sampler, sizeof(sampler));
		fprintf(stderr, "%s\n", sampler);
	}
	if (rc == EXIT_OK && rec->strict && !exact)
		return EXIT_NOT_EXACT;
	if (rc == EXIT_OK)
		return WIFSIGNALED(r->status) ? 128 + WTERMSIG(r->status) :
						WEXITSTATUS(r->status);
	return rc;
}

/* Run the command under profiling, once the session is open. */
static int run_command(struct run *r)
{
	int rc = run_spawn(r);

	if (rc)
		return rc;
	rc = run_go(r);
	if (r->reaped) {
		run_cgroup_remove(&r->cg);
		return rc;
	}
	if (rc == EXIT_OK)
		rc = run_stream(r);
	return run_finish(r, rc);
}

int cmd_run(int argc, char **argv)
{
	struct run r = {
		.rec = RECORD_INIT(RECORD_RUN, "vmprof.csv"),
		.cg = { .fd = -1, .parent_fd = -1 },
	};
	int rc;

	rc = record_parse(&r.rec, run_usage, argc, argv);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return util_usage_error("expected a COMMAND to run");
	r.argv = argv + optind;
	report_init(&r.rep, GROUP_PROCESS);
	rc = record_open(&r.rec);
	if (rc == EXIT_OK)
		rc = run_command(&r);
	rc = record_close(&r.rec, rc);
	report_free(&r.rep);
	free(r.command);
	return rc;
}
