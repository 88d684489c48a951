// SPDX-License-Identifier: GPL-2.0-or-later
/* Messages for libvmprof errors (apart from util.c, so that programs that
 * do not use libvmprof do not link it). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "util.h"
#include "vmprof.h"

int util_fail_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", util_prog());
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", vmprof_strerror(err));
	return EXIT_FAIL;
}

int util_fail_open(int err)
{
	if (err == -ENOENT)
		return util_fail("%s", MODULE_HINT);
	if (err == -EACCES)
		return util_fail("cannot open %s or %s: permission denied (is the module's udev rule installed?)",
				 VMPROF_STATUS_PATH, VMPROF_DEVICE_PATH);
	return util_fail_errno(err, "cannot open the vmprof module's files");
}

