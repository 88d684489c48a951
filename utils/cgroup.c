// SPDX-License-Identifier: GPL-2.0-or-later
/* The command's own cgroup under vmprof run (cgroup.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

/* How many times the processes left in the cgroup are moved out before
 * giving up (each pass moves those there then; a fork races it). */
#define REMOVE_TRIES	10

/* Our cgroup v2 path ("/user.slice/..."), from /proc/self/cgroup's "0::"
 * line: 0, or -EOPNOTSUPP (none: cgroup v1 only). */
static int own_cgroup(const char *root, char *buf, size_t size)
{
	char path[PATH_MAX], line[PATH_MAX + 8];
	int err = -EOPNOTSUPP;
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/self/cgroup", root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\n");

		if (strncmp(line, "0::/", 4) || len - 3 >= size)
			continue;
		memcpy(buf, line + 3, len - 3);
		buf[len - 3] = '\0';
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified beside v1's): 0, or -EOPNOTSUPP. */
static int v2_mount(const char *root, char *buf, size_t size)
{
	char path[PATH_MAX], dev[64], dir[PATH_MAX], type[64];
	int err = -EOPNOTSUPP;
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/self/mounts", root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %4095s %63s%*[^\n]", dev, dir, type) == 3) {
		/* a mount point with a space (\040) in it is not looked for */
		if (strcmp(type, "cgroup2") || strchr(dir, '\\') ||
		    strlen(dir) >= size)
			continue;
		snprintf(buf, size, "%s", dir);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

int run_cgroup_make(struct run_cgroup *cg, const char *root)
{
	char own[PATH_MAX], mnt[PATH_MAX];
	struct statfs sfs;
	int err;

	cg->parent_fd = cg->fd = -1;
	cg->path[0] = '\0';
	snprintf(cg->name, sizeof(cg->name), "vmprof-run.%d", (int)getpid());
	err = own_cgroup(root, own, sizeof(own));
	if (!err)
		err = v2_mount(root, mnt, sizeof(mnt));
	if (err)
		return err;
	if (snprintf(cg->path, sizeof(cg->path), "%s%s%s", root, mnt,
		     strcmp(own, "/") ? own : "") >= (int)sizeof(cg->path) - 64)
		return -ENAMETOOLONG;	/* and room for "/" and the name */
	cg->parent_fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->parent_fd < 0)
		return errno == ENOENT ? -EOPNOTSUPP : -errno;
	if (fstatfs(cg->parent_fd, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		err = -EOPNOTSUPP;	/* cgroup v1, or none mounted there */
		goto fail;
	}
	if (mkdirat(cg->parent_fd, cg->name, 0755)) {
		err = -errno;
		goto fail;
	}
	cg->fd = openat(cg->parent_fd, cg->name,
			O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0) {
		err = -errno;
		unlinkat(cg->parent_fd, cg->name, AT_REMOVEDIR);
		goto fail;
	}
	snprintf(cg->path + strlen(cg->path), sizeof(cg->path) - strlen(cg->path),
		 "/%s", cg->name);
	return 0;
fail:
	close(cg->parent_fd);
	cg->parent_fd = -1;
	return err;
}

/* Write "@pid\n" to cgroup.procs of directory @dirfd: 0, or -errno. */
static int move_to(int dirfd, pid_t pid)
{
	char buf[24];
	int fd = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	int len, err = 0;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (write(fd, buf, (size_t)len) != len)
		err = -errno;
	close(fd);
	return err;
}

int run_cgroup_enter(struct run_cgroup *cg, pid_t pid)
{
	return move_to(cg->fd, pid);
}

/* Move every process listed in the cgroup back to the parent: the number
 * it listed, or -errno. */
static int move_out(struct run_cgroup *cg)
{
	int fd = openat(cg->fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	int n = 0;
	FILE *f;
	long pid;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	while (fscanf(f, "%ld", &pid) == 1) {
		n++;
		/* one that has exited since is gone from the list anyway */
		move_to(cg->parent_fd, (pid_t)pid);
	}
	fclose(f);
	return n;
}

int run_cgroup_remove(struct run_cgroup *cg)
{
	int err = 0;

	if (cg->fd < 0)
		return 0;
	for (int i = 0; i < REMOVE_TRIES; i++) {
		if (!unlinkat(cg->parent_fd, cg->name, AT_REMOVEDIR)) {
			err = 0;
			break;
		}
		err = -errno;
		if (err != -EBUSY || move_out(cg) < 0)
			break;
	}
	close(cg->fd);
	close(cg->parent_fd);
	cg->fd = cg->parent_fd = -1;
	return err;
}
