// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof register / unregister PID... */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "builtin.h"
#include "util.h"
#include "vmprof.h"

const char register_usage[] =
"Usage: vmprof register [-c] PID...\n"
"\n"
"Register processes with the vmprof module: from now on it samples their\n"
"page faults and CPU time every period_ms.  A thread id registers its\n"
"process.  You may register your own processes; others need root\n"
"(CAP_SYS_PTRACE).  Watch the samples with vmprof-monitor.\n"
"\n"
"Options:\n"
"  -c, --children  also register, at fork, every process it forks from now\n"
"                  on, and theirs (children it has already are not)\n"
"\n"
"Examples:\n"
"  vmprof register 1234 5678\n"
"  vmprof register --children $(pgrep -o make)\n"
"  vmprof register $(pgrep -d' ' postgres)\n";

const char unregister_usage[] =
"Usage: vmprof unregister PID...\n"
"\n"
"Unregister processes.  The module writes a last record with what the\n"
"process did since the previous sample, so nothing is lost.\n"
"\n"
"Examples:\n"
"  vmprof unregister 1234\n";

/* Apply @op to every PID; go on after a failure, report each. */
static int for_each_pid(int argc, char **argv, const char *usage,
			int (*op)(struct vmprof_session *, pid_t),
			const char *what)
{
	struct vmprof_session *s;
	int err, rc = builtin_help_opt(argc, argv, usage);

	if (rc >= 0)
		return rc;
	if (argc > 1 && (!strcmp(argv[1], "-c") || !strcmp(argv[1], "--children"))) {
		if (op != vmprof_register)
			return util_usage_error("--children is an option of register");
		op = vmprof_register_tree;
		argv++;
		argc--;
	}
	if (argc > 1 && !strcmp(argv[1], "--")) {
		argv++;
		argc--;
	}
	if (argc < 2)
		return util_usage_error("expected at least one PID");
	for (int i = 1; i < argc; i++)
		util_parse_ulong(argv[i], "PID", 1, INT_MAX);
	err = vmprof_session_open(&s, NULL, 0);
	if (err)
		return util_fail_open(err);
	rc = EXIT_OK;
	for (int i = 1; i < argc; i++) {
		pid_t pid = (pid_t)util_parse_ulong(argv[i], "PID", 1, INT_MAX);

		err = op(s, pid);
		if (err == -EBADF || err == -EACCES)
			rc = util_fail("cannot %s %d: the status file is not writable by you", what, (int)pid);
		else if (err)
			rc = util_fail_errno(err, "cannot %s %d", what, (int)pid);
	}
	vmprof_session_close(s);
	return rc;
}

int cmd_register(int argc, char **argv)
{
	return for_each_pid(argc, argv, register_usage, vmprof_register,
			    "register");
}

int cmd_unregister(int argc, char **argv)
{
	return for_each_pid(argc, argv, unregister_usage, vmprof_unregister,
			    "unregister");
}
