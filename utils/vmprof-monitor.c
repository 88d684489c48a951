// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof-monitor: the installed name of `vmprof monitor` (builtin-monitor.c). */
#include "builtin.h"
#include "util.h"

int main(int argc, char **argv)
{
	util_set_prog("vmprof-monitor");
	return cmd_monitor(argc, argv);
}
