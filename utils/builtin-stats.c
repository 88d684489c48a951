// SPDX-License-Identifier: GPL-2.0-or-later
/* vmprof stats */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "builtin.h"
#include "util.h"
#include "vmprof.h"

const char stats_usage[] =
"Usage: vmprof stats [--backend B]\n"
"\n"
"Show /proc/vmprof/stats: ticks run, records written, registered processes,\n"
"the period, ticks skipped because the sampler ran late (overruns), and\n"
"the sampler's own cost: last, longest and mean time of a tick, and the\n"
"mean cost of sampling one process once; and for process trees (R <pid> +),\n"
"the processes whose children are followed, those registered at fork, and\n"
"the forks not followed: at max_pids (refused) or in a burst faster than\n"
"the module's pool refills (dropped).  The first two lines name the backend\n"
"and its variant (module; bpf-syscall or bpf-rawtp).\n"
"\n"
"The BPF sampler runs inside vmprof run and vmprof-monitor, for as long as\n"
"they run, and their summaries show its cost: with it, this command shows\n"
"its own sampler, which has nothing to sample.\n"
"\n"
"Options:\n"
"      --backend B  auto (default: VMPROF_BACKEND if set, else the module if\n"
"                   loaded, else bpf), module or bpf\n"
"\n"
"Examples:\n"
"  vmprof stats\n"
"  watch -n1 vmprof stats\n";

int cmd_stats(int argc, char **argv)
{
	enum vmprof_backend backend;
	struct vmprof_session *s;
	struct vmprof_stats st;
	char variant[32];
	unsigned int caps;
	int err, rc;

	rc = builtin_parse_opts(argc, argv, stats_usage, &backend, NULL);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return util_usage_error("stats takes no arguments");
	rc = util_session_open(&s, 0, backend);
	if (rc)
		return rc;
	backend = vmprof_session_backend(s);
	caps = vmprof_session_caps(s);
	snprintf(variant, sizeof(variant), "%s", vmprof_session_variant(s));
	err = vmprof_stats_read(s, &st);
	vmprof_session_close(s);
	if (err)
		return util_fail_errno(err, "cannot read the sampler's statistics");
	printf("backend           %s\n", util_backend_name(backend));
	printf("variant           %s\n", variant);
	printf("period            %" PRIu64 " ms\n", st.period_ms);
	printf("registered        %" PRIu64 " (at most %" PRIu64 ")\n",
	       st.registered, st.max_pids);
	printf("ticks             %" PRIu64 " (%" PRIu64 " skipped: overruns)\n",
	       st.ticks, st.overruns);
	printf("records           %" PRIu64 " (ring of %" PRIu64 ")\n",
	       st.records, st.capacity);
	printf("tick cost         last %.1f us, max %.1f us, mean %.1f us\n",
	       (double)st.cost_last_ns / 1e3, (double)st.cost_max_ns / 1e3,
	       st.ticks ? (double)st.cost_total_ns / (double)st.ticks / 1e3 : 0.0);
	printf("per process       %.2f us per sample (%" PRIu64 " samples)\n",
	       (double)st.cost_per_sample_ns / 1e3, st.samples);
	if (!(caps & VMPROF_SAMPLER_SHARED))
		printf("note              the BPF sampler runs inside vmprof run and vmprof-monitor, whose summaries show its cost; these figures are this command's own sampler's, which had nothing to sample\n");
	else if (st.fork_hook)
		printf("process trees     %" PRIu64 " followed, %" PRIu64
		       " registered at fork, %" PRIu64 " refused, %" PRIu64
		       " dropped\n", st.inheriting, st.inherited,
		       st.inherit_refused, st.inherit_dropped);
	else
		printf("process trees     unavailable (no sched_process_fork tracepoint)\n");
	return util_close_stdout();
}
