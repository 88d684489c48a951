// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "group.h"
#include "util.h"

/* What the grouping knows of one pid of the file (gr->pids maps the pid
 * to it). */
struct group_proc {
	char *command;		/* its latest process line, or NULL */
	size_t group;		/* its group now, if has_group */
	int has_group;
	size_t *counted;	/* the groups it is counted in */
	size_t ncounted;
};

int group_by_parse(const char *s, enum group_by *by)
{
	if (!strcmp(s, "process"))
		*by = GROUP_PROCESS;
	else if (!strcmp(s, "command"))
		*by = GROUP_COMMAND;
	else if (!strcmp(s, "tree"))
		*by = GROUP_TREE;
	else
		return -EINVAL;
	return 0;
}

void grouping_init(struct grouping *gr, enum group_by by)
{
	memset(gr, 0, sizeof(*gr));
	gr->by = by;
}

void grouping_free(struct grouping *gr)
{
	for (size_t i = 0; i < gr->n; i++)
		free(gr->g[i].name);
	for (size_t i = 0; i < gr->nprocs; i++) {
		free(gr->procs[i].command);
		free(gr->procs[i].counted);
	}
	free(gr->g);
	free(gr->procs);
	pidmap_free(&gr->pids);
	memset(gr, 0, sizeof(*gr));
}

void group_program(const char *command, char *buf, size_t size)
{
	const char *s = command, *end, *slash;
	size_t len;

	while (*s == ' ')
		s++;
	len = strcspn(s, " ");
	/* A kernel thread's or an exited process's name: "[comm]". */
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	end = s + len;
	slash = memrchr(s, '/', len);
	if (slash && slash + 1 < end)
		s = slash + 1;
	len = (size_t)(end - s);
	if (len >= size)
		len = size - 1;
	memcpy(buf, s, len);
	buf[len] = '\0';
}

/* The index of @pid's entry, made if new: 0, or -ENOMEM. */
static int proc_of(struct grouping *gr, uint32_t pid, size_t *idx)
{
	struct group_proc *p;

	if (pidmap_get(&gr->pids, pid, idx))
		return 0;
	p = util_grow(gr->procs, gr->nprocs, &gr->capprocs, sizeof(*p), 64);
	if (!p)
		return -ENOMEM;
	gr->procs = p;
	if (pidmap_put(&gr->pids, pid, gr->nprocs))
		return -ENOMEM;
	memset(&gr->procs[gr->nprocs], 0, sizeof(gr->procs[0]));
	*idx = gr->nprocs++;
	return 0;
}

/* Replace *@dst by a copy of @src (NULL allowed): 0, or -ENOMEM. */
static int set_text(char **dst, const char *src)
{
	char *c = NULL;

	if (src) {
		c = strdup(src);
		if (!c)
			return -ENOMEM;
	}
	free(*dst);
	*dst = c;
	return 0;
}

/* A new group: 0 and its index, or -ENOMEM. */
static int new_group(struct grouping *gr, uint32_t pid, const char *name,
		     size_t *idx)
{
	struct group *g = util_grow(gr->g, gr->n, &gr->cap, sizeof(*g), 16);

	if (!g)
		return -ENOMEM;
	gr->g = g;
	g = &gr->g[gr->n];
	memset(g, 0, sizeof(*g));
	if (set_text(&g->name, name))
		return -ENOMEM;
	g->pid = pid;
	*idx = gr->n++;
	return 0;
}

int grouping_name(struct grouping *gr, uint32_t pid, const char *command)
{
	struct group_proc *p;
	size_t i;
	int err = proc_of(gr, pid, &i);

	if (err)
		return err;
	p = &gr->procs[i];
	if (set_text(&p->command, command))
		return -ENOMEM;
	if (!p->has_group)
		return 0;
	if (gr->by == GROUP_COMMAND && pid) {
		/* Its rows from now on go to its new program's group. */
		p->has_group = 0;
		return 0;
	}
	/* A process names its group, a root its tree. */
	if (gr->g[p->group].pid != pid)
		return 0;
	return set_text(&gr->g[p->group].name, command);
}

/* The group of a process of the command grouping: its program's. */
static int command_group(struct grouping *gr, const char *command,
			 size_t *idx)
{
	char prog[256];

	if (command)
		group_program(command, prog, sizeof(prog));
	if (!command) {
		/* Processes the file does not name: one group. */
		for (size_t i = 0; i < gr->n; i++)
			if (!gr->g[i].name) {
				*idx = i;
				return 0;
			}
		return new_group(gr, 0, NULL, idx);
	}
	for (size_t i = 0; i < gr->n; i++)
		if (gr->g[i].name && !strcmp(gr->g[i].name, prog)) {
			*idx = i;
			return 0;
		}
	return new_group(gr, 0, prog, idx);
}

int grouping_count(struct grouping *gr, uint32_t pid, size_t idx)
{
	struct group_proc *p;
	size_t i, *c;

	if (!pidmap_get(&gr->pids, pid, &i))
		return -ENOENT;
	p = &gr->procs[i];
	for (size_t k = 0; k < p->ncounted; k++)
		if (p->counted[k] == idx)
			return 0;
	c = realloc(p->counted, (p->ncounted + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (!p->ncounted)
		gr->processes++;
	p->counted = c;
	p->counted[p->ncounted++] = idx;
	gr->g[idx].processes++;
	return 0;
}

int grouping_add(struct grouping *gr, const struct vmprof_row *row,
		 size_t *idx)
{
	size_t i, j, g;
	int err = proc_of(gr, row->pid, &i);

	if (err)
		return err;
	if (!row->pid)
		gr->per_tick = 1;
	if (!gr->procs[i].has_group) {
		const char *command = gr->procs[i].command;

		if (!row->pid || gr->by == GROUP_PROCESS) {
			/* A per-tick file's series is a group of its own. */
			err = new_group(gr, row->pid, command, &g);
		} else if (gr->by == GROUP_COMMAND) {
			err = command_group(gr, command, &g);
		} else if (row->ppid && row->ppid != row->pid &&
			   pidmap_get(&gr->pids, row->ppid, &j) &&
			   gr->procs[j].has_group) {
			/* Its parent's rows came first (the sampler lists a
			 * child after its parent): the parent's tree. */
			g = gr->procs[j].group;
		} else {
			err = new_group(gr, row->pid, command, &g);
		}
		if (err)
			return err;
		gr->procs[i].group = g;
		gr->procs[i].has_group = 1;
	}
	*idx = gr->procs[i].group;
	return 0;
}
