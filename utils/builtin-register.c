// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof register / unregister PID... */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>

#include "builtin.h"
#include "util.h"
#include "vmprof.h"

const char register_usage[] =
"Usage: vmprof register [-c] [--backend B] PID...\n"
"\n"
"Register processes with the vmprof module: from now on it samples their\n"
"page faults and CPU time every period_ms.  A thread id registers its\n"
"process.  You may register your own processes; others need root\n"
"(CAP_SYS_PTRACE).  Watch the samples with vmprof-monitor.  This needs the\n"
"module: the BPF sampler lives only as long as the program that profiles\n"
"(vmprof run, vmprof-monitor --pid PID), so a registration alone would\n"
"have no effect.\n"
"\n"
"Options:\n"
"  -c, --children  also register, at fork, every process it forks from now\n"
"                  on, and theirs (children it has already are not)\n"
"      --backend B auto (default: the module, or VMPROF_BACKEND's choice),\n"
"                  module, or bpf (refused: see above)\n"
"\n"
"Examples:\n"
"  vmprof register 1234 5678\n"
"  vmprof register --children $(pgrep -o make)\n"
"  vmprof register $(pgrep -d' ' postgres)\n";

const char unregister_usage[] =
"Usage: vmprof unregister [--backend B] PID...\n"
"\n"
"Unregister processes.  The module writes a last record with what the\n"
"process did since the previous sample, so nothing is lost.  This needs\n"
"the module, as vmprof register does.\n"
"\n"
"Options:\n"
"      --backend B auto (default: the module, or VMPROF_BACKEND's choice),\n"
"                  module, or bpf (refused: it keeps no registrations)\n"
"\n"
"Examples:\n"
"  vmprof unregister 1234\n";

/* Apply @op to every PID; go on after a failure, report each. */
static int for_each_pid(int argc, char **argv, const char *usage,
			int (*op)(struct vmprof_session *, pid_t),
			const char *what)
{
	enum vmprof_backend backend;
	struct vmprof_session *s;
	int children = 0, rc;

	rc = builtin_parse_opts(argc, argv, usage, &backend,
				op == vmprof_register ? &children : NULL);
	if (rc >= 0)
		return rc;
	if (children)
		op = vmprof_register_tree;
	if (optind >= argc)
		return util_usage_error("expected at least one PID");
	for (int i = optind; i < argc; i++)
		util_parse_ulong(argv[i], "PID", 1, INT_MAX);
	rc = util_registry_open(&s, backend);
	if (rc)
		return rc;
	for (int i = optind; i < argc; i++) {
		pid_t pid = (pid_t)util_parse_ulong(argv[i], "PID", 1, INT_MAX);
		int err = op(s, pid);

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
