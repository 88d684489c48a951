// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof list */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "builtin.h"
#include "util.h"
#include "vmprof.h"

const char list_usage[] =
"Usage: vmprof list\n"
"\n"
"List the registered processes, one pid per line (as `cat\n"
"/proc/vmprof/status` does).\n"
"\n"
"Examples:\n"
"  vmprof list\n"
"  vmprof list | xargs vmprof unregister\n";

int cmd_list(int argc, char **argv)
{
	struct vmprof_session *s;
	pid_t *pids = NULL;
	int n, err, rc = builtin_help_opt(argc, argv, list_usage);
	size_t max = 64;

	if (rc >= 0)
		return rc;
	if (argc > 1)
		return util_usage_error("list takes no arguments");
	err = vmprof_session_open(&s, NULL, 0);
	if (err)
		return util_fail_open(err);
	for (;;) {
		pid_t *p = realloc(pids, max * sizeof(*pids));

		if (!p) {
			n = -1;
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
