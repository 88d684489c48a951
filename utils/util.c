// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

static const char *prog = "vmprof";

void util_set_prog(const char *name)
{
	prog = name;
}

const char *util_prog(void)
{
	return prog;
}

static void vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
}

void util_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int util_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int util_usage_error(const char *msg)
{
	if (msg)
		fprintf(stderr, "%s: %s\n", prog, msg);
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	return EXIT_USAGE;
}

int util_help(const char *text)
{
	fputs(text, stdout);
	return util_close_stdout();
}

int util_version(void)
{
	printf("%s (%s) %s\n", prog, PACKAGE_NAME, PACKAGE_VERSION);
	return util_close_stdout();
}

unsigned long util_parse_ulong(const char *s, const char *what,
			       unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, "%s: invalid %s '%s': expected a whole number from %lu to %lu\n",
			prog, what, s, min, max);
		exit(EXIT_USAGE);
	}
	return v;
}

double util_parse_double(const char *s, const char *what, double min,
			 double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= min && v <= max)) {
		fprintf(stderr, "%s: invalid %s '%s': expected a number from %g to %g\n",
			prog, what, s, min, max);
		exit(EXIT_USAGE);
	}
	return v;
}

int util_close_file(FILE *f, const char *name)
{
	int err = ferror(f);

	errno = 0;
	if (fclose(f) || err) {
		fprintf(stderr, "%s: error writing %s: %s\n", prog, name,
			errno ? strerror(errno) : "write error");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int util_close_stdout(void)
{
	return util_close_file(stdout, "standard output");
}

int util_drop_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL)	/* EINVAL: a kernel before ambient sets */
		return -1;
	return (int)syscall(SYS_capset, &h, d);
}

int util_open_output(const char *path, int flags, int *created)
{
	struct stat st;
	int fd, err;

	if (created)
		*created = 0;
	/* O_EXCL: a name that exists, a symbolic link included, is not
	 * followed; it is opened below, as what it is. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
		  0666);
	if (fd >= 0) {
		if (created)
			*created = 1;
		return fd;
	}
	if (errno != EEXIST)
		return -errno;
	/* Not O_TRUNC: what it is must be known before it is emptied;
	 * O_NONBLOCK: a FIFO without a reader would block the open.
	 * O_CREAT, so that the kernel's fs.protected_regular and
	 * protected_fifos refuse a file another user planted in a sticky
	 * directory (/tmp); a name gone since is created, not undone. */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
		  O_CLOEXEC | O_NOCTTY, 0666);
	if (fd < 0)
		return -errno;	/* ELOOP: a symbolic link */
	if (fstat(fd, &st))
		goto fail;
	if (S_ISREG(st.st_mode)) {
		if (ftruncate(fd, 0))
			goto fail;
	} else if (!(flags & UTIL_OUT_DEVICE) ||
		   !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		errno = EINVAL;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0))	/* blocking, as an output is */
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

void util_warn_output(const char *path, int err, int flags,
		      const char *what_to_do)
{
	if (err == -ELOOP)
		util_warn("cannot write %s: it is a symbolic link, which vmprof does not write through: remove it, or %s",
			  path, what_to_do);
	else if (err == -EINVAL && (flags & UTIL_OUT_DEVICE))
		util_warn("cannot write %s: it is neither a regular file, a character device nor a FIFO: %s",
			  path, what_to_do);
	else if (err == -EINVAL || (err == -ENXIO && !(flags & UTIL_OUT_DEVICE)))
		util_warn("cannot write %s: it is not a regular file: %s", path,
			  what_to_do);
	else if (err == -ENXIO)
		util_warn("cannot write %s: no process reads the FIFO: start its reader first, or %s",
			  path, what_to_do);
	else
		util_warn("cannot create %s: %s (%s)", path, strerror(-err),
			  what_to_do);
}

FILE *util_create(const char *path, int *created)
{
	FILE *f;
	int fd;

	fd = util_open_output(path, 0, created);
	if (fd < 0) {
		util_warn_output(path, fd, 0, "choose another name");
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		util_warn("cannot create %s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

void *util_grow(void *arr, size_t n, size_t *cap, size_t size, size_t first)
{
	size_t c;
	void *p;

	if (n < *cap)
		return arr;
	c = *cap ? *cap * 2 : first;
	if (c <= *cap || c > SIZE_MAX / size)
		return NULL;
	p = realloc(arr, c * size);
	if (p)
		*cap = c;
	return p;
}

size_t util_utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* no overlong forms, surrogates or code points past U+10FFFF */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

size_t util_utf8_shown(const unsigned char *s)
{
	size_t n = util_utf8_len(s);
	uint32_t c;

	if (!n)
		return 0;
	c = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++)
		c = c << 6 | (s[i] & 0x3f);
	/* C0, DEL and C1 controls; the marks and embeddings, overrides and
	 * isolates of bidirectional text, which reorder what follows */
	if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x61c ||
	    c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069))
		return 0;
	return n;
}
