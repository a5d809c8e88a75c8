// SPDX-License-Identifier: GPL-2.0
/* The report's lines and JSON members for --limit and --cgroup. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "limit.h"
#include "report.h"

#define LABEL "  %-30s "

static const char *comm_of(const struct summary *s, uint32_t tgid)
{
	size_t i;

	for (i = 0; i < s->rec->nprocs; i++)
		if (s->rec->procs[i].p.tgid == tgid)
			return s->rec->procs[i].p.comm;
	return "?";
}

static void limit_text(FILE *f, const struct summary *s)
{
	const struct mt_tree *t = &s->tree;
	const struct mt_mem *m = &t->limit_mem;
	int64_t ps = (int64_t)s->si->page_size;
	char lim[32], over[32], ms[32], a[32], b[32], c[32], k[32];

	format_bytes(lim, sizeof(lim), (int64_t)s->limit_bytes);
	if (!t->limit_ns) {
		fprintf(f, LABEL "%s (%s), not exceeded\n", "Limit:", lim,
			limit_kind_name(s->limit_kind));
		return;
	}
	fprintf(f, LABEL "%s (%s) exceeded at %s ms by pid %u (%.16s), by %s\n", "Limit:", lim,
		limit_kind_name(s->limit_kind),
		format_ms(ms, sizeof(ms), summary_since_start(s, t->limit_ns)), t->limit_tgid,
		comm_of(s, t->limit_tgid), format_bytes(over, sizeof(over), t->limit_over_bytes));
	fprintf(f, LABEL "tree then: RSS %s (anon %s, file %s, shmem %s), kernel %s\n", "",
		format_bytes(a, sizeof(a), mem_rss_bytes(m, s->si->page_size)),
		format_bytes(b, sizeof(b), m->pages[MT_ANON] * ps),
		format_bytes(c, sizeof(c), m->pages[MT_FILE] * ps),
		format_bytes(over, sizeof(over), m->pages[MT_SHMEM] * ps),
		format_bytes(k, sizeof(k), mem_kernel_bytes(m, s->thread_bytes)));
	fprintf(f, LABEL "signal %d (%s) sent by the kernel %" PRIu64 " time(s); %d more process(es) killed by memtrace\n",
		"", s->limit_signal, strsignal(s->limit_signal), (uint64_t)t->limit_signals,
		s->limit_ended);
}

static void cgroup_text(FILE *f, const struct summary *s)
{
	const struct memcg_peak *cg = &s->cg;
	int64_t rss = s->tree.peak_bytes[MT_PEAK_RSS];
	char label[40], a[32], b[32], k[32];

	snprintf(label, sizeof(label), "Charged peak (cgroup v%d):", cg->version);
	fprintf(f, LABEL "%s (%" PRId64 " bytes)\n", label,
		format_bytes(a, sizeof(a), cg->peak_bytes), cg->peak_bytes);
	if (cg->kmem_peak_bytes >= 0)
		fprintf(f, LABEL "kernel memory peak %s\n", "",
			format_bytes(k, sizeof(k), cg->kmem_peak_bytes));
	else if (cg->kernel_bytes >= 0)
		fprintf(f, LABEL "kernel memory at the end %s\n", "",
			format_bytes(k, sizeof(k), cg->kernel_bytes));
	fprintf(f, LABEL "RSS sum %s, charged %s: %s\n", "", format_bytes(b, sizeof(b), rss), a,
		rss > cg->peak_bytes
			? "pages shared between processes (fork, libraries) count once in the charged figure"
			: "the charged figure adds page cache and kernel memory, each page once");
}

void report_limits_text(FILE *f, const struct summary *s)
{
	if (s->waited && s->command)
		fprintf(f, LABEL "%s\n", "Followed:", "until the tree's last process ended (--wait)");
	if (s->limit_bytes)
		limit_text(f, s);
	if (s->cg.version)
		cgroup_text(f, s);
}

void report_limits_json(struct json *j, const struct summary *s)
{
	const struct mt_tree *t = &s->tree;

	if (!s->limit_bytes) {
		json_null(j, "limit");
	} else {
		json_begin_object(j, "limit");
		json_uint(j, "bytes", s->limit_bytes);
		json_string(j, "kind", limit_kind_name(s->limit_kind));
		json_int(j, "signal", s->limit_signal);
		json_int(j, "exceeded", !!t->limit_ns);
		if (t->limit_ns) {
			json_double(j, "t_ms", (double)summary_since_start(s, t->limit_ns) / 1e6);
			json_uint(j, "pid", t->limit_tgid);
			json_string(j, "comm", comm_of(s, t->limit_tgid));
			json_int(j, "over_bytes", t->limit_over_bytes);
			report_json_mem(j, "at_crossing", &t->limit_mem, s);
			json_uint(j, "kernel_signals", t->limit_signals);
			json_int(j, "killed_by_memtrace", s->limit_ended);
		}
		json_end_object(j);
	}
	if (!s->cg.version) {
		json_null(j, "cgroup");
	} else {
		json_begin_object(j, "cgroup");
		json_int(j, "version", s->cg.version);
		json_int(j, "peak_bytes", s->cg.peak_bytes);
		if (s->cg.kmem_peak_bytes >= 0)
			json_int(j, "kmem_peak_bytes", s->cg.kmem_peak_bytes);
		else
			json_null(j, "kmem_peak_bytes");
		if (s->cg.kernel_bytes >= 0)
			json_int(j, "kernel_bytes", s->cg.kernel_bytes);
		else
			json_null(j, "kernel_bytes");
		json_end_object(j);
	}
	json_int(j, "waited", s->waited);
}
