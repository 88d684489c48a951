/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Grouping a data file's rows: by process (one group a pid), by command
 * (the program a process runs when it is sampled) or by tree (a process
 * of the file and every descendant of it the file has).  vmprof report and
 * vmprof plot --by.
 */
#ifndef VMPROF_GROUP_H
#define VMPROF_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "pidmap.h"
#include "vmprof.h"

enum group_by {
	GROUP_PROCESS,
	GROUP_COMMAND,
	GROUP_TREE,
};

struct group {
	/* The process (GROUP_PROCESS), the tree's root (GROUP_TREE); 0 for
	 * a command, and for the series of a per-tick file. */
	uint32_t pid;
	/* The process's or the root's command line, or the program's name
	 * (GROUP_COMMAND); NULL when the file names none. */
	char *name;
	size_t processes;	/* processes with rows in the group */
};

struct group_proc;

struct grouping {
	enum group_by by;
	struct group *g;
	size_t n, cap;
	struct group_proc *procs;
	size_t nprocs, capprocs;
	struct pidmap pids;	/* pid -> procs[] */
	size_t processes;	/* processes counted in a group, once each */
	int per_tick;		/* rows of pid 0: a per-tick (aggregate) file */
};

/* "process", "command" or "tree": 0, or -EINVAL. */
int group_by_parse(const char *s, enum group_by *by);
void grouping_init(struct grouping *gr, enum group_by by);
void grouping_free(struct grouping *gr);
/* A process line of the file: @pid runs @command from now on. */
int grouping_name(struct grouping *gr, uint32_t pid, const char *command);
/*
 * The group of @row, made if it is the first of its group: 0 and its
 * index in gr->g (indices are given in order, from 0), or -ENOMEM.  Call
 * it for every row in the file's order: the process lines before a row
 * decide its group.
 */
int grouping_add(struct grouping *gr, const struct vmprof_row *row,
		 size_t *idx);
/* Count @pid among the processes of group @idx (once): 0, or -ENOMEM. */
int grouping_count(struct grouping *gr, uint32_t pid, size_t idx);
/* The program of a command line: its first word without its directory
 * ("[cc1]", a name from the kernel, gives "cc1"); at most @size - 1 bytes. */
void group_program(const char *command, char *buf, size_t size);

#endif
