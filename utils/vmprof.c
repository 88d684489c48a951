// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmprof: register, list, run under profiling, monitor, report and plot.
 * Each subcommand is one builtin-*.c file and one row of the table below.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "util.h"

static const struct cmd_struct commands[] = {
	{ "register", cmd_register, register_usage,
	  "register processes with the module", 0 },
	{ "unregister", cmd_unregister, unregister_usage,
	  "unregister processes", 0 },
	{ "list", cmd_list, list_usage, "list the registered processes", 0 },
	{ "stats", cmd_stats, stats_usage,
	  "show the sampler's statistics and its own cost", 1 },
	{ "run", cmd_run, run_usage,
	  "run a command under profiling and summarise it", 1 },
	{ "monitor", cmd_monitor, monitor_usage,
	  "stream the samples as CSV, TSV or JSON lines", 1 },
	{ "report", cmd_report, report_usage,
	  "summarise a data file per process", 0 },
	{ "plot", cmd_plot, plot_usage,
	  "plot a data file with gnuplot (PNG or SVG)", 0 },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd_struct *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int main_help(void)
{
	printf("Usage: vmprof [--version] [--help] COMMAND [ARGS]\n\n"
	       "Per-process page faults and CPU time, sampled every 50 ms by the\n"
	       "vmprof kernel module, or without it by a BPF sampler inside vmprof\n"
	       "run and vmprof-monitor (--backend).\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %-12s %s\n", commands[i].name, commands[i].summary);
	printf("\n`vmprof help COMMAND` or `vmprof COMMAND --help` tells more.\n\n"
	       "Examples:\n"
	       "  vmprof run -o work.csv -- vmprof-work 256 R 20000 5\n"
	       "  vmprof report work.csv\n"
	       "  vmprof plot work.csv -o work.png\n"
	       "  vmprof register 1234 && vmprof list\n");
	return util_close_stdout();
}

int builtin_parse_opts(int argc, char **argv, const char *usage,
		       enum vmprof_backend *backend, int *children)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'B' },
		{ "children", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*backend = VMPROF_BACKEND_AUTO;
	while ((c = getopt_long(argc, argv, "ch", opts, NULL)) != -1) {
		switch (c) {
		case 'B':
			*backend = util_parse_backend(optarg);
			break;
		case 'c':
			if (!children)
				return util_usage_error("--children is an option of register");
			*children = 1;
			break;
		case 'h':
			return util_help(usage);
		default:
			return util_usage_error(NULL);
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct cmd_struct *cmd;
	static char prog[32];

	util_set_prog("vmprof");
	if (argc < 2)
		return main_help() == EXIT_OK ? EXIT_USAGE : EXIT_FAIL;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return main_help();
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return util_version();
	if (!strcmp(argv[1], "help")) {
		if (argc < 3)
			return main_help();
		cmd = find_command(argv[2]);
		if (!cmd)
			return util_usage_error("no such command; `vmprof help` lists them");
		return util_help(cmd->usage);
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		util_warn("'%s' is not a vmprof command", argv[1]);
		return util_usage_error(NULL);
	}
	/* Messages and usage hints name the command: "vmprof register: ". */
	snprintf(prog, sizeof(prog), "vmprof %s", cmd->name);
	util_set_prog(prog);
	/* Capabilities (file capabilities for the BPF sampler) are for
	 * the commands that sample, not for those that read files or talk
	 * to the module. */
	if (!cmd->samples && util_drop_caps())
		return util_fail("cannot drop its capabilities: %s", strerror(errno));
	optind = 0;			/* each command parses afresh */
	return cmd->fn(argc - 1, argv + 1);
}
