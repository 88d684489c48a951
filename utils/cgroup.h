/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command's own cgroup under vmprof run (cgroup v2): a child of the
 * cgroup vmprof runs in, made before the command's exec, so that the
 * command and everything it forks are in it, and its memory.pressure is
 * theirs alone.  It takes no controller: it only measures.  Made where
 * the machine allows it (root, or a user with a delegated cgroup); where
 * it does not, the command stays where vmprof is, and vmprof run says so.
 */
#ifndef VMPROF_CGROUP_H
#define VMPROF_CGROUP_H

#include <limits.h>
#include <sys/types.h>

struct run_cgroup {
	int parent_fd;		/* the cgroup vmprof runs in, or -1 */
	int fd;			/* the command's, or -1 */
	char name[64];		/* its name under the parent */
	char path[PATH_MAX];	/* for messages: the parent's, then its */
	const char *why;	/* why run_cgroup_make() would not, or NULL */
};

/*
 * Make the cgroup (under @root, "" for /; below our own in the cgroup2
 * hierarchy, wherever it is mounted): 0, or -errno: -EOPNOTSUPP no cgroup
 * v2 hierarchy, -EACCES/-EPERM/-EROFS not allowed, -EXDEV outside the
 * root of its cgroup namespace, -ESTALE vmprof moved meanwhile; @cg->path
 * then names the parent, and @cg->why, if set, says why it would not.
 * Nothing is left made on failure.
 */
int run_cgroup_make(struct run_cgroup *cg, const char *root);
/* Move process @pid (and its threads) into it: 0, or -errno. */
int run_cgroup_enter(struct run_cgroup *cg, pid_t pid);
/*
 * Move the processes still in it back to the parent (daemons the command
 * left) and remove it: 0, or -errno (then it stays, named by @cg->path).
 * Closes the descriptors in any case.
 */
int run_cgroup_remove(struct run_cgroup *cg);

#endif
