// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Data files: writing rows as CSV, TSV or JSON lines, and reading CSV or
 * TSV back.  A CSV/TSV file starts with a comment line naming the format
 * and its version ("# vmprof-data 1 ..."), then a header row naming the
 * columns; readers find columns by name, so columns may be added later.
 * A process line ("# process pid=PID command=TEXT") may come before a
 * process's first row; readers that do not know it skip it as a comment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DATA_MAGIC	"# vmprof-data"
#define DATA_VERSION	1
#define PROCESS_TAG	"# process pid="
#define CLOCK_TAG	"# clock realtime_ns="

enum { C_TIME, C_PID, C_NR, C_INTERVAL, C_MIN, C_MAJ, C_CPU, C_RSS, C_FLAGS,
       C_PPID, C_COUNT };

_Static_assert(C_COUNT == sizeof(((struct vmprof_reader *)0)->col) /
	       sizeof(int), "struct vmprof_reader has a column per field");

static const char *const col_names[C_COUNT] = {
	"time_ns", "pid", "nr_pids", "interval_ns", "min_flt", "maj_flt",
	"cpu_ns", "rss_kb", "flags", "ppid",
};

int vmprof_format_parse(const char *name, enum vmprof_format *fmt)
{
	if (!strcmp(name, "csv"))
		*fmt = VMPROF_FMT_CSV;
	else if (!strcmp(name, "tsv"))
		*fmt = VMPROF_FMT_TSV;
	else if (!strcmp(name, "json"))
		*fmt = VMPROF_FMT_JSON;
	else
		return -EINVAL;
	return 0;
}

void vmprof_row_from_record(struct vmprof_row *row,
			    const struct vmprof_record *rec)
{
	memset(row, 0, sizeof(*row));
	row->time_ns = rec->time_ns;
	row->pid = rec->pid;
	row->nr_pids = 1;
	row->interval_ns = rec->interval_ns;
	row->min_flt = rec->min_flt;
	row->maj_flt = rec->maj_flt;
	row->cpu_ns = rec->cpu_ns;
	row->rss_kb = rec->rss_kb;
	row->flags = rec->flags;
	row->ppid = rec->ppid;
}

double vmprof_row_cpu_util(const struct vmprof_row *row)
{
	return row->interval_ns ? (double)row->cpu_ns / (double)row->interval_ns
				: 0.0;
}

void vmprof_row_add(struct vmprof_row *sum, const struct vmprof_row *row)
{
	if (!sum->nr_pids)
		sum->time_ns = row->time_ns;
	sum->pid = 0;
	sum->ppid = 0;
	sum->flags = 0;
	sum->nr_pids += row->nr_pids ? row->nr_pids : 1;
	if (row->interval_ns > sum->interval_ns)
		sum->interval_ns = row->interval_ns;
	sum->min_flt += row->min_flt;
	sum->maj_flt += row->maj_flt;
	sum->cpu_ns += row->cpu_ns;
	sum->rss_kb += row->rss_kb;
}

static int stream_status(FILE *f, int n)
{
	if (n >= 0 && !ferror(f))
		return 0;
	return errno ? -errno : -EIO;
}

int vmprof_write_header(FILE *f, enum vmprof_format fmt, int aggregate,
			unsigned int period_ms)
{
	char sep = fmt == VMPROF_FMT_TSV ? '\t' : ',';
	int n;

	if (fmt == VMPROF_FMT_JSON)
		return 0;	/* JSON lines name every field */
	errno = 0;
	n = fprintf(f, "%s %d layout=%s period_ms=%u\n", DATA_MAGIC,
		    DATA_VERSION, aggregate ? "aggregate" : "per-process",
		    period_ms);
	if (n >= 0 && aggregate)
		n = fprintf(f, "time_ns%cnr_pids%cinterval_ns%cmin_flt%cmaj_flt%ccpu_ns%ccpu_util%crss_kb\n",
			    sep, sep, sep, sep, sep, sep, sep);
	else if (n >= 0)
		n = fprintf(f, "time_ns%cpid%cinterval_ns%cmin_flt%cmaj_flt%ccpu_ns%ccpu_util%crss_kb%cflags%cppid\n",
			    sep, sep, sep, sep, sep, sep, sep, sep, sep);
	return stream_status(f, n);
}

/* "00" to "99": decimal digits are written two at a time. */
static const char pairs[] =
	"00010203040506070809101112131415161718192021222324"
	"25262728293031323334353637383940414243444546474849"
	"50515253545556575859606162636465666768697071727374"
	"75767778798081828384858687888990919293949596979899";

/* The number of decimal digits of @v. */
static unsigned int digits_of(uint64_t v)
{
	unsigned int n = 1;

	while (v >= 10000) {
		v /= 10000;
		n += 4;
	}
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/*
 * The decimal digits of @v at @p, written in place from the last, two at a
 * time; returns the end.
 */
static char *put_u64(char *p, uint64_t v)
{
	char *end = p + digits_of(v), *d = end;

	while (v >= 100) {
		d -= 2;
		memcpy(d, &pairs[v % 100 * 2], 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(d - 2, &pairs[v * 2], 2);
	else
		d[-1] = (char)('0' + v);
	return end;
}

/* @v < 10000 as exactly four digits, leading zeros kept. */
static char *put_frac4(char *p, uint64_t v)
{
	memcpy(p, &pairs[v / 100 * 2], 2);
	memcpy(p + 2, &pairs[v % 100 * 2], 2);
	return p + 4;
}

/*
 * cpu_util (cpu_ns / interval_ns) as printf("%.4f") prints the double,
 * in integers: the floating point of a double division and of printf's
 * conversion cost more than all the rest of a row, under emulation most
 * of all (vmprof-monitor writes 200,000 rows a second for 10,000
 * processes).  The quotient rounded to 4 decimals is the double's unless
 * the exact value lies within the double's rounding error (2^-53 of it)
 * of a tie; those, and values past 10^4 or a zero interval, go through
 * snprintf, so the text is always printf's.  @p has room for 320 bytes.
 */
static char *put_util(char *p, const struct vmprof_row *row)
{
	uint64_t c = row->cpu_ns, i = row->interval_ns;

	if (i && i <= UINT64_MAX / 2 && c <= UINT64_MAX / 10000) {
		uint64_t q = c * 10000 / i, twice = c * 10000 % i * 2;
		uint64_t off = twice > i ? twice - i : i - twice;

		/* off / 2i: how far from a tie, in units of the last digit */
		if (q < 100000000 && off > i >> 20) {
			q += twice > i;
			p = put_u64(p, q / 10000);
			*p++ = '.';
			return put_frac4(p, q % 10000);
		}
	}
	/* DBL_MAX with 4 decimals: 314 bytes */
	return p + snprintf(p, 320, "%.4f", vmprof_row_cpu_util(row));
}

/* The separator, or in JSON the key, before field @i of a row. */
static char *put_key(char *p, enum vmprof_format fmt, int i, const char *key)
{
	if (fmt != VMPROF_FMT_JSON) {
		if (i)
			*p++ = fmt == VMPROF_FMT_TSV ? '\t' : ',';
		return p;
	}
	*p++ = i ? ',' : '{';
	*p++ = '"';
	p = stpcpy(p, key);
	*p++ = '"';
	*p++ = ':';
	return p;
}

int vmprof_write_row(FILE *f, enum vmprof_format fmt, int aggregate,
		     const struct vmprof_row *row)
{
	char buf[1024], *p = buf;
	size_t len;

	p = put_u64(put_key(p, fmt, 0, "time_ns"), row->time_ns);
	if (aggregate)
		p = put_u64(put_key(p, fmt, 1, "nr_pids"), row->nr_pids);
	else
		p = put_u64(put_key(p, fmt, 1, "pid"), row->pid);
	p = put_u64(put_key(p, fmt, 2, "interval_ns"), row->interval_ns);
	p = put_u64(put_key(p, fmt, 3, "min_flt"), row->min_flt);
	p = put_u64(put_key(p, fmt, 4, "maj_flt"), row->maj_flt);
	p = put_u64(put_key(p, fmt, 5, "cpu_ns"), row->cpu_ns);
	p = put_util(put_key(p, fmt, 6, "cpu_util"), row);
	p = put_u64(put_key(p, fmt, 7, "rss_kb"), row->rss_kb);
	if (!aggregate) {
		p = put_u64(put_key(p, fmt, 8, "flags"), row->flags);
		p = put_u64(put_key(p, fmt, 9, "ppid"), row->ppid);
	}
	if (fmt == VMPROF_FMT_JSON)
		*p++ = '}';
	*p++ = '\n';
	len = (size_t)(p - buf);
	errno = 0;
	return stream_status(f, fwrite(buf, 1, len, f) == len ? 0 : -1);
}

int vmprof_write_process(FILE *f, enum vmprof_format fmt, uint32_t pid,
			 const char *command)
{
	int n = 0;

	errno = 0;
	if (fmt == VMPROF_FMT_JSON) {
		n = fprintf(f, "{\"pid\":%" PRIu32 ",\"command\":\"", pid);
		for (const unsigned char *c = (const unsigned char *)command;
		     *c && n >= 0; c++) {
			if (*c == '"' || *c == '\\')
				n = fprintf(f, "\\%c", *c);
			else if (*c < 0x20 || *c == 0x7f)
				n = fprintf(f, "\\u%04x", *c);
			else
				n = putc(*c, f) == EOF ? -1 : 0;
		}
		if (n >= 0)
			n = fputs("\"}\n", f) == EOF ? -1 : 0;
		return stream_status(f, n);
	}
	n = fprintf(f, PROCESS_TAG "%" PRIu32 " command=", pid);
	/* One line whatever the command holds: control characters become
	 * spaces. */
	for (const unsigned char *c = (const unsigned char *)command;
	     *c && n >= 0; c++)
		n = putc(*c < 0x20 || *c == 0x7f ? ' ' : *c, f) == EOF ? -1 : 0;
	if (n >= 0)
		n = putc('\n', f) == EOF ? -1 : 0;
	return stream_status(f, n);
}

int vmprof_process_line(const char *line, uint32_t *pid, char *command,
			size_t size)
{
	const char *p = line + strlen(PROCESS_TAG);
	unsigned long long v = 0;
	size_t len;

	if (strncmp(line, PROCESS_TAG, strlen(PROCESS_TAG)))
		return 0;
	if (*p < '0' || *p > '9')
		return -EBADMSG;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > UINT32_MAX)
			return -EBADMSG;
	}
	if (strncmp(p, " command=", 9))
		return -EBADMSG;
	p += 9;
	len = strcspn(p, "\r\n");
	if (size) {
		if (len >= size)
			len = size - 1;
		memcpy(command, p, len);
		command[len] = '\0';
	}
	*pid = (uint32_t)v;
	return 1;
}

int vmprof_write_clock(FILE *f, enum vmprof_format fmt, uint64_t realtime_ns,
		       uint64_t monotonic_ns)
{
	int n;

	errno = 0;
	if (fmt == VMPROF_FMT_JSON)
		n = fprintf(f, "{\"realtime_ns\":%" PRIu64 ",\"monotonic_ns\":%" PRIu64 "}\n",
			    realtime_ns, monotonic_ns);
	else
		n = fprintf(f, CLOCK_TAG "%" PRIu64 " monotonic_ns=%" PRIu64 "\n",
			    realtime_ns, monotonic_ns);
	return stream_status(f, n);
}

/* The decimal number at *@p, no more than UINT64_MAX: 0 and *@p past it,
 * or -EBADMSG. */
static int scan_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return -EBADMSG;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (n > (UINT64_MAX - d) / 10)
			return -EBADMSG;
		n = n * 10 + d;
	}
	*p = s;
	*v = n;
	return 0;
}

int vmprof_clock_line(const char *line, uint64_t *realtime_ns,
		      uint64_t *monotonic_ns)
{
	const char *p = line + strlen(CLOCK_TAG);
	uint64_t rt, mono;

	if (strncmp(line, CLOCK_TAG, strlen(CLOCK_TAG)))
		return 0;
	if (scan_u64(&p, &rt) || strncmp(p, " monotonic_ns=", 14))
		return -EBADMSG;
	p += 14;
	if (scan_u64(&p, &mono))
		return -EBADMSG;
	if (*p == '\r')
		p++;
	if (*p && *p != '\n')
		return -EBADMSG;
	*realtime_ns = rt;
	*monotonic_ns = mono;
	return 1;
}

void vmprof_reader_init(struct vmprof_reader *rd)
{
	memset(rd, 0, sizeof(*rd));
	for (int i = 0; i < C_COUNT; i++)
		rd->col[i] = -1;
}

/* Split @line at @sep into at most @max fields; return the count. */
static int split(char *line, char sep, char **fields, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *q = strchr(p, sep);

		if (n == max)
			return max + 1;
		fields[n++] = p;
		if (!q)
			return n;
		*q = '\0';
		p = q + 1;
	}
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

static int header_row(struct vmprof_reader *rd, char *text)
{
	char *fields[32];
	int n;

	rd->sep = strchr(text, '\t') ? '\t' : ',';
	n = split(text, rd->sep, fields, 31);
	if (n > 31)
		return -EBADMSG;
	for (int i = 0; i < n; i++)
		for (int c = 0; c < C_COUNT; c++)
			if (!strcmp(fields[i], col_names[c]))
				rd->col[c] = i;
	rd->aggregate = rd->col[C_NR] >= 0 && rd->col[C_PID] < 0;
	/* The columns every analysis needs. */
	if (rd->col[C_TIME] < 0 || rd->col[C_INTERVAL] < 0 ||
	    rd->col[C_MIN] < 0 || rd->col[C_MAJ] < 0 || rd->col[C_CPU] < 0 ||
	    (rd->col[C_PID] < 0 && rd->col[C_NR] < 0))
		return -EBADMSG;
	rd->ncols = n;
	return 0;
}

int vmprof_reader_line(struct vmprof_reader *rd, const char *line,
		       struct vmprof_row *row)
{
	char buf[1024], *fields[32];
	size_t len = strlen(line);
	uint64_t v[C_COUNT] = { 0 };
	int n;

	rd->line++;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len >= sizeof(buf))
		return -EBADMSG;
	memcpy(buf, line, len);
	buf[len] = '\0';

	if (!strncmp(buf, DATA_MAGIC, strlen(DATA_MAGIC))) {
		int ver;

		if (sscanf(buf + strlen(DATA_MAGIC), "%d", &ver) != 1)
			return -EBADMSG;
		return ver == DATA_VERSION ? 0 : -EPROTO;
	}
	if (len == 0 || buf[0] == '#')
		return 0;
	if (!rd->ncols)
		return header_row(rd, buf);

	n = split(buf, rd->sep, fields, 31);
	if (n != rd->ncols)
		return -EBADMSG;
	for (int c = 0; c < C_COUNT; c++) {
		if (rd->col[c] < 0)
			continue;
		if (parse_u64(fields[rd->col[c]], &v[c]))
			return -EBADMSG;
	}
	if (v[C_PID] > UINT32_MAX || v[C_NR] > UINT32_MAX ||
	    v[C_FLAGS] > UINT32_MAX || v[C_PPID] > UINT32_MAX)
		return -EBADMSG;
	memset(row, 0, sizeof(*row));
	row->time_ns = v[C_TIME];
	row->pid = (uint32_t)v[C_PID];
	row->nr_pids = rd->col[C_NR] >= 0 ? (uint32_t)v[C_NR] : 1;
	row->interval_ns = v[C_INTERVAL];
	row->min_flt = v[C_MIN];
	row->maj_flt = v[C_MAJ];
	row->cpu_ns = v[C_CPU];
	row->rss_kb = v[C_RSS];
	row->flags = (uint32_t)v[C_FLAGS];
	row->ppid = (uint32_t)v[C_PPID];	/* 0 in files without the column */
	return 1;
}
