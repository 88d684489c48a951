/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the vmprof tools: messages, exit codes, numbers. */
#ifndef VMPROF_UTIL_H
#define VMPROF_UTIL_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "vmprof.h"

/* Exit status convention of every tool. */
#define EXIT_OK		0	/* done */
#define EXIT_FAIL	1	/* the work failed (module, file, process) */
#define EXIT_USAGE	2	/* bad command line */

#define MODULE_HINT \
	"the vmprof module is not loaded: run `modprobe vmprof` (as root), " \
	"or try vmprof inside a VM with `vmprof-lab -- COMMAND`"

void util_set_prog(const char *name);
const char *util_prog(void);

/* Print "PROG: message" on stderr; the fail ones return EXIT_FAIL. */
void util_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int util_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: what: <libvmprof message>". */
int util_fail_errno(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The helpers that use libvmprof (errmsg.c).  --backend's argument, or
 * exit with EXIT_USAGE. */
enum vmprof_backend util_parse_backend(const char *name);
/* "module" or "bpf", as --backend spells it. */
const char *util_backend_name(enum vmprof_backend backend);
/*
 * Open a session on @backend (AUTO: VMPROF_BACKEND if set, else the module
 * if loaded, else BPF).  Return: EXIT_OK, or EXIT_FAIL after saying why
 * and what to do.
 */
int util_session_open(struct vmprof_session **s, unsigned int flags,
		      enum vmprof_backend backend);
/*
 * The same for register, unregister and list, which act on the module's
 * registrations: the BPF backend keeps none beyond the program that
 * profiles, so it is refused, and AUTO does not fall back to it.
 */
int util_registry_open(struct vmprof_session **s,
		       enum vmprof_backend backend);
/* A session that cannot sample every @period_ms: the module's period is
 * every user's.  Say so, and what to do: EXIT_FAIL. */
int util_fail_period(unsigned int period_ms);
/* Why a session is on BPF when --backend said @asked: "" when it said
 * bpf, else " (VMPROF_BACKEND=bpf)" or " (the vmprof module is not
 * loaded)". */
const char *util_bpf_why(enum vmprof_backend asked);
/*
 * "sampler: VARIANT, N ticks, X us a tick (max Y us), Z us per process
 * sample": its work from @from to @to, its statistics then; the variant
 * alone when either is NULL (unreadable).
 */
void util_sampler_line(char *buf, size_t size,
		       const struct vmprof_session *s,
		       const struct vmprof_stats *from,
		       const struct vmprof_stats *to);

/* Print @msg (if any) and "Try 'PROG --help'" on stderr; EXIT_USAGE. */
int util_usage_error(const char *msg);
/* Print the help text on stdout; EXIT_OK, or EXIT_FAIL on a write error. */
int util_help(const char *text);
int util_version(void);

/* Parse a whole decimal number in [min, max] or exit with EXIT_USAGE. */
unsigned long util_parse_ulong(const char *s, const char *what,
			       unsigned long min, unsigned long max);
double util_parse_double(const char *s, const char *what, double min,
			 double max);

/*
 * Room for element @n of the array @arr of *@cap elements of @size bytes:
 * @arr itself while @n < *@cap, else @arr moved to a block of twice the
 * capacity (@first at first) and *@cap updated; NULL when out of memory,
 * with @arr and *@cap unchanged.
 */
void *util_grow(void *arr, size_t n, size_t *cap, size_t size, size_t first);

/* Flush and close stdout; report a write error (a full disk). */
int util_close_stdout(void);
/* util_open_output(): an existing character device or FIFO will do. */
#define UTIL_OUT_DEVICE	1
/*
 * Open the output @path for writing (close-on-exec), as a tool run by
 * root in a directory others may write must: never through a symbolic
 * link, and never emptying what is not a regular file.  A new file is
 * created (*@created, if given, set to 1); an existing regular file is
 * emptied; with UTIL_OUT_DEVICE an existing character device or FIFO is
 * opened as it is (a FIFO then blocks as usual).  The descriptor, or
 * -errno: -ELOOP a symbolic link, -EINVAL a file of another kind, -ENXIO
 * a FIFO without a reader.
 */
int util_open_output(const char *path, int flags, int *created);
/* Say why util_open_output(@path, @flags) failed (@err), and @what_to_do. */
void util_warn_output(const char *path, int err, int flags,
		      const char *what_to_do);
/* util_open_output() of @path as a stream, a regular file only (*@created,
 * if given, set to 1 if it is new); NULL after saying why and what to do
 * (EXIT_FAIL is the caller's). */
FILE *util_create(const char *path, int *created);
/* Give up every capability (effective, permitted, inheritable, ambient):
 * 0, or -1 with errno. */
int util_drop_caps(void);
/* Flush and close @f named @name; 0 or an error message and EXIT_FAIL. */
int util_close_file(FILE *f, const char *name);

/* The length of the valid UTF-8 sequence at @s (NUL-terminated), or 0:
 * a byte that begins none, an overlong form, a surrogate, past U+10FFFF. */
size_t util_utf8_len(const unsigned char *s);
/* The same, but 0 also for a control character (C0, DEL, C1) and for the
 * characters that reorder bidirectional text (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069): a name shown to people escapes them, so
 * that a process cannot make its name look like another's. */
size_t util_utf8_shown(const unsigned char *s);

#endif
