/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The vmprof subcommands: one file each, one row each in vmprof.c. */
#ifndef VMPROF_BUILTIN_H
#define VMPROF_BUILTIN_H

#include "vmprof.h"

struct cmd_struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;	/* the whole --help text */
	const char *summary;	/* one line for `vmprof help` */
	int samples;		/* it runs a sampler: keeps the capabilities */
};

int cmd_register(int argc, char **argv);
int cmd_unregister(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_plot(int argc, char **argv);

extern const char register_usage[], unregister_usage[], list_usage[],
	stats_usage[], run_usage[], monitor_usage[], report_usage[],
	plot_usage[];

/*
 * Parse the options of register, unregister, list and stats: -h/--help,
 * --backend into *@backend (AUTO if absent) and, for a command that has
 * it (@children not NULL), -c/--children into *@children.  Returns -1 to
 * go on, with optind at the first operand, else the exit status.
 */
int builtin_parse_opts(int argc, char **argv, const char *usage,
		       enum vmprof_backend *backend, int *children);

#endif
