// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof list */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "builtin.h"
#include "util.h"
#include "vmprof.h"

const char list_usage[] =
"Usage: vmprof list [--backend B]\n"
"\n"
"List the registered processes, one pid per line (as `cat\n"
"/proc/vmprof/status` does).  This needs the vmprof module: the BPF\n"
"sampler keeps no registrations beyond the program that profiles.\n"
"\n"
"Options:\n"
"      --backend B  auto (default: the module, or VMPROF_BACKEND's\n"
"                   choice), module, or bpf (refused)\n"
"\n"
"Examples:\n"
"  vmprof list\n"
"  vmprof list | xargs vmprof unregister\n";

int cmd_list(int argc, char **argv)
{
	enum vmprof_backend backend;
	struct vmprof_session *s;
	pid_t *pids = NULL;
	size_t max = 64;
	int n, rc;

	rc = builtin_parse_opts(argc, argv, list_usage, &backend, NULL);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return util_usage_error("list takes no arguments");
	rc = util_registry_open(&s, backend);
	if (rc)
		return rc;
	for (;;) {
		pid_t *p = realloc(pids, max * sizeof(*pids));

		if (!p) {
			n = -ENOMEM;
			break;
		}
		pids = p;
		n = vmprof_list(s, pids, max);
		if (n < 0 || (size_t)n <= max)
			break;
		max = (size_t)n * 2;
	}
	vmprof_session_close(s);
	if (n < 0) {
		free(pids);
		return util_fail_errno(n, "cannot list the registered processes");
	}
	for (int i = 0; i < n; i++)
		printf("%d\n", (int)pids[i]);
	free(pids);
	return util_close_stdout();
}
