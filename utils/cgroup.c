// SPDX-License-Identifier: GPL-2.0-or-later
/* The command's own cgroup under vmprof run (cgroup.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
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
		/* outside the root of its cgroup namespace: "/../.." */
		line[len] = '\0';
		if (strstr(line + 3, "/..")) {
			err = -EXDEV;
			break;
		}
		memcpy(buf, line + 3, len - 3);
		buf[len - 3] = '\0';
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* Where the root of the cgroup v2 hierarchy is mounted (/sys/fs/cgroup,
 * or /sys/fs/cgroup/unified beside v1's), from /proc/self/mountinfo: a
 * mount of a part of it (its root field not "/") is not taken.  0, or
 * -EOPNOTSUPP. */
static int v2_mount(const char *root, char *buf, size_t size)
{
	char path[PATH_MAX], line[2 * PATH_MAX], mroot[PATH_MAX], dir[PATH_MAX];
	int err = -EOPNOTSUPP;
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - TYPE SOURCE ... */
		if (!sep || strncmp(sep, " - cgroup2 ", 11) ||
		    sscanf(line, "%*s %*s %*s %4095s %4095s", mroot, dir) != 2)
			continue;
		/* a mount point with a space (\040) in it is not looked for */
		if (strcmp(mroot, "/") || strchr(dir, '\\') ||
		    strlen(dir) >= size)
			continue;
		snprintf(buf, size, "%s", dir);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/* cgroup.procs of directory @dirfd, open for reading: a stream, or NULL
 * and -errno in *@err. */
static FILE *open_procs(int dirfd, int *err)
{
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	FILE *f;

	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		*err = -ENOMEM;
		close(fd);
	}
	return f;
}

/* Is @pid listed in cgroup.procs of directory @dirfd?  1, 0, or -errno. */
static int lists(int dirfd, pid_t pid)
{
	int found = 0, err;
	FILE *f = open_procs(dirfd, &err);
	long p;

	if (!f)
		return err;
	while (!found && fscanf(f, "%ld", &p) == 1)
		found = p == pid;
	fclose(f);
	return found;
}

/* Does cgroup.subtree_control of @dirfd enable a controller? 1, 0, -errno */
static int gives_controllers(int dirfd)
{
	char buf[256];
	int fd = openat(dirfd, "cgroup.subtree_control", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return buf[strspn(buf, " \n")] != '\0';
}

/* Has systemd, if it is init, delegated the cgroup of @dirfd (the xattr it
 * sets on a unit with Delegate=yes)?  Without systemd: yes. */
static int delegated(int dirfd)
{
	static const char *const names[] = { "trusted.delegate", "user.delegate" };
	char v[8];

	if (access("/run/systemd/system", F_OK))
		return 1;	/* systemd is not init */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (fgetxattr(dirfd, names[i], v, sizeof(v)) == 1 && v[0] == '1')
			return 1;
	return 0;
}

int run_cgroup_make(struct run_cgroup *cg, const char *root)
{
	char own[PATH_MAX], mnt[PATH_MAX];
	struct statfs sfs;
	int err;

	cg->parent_fd = cg->fd = -1;
	cg->path[0] = '\0';
	cg->why = NULL;
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
	/* The cgroup we read is ours (not one we left since, or a path
	 * that named another). */
	err = lists(cg->parent_fd, getpid());
	if (err <= 0) {
		err = err ? err : -ESTALE;
		goto fail;
	}
	/*
	 * Only a cgroup that holds processes and gives its children
	 * controllers, the root, would give them to the command's: then it
	 * would compete for CPU and I/O as a peer of the system's groups.
	 */
	err = gives_controllers(cg->parent_fd);
	if (err) {
		cg->why = "its cgroup gives controllers to its children (the root cgroup), and a cgroup of the command's own would take them";
		err = err < 0 ? err : -EBUSY;
		goto fail;
	}
	if (!delegated(cg->parent_fd)) {
		cg->why = "systemd manages it and has not delegated it to vmprof: run vmprof in a scope of its own, systemd-run --scope -p Delegate=yes (as root) or systemd-run --user --scope -p Delegate=yes";
		err = -EPERM;
		goto fail;
	}
	if (mkdirat(cg->parent_fd, cg->name, 0755)) {
		err = -errno;
		/* a stale one of a killed run of this pid: removed if empty */
		if (err == -EEXIST &&
		    !unlinkat(cg->parent_fd, cg->name, AT_REMOVEDIR))
			err = mkdirat(cg->parent_fd, cg->name, 0755) ? -errno : 0;
		if (err)
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

/* How deep the cgroups the command made below its own are emptied. */
#define REMOVE_DEPTH	16

/*
 * Move every process of the cgroup @dirfd, and of the cgroups the command
 * made below it (deepest first, each then removed), to the cgroup
 * @to_fd: 0, or -errno.  A process that has exited since it was listed is
 * gone from the list anyway.
 */
static int move_out(int dirfd, int to_fd, int depth)
{
	struct dirent *de;
	int fd, err;
	FILE *f = open_procs(dirfd, &err);
	DIR *d;
	long pid;

	if (!f)
		return err;
	while (fscanf(f, "%ld", &pid) == 1)
		move_to(to_fd, (pid_t)pid);
	fclose(f);
	if (depth >= REMOVE_DEPTH)
		return 0;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			continue;
		move_out(sub, to_fd, depth + 1);
		close(sub);
		unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
	return 0;
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
		/* processes left, or cgroups the command made in it */
		if (err != -EBUSY || move_out(cg->fd, cg->parent_fd, 0))
			break;
	}
	close(cg->fd);
	close(cg->parent_fd);
	cg->fd = cg->parent_fd = -1;
	return err;
}
