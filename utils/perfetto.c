// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmprof report --format perfetto: Perfetto's native trace format, a
 * protobuf stream of TracePackets (https://perfetto.dev/docs/reference/
 * trace-packet-proto).  The handful of messages and fields it takes are
 * written here directly: a varint, a double and a length-delimited field
 * are all the encoding needs, and a protobuf library would bring a code
 * generator and a schema for that.  The field numbers are Perfetto's, from
 * its protos/perfetto/trace/ sources; tests/perfetto.proto repeats them
 * for protoc --decode, which the test runs on every trace it makes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "datafile.h"
#include "perfetto.h"
#include "util.h"

/* Field numbers (trace.proto, trace_packet.proto, clock_snapshot.proto,
 * track_event/{track_descriptor,counter_descriptor,track_event}.proto). */
enum {
	TRACE_PACKET = 1,

	PACKET_CLOCK_SNAPSHOT = 6,
	PACKET_TIMESTAMP = 8,
	PACKET_SEQUENCE_ID = 10,	/* trusted_packet_sequence_id */
	PACKET_TRACK_EVENT = 11,
	PACKET_SEQUENCE_FLAGS = 13,
	PACKET_TIMESTAMP_CLOCK_ID = 58,
	PACKET_TRACK_DESCRIPTOR = 60,

	CLOCK_SNAPSHOT_CLOCKS = 1,
	CLOCK_SNAPSHOT_PRIMARY = 2,	/* primary_trace_clock */
	CLOCK_ID = 1,
	CLOCK_TIMESTAMP = 2,

	TRACK_UUID = 1,
	TRACK_NAME = 2,
	TRACK_PARENT_UUID = 5,
	TRACK_COUNTER = 8,
	TRACK_CHILD_ORDERING = 11,
	TRACK_SIBLING_ORDER_RANK = 12,

	COUNTER_UNIT = 3,
	COUNTER_UNIT_NAME = 6,

	EVENT_TYPE = 9,
	EVENT_TRACK_UUID = 11,
	EVENT_COUNTER_VALUE = 30,
	EVENT_DOUBLE_COUNTER_VALUE = 44,
};

/* Values of Perfetto's enums. */
enum {
	CLOCK_REALTIME = 1,		/* BuiltinClock */
	CLOCK_MONOTONIC = 3,
	SEQ_INCREMENTAL_STATE_CLEARED = 1,	/* TracePacket.SequenceFlags */
	ORDER_EXPLICIT = 3,		/* TrackDescriptor.ChildTracksOrdering */
	UNIT_SIZE_BYTES = 3,		/* CounterDescriptor.Unit */
	TYPE_COUNTER = 4,		/* TrackEvent.Type */
};

/* Every packet is on this sequence, the only one the trace has. */
#define PF_SEQUENCE	1

/* One sample of a process: the interval it covers and its counts. */
struct pf_point {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t min_flt;
	uint64_t maj_flt;
	uint64_t cpu_ns;
	uint64_t rss_kb;
};

struct pf_proc {
	uint32_t pid;
	uint32_t ppid;			/* of its first row that names one */
	bool seen;
	struct pf_point *pts;
	size_t n, cap;
};

/* The counter tracks of a process, in the order the UI shows them. */
enum pf_counter { PF_MIN, PF_MAJ, PF_CPU, PF_RSS, PF_COUNTERS };

static const struct pf_track {
	const char *name;
	const char *unit_name;		/* or NULL */
	int unit;			/* CounterDescriptor.Unit, or 0 */
} tracks[PF_COUNTERS] = {
	[PF_MIN] = { "minor faults/s", "faults/s", 0 },
	[PF_MAJ] = { "major faults/s", "faults/s", 0 },
	[PF_CPU] = { "CPU utilisation", "CPUs", 0 },
	[PF_RSS] = { "resident", NULL, UNIT_SIZE_BYTES },
};

/* A process's track is uuid (index + 1) * PF_UUIDS, its counters the next
 * ones; uuid 0 is Perfetto's implicit global track. */
#define PF_UUIDS	(PF_COUNTERS + 1)

static int on_count(void *arg, const struct vmprof_row *row, size_t group)
{
	struct perfetto *pf = arg;
	struct pf_proc *p;
	struct pf_point *pt, *prev;
	uint64_t start;

	while (pf->n <= group) {
		p = util_grow(pf->procs, pf->n, &pf->cap, sizeof(*p), 64);
		if (!p)
			return -ENOMEM;
		pf->procs = p;
		memset(&pf->procs[pf->n++], 0, sizeof(*p));
	}
	p = &pf->procs[group];
	if (!p->seen) {
		p->seen = true;
		p->pid = row->pid;
		if (row->pid && pidmap_put(&pf->pids, row->pid, group))
			return -ENOMEM;
	}
	if (!p->ppid)
		p->ppid = row->ppid;
	/* A process reaped before its last sample: no counts. */
	if (row->flags & VMPROF_REC_REAPED)
		return 0;
	start = row->time_ns -
		(row->interval_ns < row->time_ns ? row->interval_ns : row->time_ns);
	prev = p->n ? &p->pts[p->n - 1] : NULL;
	if (prev && row->time_ns <= prev->end_ns) {
		/* No later than the last (a damaged file): its counts go to
		 * the last interval, so that the sums stay whole. */
		prev->min_flt += row->min_flt;
		prev->maj_flt += row->maj_flt;
		prev->cpu_ns += row->cpu_ns;
		if (row->rss_kb > prev->rss_kb)
			prev->rss_kb = row->rss_kb;
		return 0;
	}
	/* An interval begins where the last ended (one that begins before
	 * is cut there), and lasts at least a nanosecond: a rate needs
	 * time. */
	if (prev && start < prev->end_ns)
		start = prev->end_ns;
	if (start == row->time_ns)
		start--;
	pt = util_grow(p->pts, p->n, &p->cap, sizeof(*pt), 64);
	if (!pt)
		return -ENOMEM;
	p->pts = pt;
	pt = &p->pts[p->n++];
	pt->start_ns = start;
	pt->end_ns = row->time_ns;
	pt->min_flt = row->min_flt;
	pt->maj_flt = row->maj_flt;
	pt->cpu_ns = row->cpu_ns;
	pt->rss_kb = row->rss_kb;
	return 0;
}

void perfetto_attach(struct perfetto *pf, struct report *r)
{
	memset(pf, 0, sizeof(*pf));
	r->on_count = on_count;
	r->on_count_arg = pf;
}

int perfetto_clock(struct perfetto *pf, uint64_t realtime_ns,
		   uint64_t monotonic_ns)
{
	pf->has_clock = 1;
	pf->realtime_ns = realtime_ns;
	pf->monotonic_ns = monotonic_ns;
	return 0;
}

void perfetto_free(struct perfetto *pf)
{
	for (size_t i = 0; i < pf->n; i++)
		free(pf->procs[i].pts);
	free(pf->procs);
	pidmap_free(&pf->pids);
	memset(pf, 0, sizeof(*pf));
}

/* ---------------------------------------------------------- the encoding */

/* A message being built; @err once out of memory (nothing more is added). */
struct pb {
	uint8_t *b;
	size_t n, cap;
	bool err;
};

static void pb_raw(struct pb *m, const void *data, size_t len)
{
	if (m->err)
		return;
	if (m->cap - m->n < len) {
		size_t cap = m->cap ? m->cap : 256;
		uint8_t *b;

		while (cap - m->n < len)
			cap *= 2;
		b = realloc(m->b, cap);
		if (!b) {
			m->err = true;
			return;
		}
		m->b = b;
		m->cap = cap;
	}
	memcpy(m->b + m->n, data, len);
	m->n += len;
}

static void pb_varint(struct pb *m, uint64_t v)
{
	uint8_t buf[10];
	size_t n = 0;

	do {
		buf[n] = v & 0x7f;
		v >>= 7;
		buf[n++] |= v ? 0x80 : 0;
	} while (v);
	pb_raw(m, buf, n);
}

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2 };

static void pb_key(struct pb *m, unsigned int field, unsigned int wire)
{
	pb_varint(m, (uint64_t)field << 3 | wire);
}

static void pb_uint(struct pb *m, unsigned int field, uint64_t v)
{
	pb_key(m, field, WIRE_VARINT);
	pb_varint(m, v);
}

/* A double is its IEEE 754 bits, little-endian. */
static void pb_double(struct pb *m, unsigned int field, double v)
{
	uint8_t buf[8];
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	for (int i = 0; i < 8; i++)
		buf[i] = bits >> (8 * i);
	pb_key(m, field, WIRE_I64);
	pb_raw(m, buf, sizeof(buf));
}

static void pb_bytes(struct pb *m, unsigned int field, const void *data,
		     size_t len)
{
	pb_key(m, field, WIRE_LEN);
	pb_varint(m, len);
	pb_raw(m, data, len);
}

/* @inner as field @field of @m; @inner is emptied for reuse. */
static void pb_message(struct pb *m, unsigned int field, struct pb *inner)
{
	if (inner->err)
		m->err = true;
	pb_bytes(m, field, inner->b, inner->n);
	inner->n = 0;
	inner->err = false;
}

/*
 * A string field from bytes that need not be UTF-8 (a command line): a
 * protobuf string must be, so a byte that is not part of valid UTF-8, and
 * each byte of a control character or of one that reorders bidirectional
 * text (util_utf8_shown()), becomes the four characters \xHH, and a
 * backslash two, as in the OpenMetrics labels.
 */
static void pb_text(struct pb *m, unsigned int field, const char *text,
		    struct pb *tmp)
{
	const unsigned char *s = (const unsigned char *)text;

	while (*s) {
		size_t n = util_utf8_shown(s);

		if (!n) {
			char esc[5];

			snprintf(esc, sizeof(esc), "\\x%02x", *s++);
			pb_raw(tmp, esc, 4);
		} else if (*s == '\\') {
			pb_raw(tmp, "\\\\", 2);
			s++;
		} else {
			pb_raw(tmp, s, n);
			s += n;
		}
	}
	pb_message(m, field, tmp);
}

/* The trace's stream, and the messages a packet is built from, nested in
 * this order, and a string's. */
struct pf_out {
	FILE *f;
	struct pb packet, msg, sub, text;
	bool err;
};

/* @o->packet, with the sequence id, as the next packet of the trace. */
static void put_packet(struct pf_out *o)
{
	struct pb frame = { 0 };

	pb_uint(&o->packet, PACKET_SEQUENCE_ID, PF_SEQUENCE);
	pb_message(&frame, TRACE_PACKET, &o->packet);
	if (frame.err)
		o->err = true;
	else if (!o->err)
		fwrite(frame.b, 1, frame.n, o->f);
	free(frame.b);
}

/* The trace's time is CLOCK_MONOTONIC, the samples' own; the clock line
 * ties CLOCK_REALTIME to it. */
static void put_clocks(struct pf_out *o, const struct perfetto *pf,
		       uint64_t first_ns)
{
	pb_uint(&o->sub, CLOCK_ID, CLOCK_MONOTONIC);
	pb_uint(&o->sub, CLOCK_TIMESTAMP, pf->has_clock ? pf->monotonic_ns :
				 first_ns);
	pb_message(&o->msg, CLOCK_SNAPSHOT_CLOCKS, &o->sub);
	if (pf->has_clock) {
		pb_uint(&o->sub, CLOCK_ID, CLOCK_REALTIME);
		pb_uint(&o->sub, CLOCK_TIMESTAMP, pf->realtime_ns);
		pb_message(&o->msg, CLOCK_SNAPSHOT_CLOCKS, &o->sub);
	}
	pb_uint(&o->msg, CLOCK_SNAPSHOT_PRIMARY, CLOCK_MONOTONIC);
	pb_message(&o->packet, PACKET_CLOCK_SNAPSHOT, &o->msg);
	pb_uint(&o->packet, PACKET_SEQUENCE_FLAGS,
		SEQ_INCREMENTAL_STATE_CLEARED);
	put_packet(o);
}

/* The track of process @i, under @parent (0: at the top), and its
 * counters in their order. */
static void put_tracks(struct pf_out *o, const struct report *r,
		       const struct pf_proc *p, size_t i, uint64_t parent)
{
	uint64_t uuid = (uint64_t)(i + 1) * PF_UUIDS;
	const char *command = r->groups.g[i].name;
	char name[DATAFILE_COMMAND_MAX + 16];

	pb_uint(&o->msg, TRACK_UUID, uuid);
	if (!p->pid)
		snprintf(name, sizeof(name), "all processes");
	else
		snprintf(name, sizeof(name), "%s %" PRIu32,
			 command ? command : "?", p->pid);
	pb_text(&o->msg, TRACK_NAME, name, &o->text);
	if (parent) {
		pb_uint(&o->msg, TRACK_PARENT_UUID, parent);
		/* after its parent's counters, in the order of the file */
		pb_uint(&o->msg, TRACK_SIBLING_ORDER_RANK, PF_COUNTERS + i);
	}
	pb_uint(&o->msg, TRACK_CHILD_ORDERING, ORDER_EXPLICIT);
	pb_message(&o->packet, PACKET_TRACK_DESCRIPTOR, &o->msg);
	put_packet(o);
	for (int c = 0; c < PF_COUNTERS; c++) {
		const struct pf_track *t = &tracks[c];

		pb_uint(&o->msg, TRACK_UUID, uuid + 1 + c);
		pb_text(&o->msg, TRACK_NAME, t->name, &o->text);
		pb_uint(&o->msg, TRACK_PARENT_UUID, uuid);
		pb_uint(&o->msg, TRACK_SIBLING_ORDER_RANK, c);
		if (t->unit)
			pb_uint(&o->sub, COUNTER_UNIT, t->unit);
		if (t->unit_name)
			pb_text(&o->sub, COUNTER_UNIT_NAME, t->unit_name,
				&o->text);
		pb_message(&o->msg, TRACK_COUNTER, &o->sub);
		pb_message(&o->packet, PACKET_TRACK_DESCRIPTOR, &o->msg);
		put_packet(o);
	}
}

/* A value of counter track @uuid from @ts_ns on. */
static void put_value(struct pf_out *o, uint64_t uuid, uint64_t ts_ns,
		      bool is_double, double d, uint64_t v)
{
	pb_uint(&o->packet, PACKET_TIMESTAMP, ts_ns);
	pb_uint(&o->packet, PACKET_TIMESTAMP_CLOCK_ID, CLOCK_MONOTONIC);
	pb_uint(&o->msg, EVENT_TYPE, TYPE_COUNTER);
	pb_uint(&o->msg, EVENT_TRACK_UUID, uuid);
	if (is_double)
		pb_double(&o->msg, EVENT_DOUBLE_COUNTER_VALUE, d);
	else
		pb_uint(&o->msg, EVENT_COUNTER_VALUE, v);
	pb_message(&o->packet, PACKET_TRACK_EVENT, &o->msg);
	put_packet(o);
}

/*
 * Counter @c of a process: each sample's value (a rate or utilisation over
 * its interval, the resident size at its end) from the start of its
 * interval, and 0 from the end of the last interval before a gap and from
 * the end of the last, where the process's samples end.  So a value holds
 * over exactly the interval it was measured in, and a rate's integral over
 * the track is the count.
 */
static void put_counter(struct pf_out *o, const struct pf_proc *p,
			uint64_t uuid, enum pf_counter c)
{
	uint64_t end = 0;	/* of the last interval with a value */
	bool open = false;	/* a value holds from before @end */

	for (size_t k = 0; k < p->n; k++) {
		const struct pf_point *pt = &p->pts[k];
		uint64_t start = pt->start_ns;	/* >= end: on_count() */
		double ns;

		if (open && start > end)
			put_value(o, uuid, end, c != PF_RSS, 0, 0);
		ns = (double)(pt->end_ns - start);
		switch (c) {
		case PF_MIN:
			put_value(o, uuid, start, true, pt->min_flt * 1e9 / ns, 0);
			break;
		case PF_MAJ:
			put_value(o, uuid, start, true, pt->maj_flt * 1e9 / ns, 0);
			break;
		case PF_CPU:
			put_value(o, uuid, start, true, pt->cpu_ns / ns, 0);
			break;
		default:
			/* an int64, in bytes */
			put_value(o, uuid, start, false, 0,
				  pt->rss_kb > INT64_MAX / 1024 ? INT64_MAX :
				  pt->rss_kb * 1024);
			break;
		}
		end = pt->end_ns;
		open = true;
	}
	if (open)
		put_value(o, uuid, end, c != PF_RSS, 0, 0);
}

/*
 * The system's pressure stall (PSI), from the file's pressure lines in the
 * window: a track holding a counter per kind, the share of the time
 * stalled (%) between two lines, from the first of them; 0 from the last.
 * Its uuids follow the processes'.
 */
static void put_pressure(struct pf_out *o, const struct report *r,
			 uint64_t uuid)
{
	int n = 0;

	for (size_t i = 0; i < r->npsi; i++)
		n += report_pressure_in_window(r, &r->psi[i]);
	if (n < 2)
		return;
	pb_uint(&o->msg, TRACK_UUID, uuid);
	pb_text(&o->msg, TRACK_NAME, "pressure stall (PSI, the whole system)",
		&o->text);
	pb_uint(&o->msg, TRACK_CHILD_ORDERING, ORDER_EXPLICIT);
	pb_message(&o->packet, PACKET_TRACK_DESCRIPTOR, &o->msg);
	put_packet(o);
	for (int k = 0; k < PSI_KINDS; k++) {
		const struct pressure *prev = NULL;
		char name[64];
		int lines = 0;

		for (size_t i = 0; i < r->npsi; i++)
			lines += !!(r->psi[i].have & 1u << k) &&
				 report_pressure_in_window(r, &r->psi[i]);
		if (lines < 2)
			continue;	/* not recorded (the cgroup's) */
		snprintf(name, sizeof(name), "%s stall", pressure_name(k));
		pb_uint(&o->msg, TRACK_UUID, uuid + 1 + k);
		pb_text(&o->msg, TRACK_NAME, name, &o->text);
		pb_uint(&o->msg, TRACK_PARENT_UUID, uuid);
		pb_uint(&o->msg, TRACK_SIBLING_ORDER_RANK, k);
		pb_text(&o->sub, COUNTER_UNIT_NAME, "%", &o->text);
		pb_message(&o->msg, TRACK_COUNTER, &o->sub);
		pb_message(&o->packet, PACKET_TRACK_DESCRIPTOR, &o->msg);
		put_packet(o);
		for (size_t i = 0; i < r->npsi; i++) {
			const struct pressure *p = &r->psi[i];

			if (!(p->have & 1u << k) ||
			    !report_pressure_in_window(r, p))
				continue;
			if (prev)
				put_value(o, uuid + 1 + k, prev->time_ns, true,
					  pressure_pct(prev, p, k), 0);
			prev = p;
		}
		if (prev)
			put_value(o, uuid + 1 + k, prev->time_ns, true, 0, 0);
	}
}

int perfetto_print(const struct perfetto *pf, const struct report *r,
		   FILE *f)
{
	struct pf_out o = { .f = f };
	uint64_t first_ns = UINT64_MAX;

	for (size_t i = 0; i < pf->n; i++)
		if (pf->procs[i].n && pf->procs[i].pts[0].start_ns < first_ns)
			first_ns = pf->procs[i].pts[0].start_ns;
	errno = 0;
	put_clocks(&o, pf, first_ns == UINT64_MAX ? 0 : first_ns);
	for (size_t i = 0; i < pf->n; i++) {
		const struct pf_proc *p = &pf->procs[i];
		uint64_t parent = 0;
		size_t j;

		if (!p->n)
			continue;
		/* Under its parent's track if the parent has samples and
		 * came first (as the sampler lists them): never a cycle. */
		if (p->ppid && pidmap_get(&pf->pids, p->ppid, &j) && j < i &&
		    pf->procs[j].n)
			parent = (uint64_t)(j + 1) * PF_UUIDS;
		put_tracks(&o, r, p, i, parent);
	}
	for (size_t i = 0; i < pf->n; i++)
		for (int c = 0; c < PF_COUNTERS; c++)
			put_counter(&o, &pf->procs[i],
				    (uint64_t)(i + 1) * PF_UUIDS + 1 + c, c);
	put_pressure(&o, r, (uint64_t)(pf->n + 1) * PF_UUIDS);
	free(o.packet.b);
	free(o.msg.b);
	free(o.sub.b);
	free(o.text.b);
	if (o.err)
		return -ENOMEM;
	if (ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
