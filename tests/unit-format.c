// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvmprof's parsers and formatters, and a session over a recorded /proc
 * tree: no kernel, no root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "vmprof.h"

static char *format_rows(enum vmprof_format fmt, int aggregate,
			 const struct vmprof_row *rows, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	vmprof_write_header(f, fmt, aggregate, 50);
	for (int i = 0; i < n; i++)
		vmprof_write_row(f, fmt, aggregate, &rows[i]);
	fclose(f);
	return buf;
}

/* Feed @text line by line; return rows read, or the first error. */
static int parse_all(const char *text, struct vmprof_reader *rd,
		     struct vmprof_row *rows, int max)
{
	char *copy = strdup(text), *l = copy, *nl;
	int n = 0;

	vmprof_reader_init(rd);
	/* Every line, blank ones included, as a file reader sees them. */
	for (; (nl = strchr(l, '\n')); l = nl + 1) {
		int r;

		*nl = '\0';
		r = vmprof_reader_line(rd, l, n < max ? &rows[n] : &rows[max - 1]);
		if (r < 0) {
			free(copy);
			return r;
		}
		n += r;
	}
	free(copy);
	return n;
}

static int same(const struct vmprof_row *a, const struct vmprof_row *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i].time_ns != b[i].time_ns || a[i].pid != b[i].pid ||
		    a[i].nr_pids != b[i].nr_pids ||
		    a[i].interval_ns != b[i].interval_ns ||
		    a[i].min_flt != b[i].min_flt || a[i].maj_flt != b[i].maj_flt ||
		    a[i].cpu_ns != b[i].cpu_ns || a[i].rss_kb != b[i].rss_kb ||
		    a[i].flags != b[i].flags || a[i].ppid != b[i].ppid)
			return 0;
	return 1;
}

static void test_roundtrip(void)
{
	struct vmprof_row in[2] = {
		{ .time_ns = 5000000000ULL, .pid = 42, .nr_pids = 1,
		  .interval_ns = 50000000, .min_flt = 1234, .maj_flt = 5,
		  .cpu_ns = 25000000, .rss_kb = 8192, .flags = 0,
		  .ppid = 7 },
		{ .time_ns = 5050000000ULL, .pid = 42, .nr_pids = 1,
		  .interval_ns = 50000000, .min_flt = UINT64_MAX / 2,
		  .maj_flt = 0, .cpu_ns = 0, .rss_kb = 0,
		  .flags = VMPROF_REC_EXITED, .ppid = 7 },
	};
	struct vmprof_row out[2];
	struct vmprof_reader rd;
	char *csv, *tsv, *json;

	csv = format_rows(VMPROF_FMT_CSV, 0, in, 2);
	is_str(csv,
	       "# vmprof-data 1 layout=per-process period_ms=50\n"
	       "time_ns,pid,interval_ns,min_flt,maj_flt,cpu_ns,cpu_util,rss_kb,flags,ppid\n"
	       "5000000000,42,50000000,1234,5,25000000,0.5000,8192,0,7\n"
	       "5050000000,42,50000000,9223372036854775807,0,0,0.0000,0,1,7\n",
	       "CSV per process: golden text");
	is_u64(parse_all(csv, &rd, out, 2), 2, "CSV parses back to two rows");
	ok(same(in, out, 2), "CSV round trip is exact");
	tsv = format_rows(VMPROF_FMT_TSV, 0, in, 2);
	is_u64(parse_all(tsv, &rd, out, 2), 2, "TSV parses back");
	ok(same(in, out, 2) && rd.sep == '\t', "TSV round trip is exact");
	json = format_rows(VMPROF_FMT_JSON, 0, in, 1);
	is_str(json,
	       "{\"time_ns\":5000000000,\"pid\":42,\"interval_ns\":50000000,"
	       "\"min_flt\":1234,\"maj_flt\":5,\"cpu_ns\":25000000,"
	       "\"cpu_util\":0.5000,\"rss_kb\":8192,\"flags\":0,\"ppid\":7}\n",
	       "JSON lines: golden text");
	free(csv);
	free(tsv);
	free(json);

	in[0].pid = 0;
	in[0].ppid = 0;
	in[0].nr_pids = 3;
	csv = format_rows(VMPROF_FMT_CSV, 1, in, 1);
	is_str(csv,
	       "# vmprof-data 1 layout=aggregate period_ms=50\n"
	       "time_ns,nr_pids,interval_ns,min_flt,maj_flt,cpu_ns,cpu_util,rss_kb\n"
	       "5000000000,3,50000000,1234,5,25000000,0.5000,8192\n",
	       "CSV aggregate: golden text");
	is_u64(parse_all(csv, &rd, out, 1), 1, "aggregate CSV parses");
	ok(rd.aggregate && out[0].nr_pids == 3 && out[0].pid == 0,
	   "aggregate layout recognised");
	free(csv);

	/* Files written before the ppid column: ppid reads as 0. */
	is_u64(parse_all("time_ns,pid,interval_ns,min_flt,maj_flt,cpu_ns,flags\n"
			 "5000000000,42,50000000,1,2,3,0\n", &rd, out, 1),
	       1, "a file without a ppid column parses");
	ok(out[0].pid == 42 && out[0].ppid == 0 && out[0].cpu_ns == 3,
	   "its rows have ppid 0");
	/* Columns by name, in any order. */
	is_u64(parse_all("ppid,cpu_ns,maj_flt,min_flt,interval_ns,pid,time_ns\n"
			 "9,3,2,1,50000000,42,5000000000\n", &rd, out, 1),
	       1, "columns in another order parse");
	ok(out[0].pid == 42 && out[0].ppid == 9 && out[0].min_flt == 1 &&
	   out[0].maj_flt == 2, "and are read by name");
}

static void test_malformed(void)
{
	static const struct {
		const char *text;
		int err;
		unsigned long line;
		const char *what;
	} cases[] = {
		{ "time_ns,pid\n1,2\n", -EBADMSG, 1, "header without the needed columns" },
		{ "time_ns,pid,interval_ns,min_flt,maj_flt,cpu_ns\n1,2,3,4,5\n",
		  -EBADMSG, 2, "too few fields" },
		{ "time_ns,pid,interval_ns,min_flt,maj_flt,cpu_ns\n1,2,3,4,5,6,7\n",
		  -EBADMSG, 2, "too many fields" },
		{ "time_ns,pid,interval_ns,min_flt,maj_flt,cpu_ns\n1,2,3,x,5,6\n",
		  -EBADMSG, 2, "letters in a number" },
		{ "time_ns,pid,interval_ns,min_flt,maj_flt,cpu_ns\n1,2,3,-4,5,6\n",
		  -EBADMSG, 2, "a negative count" },
		{ "time_ns,pid,interval_ns,min_flt,maj_flt,cpu_ns\n1,2,3,,5,6\n",
		  -EBADMSG, 2, "an empty field" },
		{ "time_ns,pid,interval_ns,min_flt,maj_flt,cpu_ns\n1,2,3,99999999999999999999,5,6\n",
		  -EBADMSG, 2, "a number past 64 bits" },
		{ "time_ns,pid,interval_ns,min_flt,maj_flt,cpu_ns\n1,5000000000,3,4,5,6\n",
		  -EBADMSG, 2, "a pid past 32 bits" },
		{ "# vmprof-data 2 layout=per-process\n", -EPROTO, 1, "a newer format version" },
		{ "# c\n\ntime_ns,pid,interval_ns,min_flt,maj_flt,cpu_ns\n1,2,3,4,5,6\n1,2\n",
		  -EBADMSG, 5, "comments and blank lines count in line numbers" },
	};
	struct vmprof_row row;
	struct vmprof_reader rd;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse_all(cases[i].text, &rd, &row, 1);

		ok(r == cases[i].err && rd.line == cases[i].line,
		   "malformed: %s (error %d on line %lu)", cases[i].what, r,
		   rd.line);
	}
}

static void test_stats(void)
{
	struct vmprof_stats st;

	ok(vmprof_stats_parse("ticks 10\nrecords 20\nfuture_key 5\nperiod_ms 50\n"
			      "cost_per_sample_ns 1234\n", &st) == 0 &&
	   st.ticks == 10 && st.records == 20 && st.period_ms == 50 &&
	   st.cost_per_sample_ns == 1234, "stats: known keys read, unknown skipped");
	is_u64(-vmprof_stats_parse("garbage\n", &st), EBADMSG, "stats: garbage is EBADMSG");
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_session(void)
{
	char root[] = "/tmp/vmprof-unit-XXXXXX", path[512], buf[64] = "";
	struct vmprof_session *s;
	struct vmprof_stats st;
	pid_t pids[4];
	int fd, n;

	if (!mkdtemp(root))
		return;
	is_u64(-vmprof_session_open(&s, root, 0), ENOENT,
	       "no module files: ENOENT (module not loaded)");
	snprintf(path, sizeof(path), "%s/proc", root);
	mkdir(path, 0755);
	strcat(path, "/vmprof");
	mkdir(path, 0755);
	put(root, "/proc/vmprof/status", "12\n345\n6789\n");
	put(root, "/proc/vmprof/stats", "ticks 3\nregistered 3\n");
	ok(vmprof_session_open(&s, root, 0) == 0, "session over a recorded tree");
	n = vmprof_list(s, pids, 2);
	ok(n == 3 && pids[0] == 12 && pids[1] == 345,
	   "list: returns the count even when the array is short");
	ok(vmprof_stats_read(s, &st) == 0 && st.ticks == 3 && st.registered == 3,
	   "stats read through the root prefix");
	is_u64(-vmprof_register(s, 0), EINVAL, "register pid 0: EINVAL");
	ok(vmprof_register(s, 4321) == 0, "register writes to the status file");
	vmprof_session_close(s);
	snprintf(path, sizeof(path), "%s/proc/vmprof/status", root);
	fd = open(path, O_RDONLY);
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* Written at offset 0 over "12\n345\n", which is as long. */
	is_str(buf, "R 4321\n6789\n", "one command in one write: \"R 4321\\n\"");
	put(root, "/proc/vmprof/status", "12\nabc\n");
	vmprof_session_open(&s, root, 0);
	is_u64(-vmprof_list(s, pids, 4), EBADMSG, "list: garbage is EBADMSG");
	is_u64(-vmprof_session_open(&s, root, VMPROF_OPEN_RING), ENOENT,
	       "no /dev/vmprof: ENOENT");
	vmprof_session_close(s);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	if (system(path))
		return;
}

static void test_process_lines(void)
{
	char *buf = NULL, cmd[16];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	uint32_t pid = 0;

	vmprof_write_process(f, VMPROF_FMT_CSV, 42, "sort -k2\tbig\nfile");
	vmprof_write_process(f, VMPROF_FMT_JSON, 7, "say \"hi\" \\ \x01");
	fclose(f);
	is_str(buf, "# process pid=42 command=sort -k2 big file\n"
	       "{\"pid\":7,\"command\":\"say \\\"hi\\\" \\\\ \\u0001\"}\n",
	       "process lines: control characters become spaces, JSON escapes");
	is_u64(vmprof_process_line(buf, &pid, cmd, sizeof(cmd)), 1,
	       "a process line is recognised");
	ok(pid == 42 && !strcmp(cmd, "sort -k2 big fi"),
	   "its pid and command (cut to the buffer)");
	free(buf);
	is_u64(vmprof_process_line("# vmprof-data 1", &pid, cmd, sizeof(cmd)), 0,
	       "another comment is not a process line");
	is_u64(-vmprof_process_line("# process pid=x command=a", &pid, cmd,
				    sizeof(cmd)), EBADMSG,
	       "a process line without a pid: EBADMSG");
	is_u64(-vmprof_process_line("# process pid=4294967296 command=a", &pid,
				    cmd, sizeof(cmd)), EBADMSG,
	       "a pid over 32 bits: EBADMSG");
	is_u64(-vmprof_process_line("# process pid=5 cmd=a", &pid, cmd,
				    sizeof(cmd)), EBADMSG,
	       "a process line without command=: EBADMSG");
}

static void test_clock_lines(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	uint64_t rt = 0, mono = 0;

	vmprof_write_clock(f, VMPROF_FMT_TSV, 1796000000123456789u, 42);
	vmprof_write_clock(f, VMPROF_FMT_JSON, UINT64_MAX, 0);
	fclose(f);
	is_str(buf, "# clock realtime_ns=1796000000123456789 monotonic_ns=42\n"
	       "{\"realtime_ns\":18446744073709551615,\"monotonic_ns\":0}\n",
	       "clock lines: a comment line, and a JSON object");
	is_u64(vmprof_clock_line(buf, &rt, &mono), 1, "a clock line is recognised");
	ok(rt == 1796000000123456789u && mono == 42, "its two clocks");
	free(buf);
	is_u64(vmprof_clock_line("# clock realtime_ns=18446744073709551615 monotonic_ns=1\r\n",
				 &rt, &mono), 1, "UINT64_MAX, and CRLF, are read");
	ok(rt == UINT64_MAX && mono == 1, "...as they are");
	is_u64(vmprof_clock_line("# process pid=1 command=a", &rt, &mono), 0,
	       "a process line is not a clock line");
	is_u64(-vmprof_clock_line("# clock realtime_ns=18446744073709551616 monotonic_ns=1",
				  &rt, &mono), EBADMSG, "a clock past 64 bits: EBADMSG");
	is_u64(-vmprof_clock_line("# clock realtime_ns=1 monotonic_ns=", &rt, &mono),
	       EBADMSG, "no monotonic time: EBADMSG");
	is_u64(-vmprof_clock_line("# clock realtime_ns=1 monotonic_ns=2 x", &rt,
				  &mono), EBADMSG, "trailing text: EBADMSG");
	is_u64(-vmprof_clock_line("# clock realtime_ns=-1 monotonic_ns=2", &rt,
				  &mono), EBADMSG, "a sign: EBADMSG");
}

static void test_row_add(void)
{
	struct vmprof_row a = { .time_ns = 100, .pid = 1, .nr_pids = 1,
				.interval_ns = 50, .min_flt = 3, .maj_flt = 1,
				.cpu_ns = 25, .rss_kb = 10, .flags = 1 };
	struct vmprof_row b = { .time_ns = 100, .pid = 2, .nr_pids = 1,
				.interval_ns = 40, .min_flt = 4, .maj_flt = 2,
				.cpu_ns = 50, .rss_kb = 20 };
	struct vmprof_row sum = { 0 };

	vmprof_row_add(&sum, &a);
	vmprof_row_add(&sum, &b);
	ok(sum.time_ns == 100 && sum.pid == 0 && sum.nr_pids == 2 &&
	   sum.interval_ns == 50 && sum.min_flt == 7 && sum.maj_flt == 3 &&
	   sum.cpu_ns == 75 && sum.rss_kb == 30 && sum.flags == 0,
	   "the sum of a tick: counts add, the longest interval, two pids");
	ok(vmprof_row_cpu_util(&sum) == 1.5, "its utilisation: 75/50");
	sum.interval_ns = 0;
	ok(vmprof_row_cpu_util(&sum) == 0, "no interval: utilisation 0");
}

/*
 * cpu_util is written without printf's conversion of a double, yet must be
 * the text of printf("%.4f"): for exact ties (odd multiples of 1/32), near
 * ties, large values, no interval, and 200,000 pseudo-random pairs.
 */
static void test_util_text(void)
{
	static const uint64_t pairs[][2] = {
		{ 1, 32 }, { 3, 32 }, { 5, 32 }, { 31, 32 }, { 33, 32 },
		{ 1, 20000 }, { 3, 20000 }, { 19999, 20000 }, { 0, 1 },
		{ 1, 1 }, { 7, 3 }, { 2, 3 }, { 99995, 100000 },
		{ 49999999, 50000000 }, { 25000000, 50000000 },
		{ 100000, 10 }, { UINT64_MAX, 1 }, { 5, 0 },
	};
	uint64_t x = 88172645463325252ULL;
	int bad = 0, n = 0;

	for (size_t i = 0; i < 200000 + sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct vmprof_row r = { .nr_pids = 1 };
		char got[1024] = "", want[400], *field;
		int commas = 0;
		FILE *f;

		if (i < sizeof(pairs) / sizeof(pairs[0])) {
			r.cpu_ns = pairs[i][0];
			r.interval_ns = pairs[i][1];
		} else {	/* xorshift64 */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			r.interval_ns = x % 100000000 + 1;
			r.cpu_ns = (x >> 20) % (r.interval_ns * 3);
		}
		f = fmemopen(got, sizeof(got), "w");
		vmprof_write_row(f, VMPROF_FMT_CSV, 0, &r);
		fclose(f);
		snprintf(want, sizeof(want), "%.4f", vmprof_row_cpu_util(&r));
		field = got;
		while (commas < 6 && *field)
			commas += *field++ == ',';
		if (strncmp(field, want, strlen(want)) ||
		    field[strlen(want)] != ',') {
			if (bad++ < 3)
				printf("# cpu_ns %llu interval_ns %llu: got %s, want %s\n",
				       (unsigned long long)r.cpu_ns,
				       (unsigned long long)r.interval_ns, got,
				       want);
		}
		n++;
	}
	is_u64(bad, 0, "cpu_util is the text of printf's %s for all the values tried", "%.4f");
	ok(n > 200000, "the values tried include the fixed cases");
}

int main(void)
{
	enum vmprof_format fmt;

	ok(vmprof_format_parse("tsv", &fmt) == 0 && fmt == VMPROF_FMT_TSV, "format names");
	is_u64(-vmprof_format_parse("xml", &fmt), EINVAL, "unknown format: EINVAL");
	test_roundtrip();
	test_util_text();
	test_process_lines();
	test_clock_lines();
	test_row_add();
	test_malformed();
	test_stats();
	test_session();
	ok(strstr(vmprof_strerror(-EPERM), "not permitted") != NULL,
	   "strerror explains EPERM");
	ok(strstr(vmprof_strerror(-ENOSPC), "max_pids") != NULL,
	   "strerror explains ENOSPC");
	return done_testing();
}
