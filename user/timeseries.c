// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "records.h"
#include "timeseries.h"

#define HEADER "run,t_ms,rss_bytes,anon_bytes,file_bytes,shmem_bytes,swap_bytes,kernel_bytes," \
	       "pgtables_bytes,kstack_bytes,total_bytes,processes,threads,page_faults," \
	       "is_rss_peak,is_total_peak\n"

int ts_open(struct timeseries *ts, const char *path)
{
	memset(ts, 0, sizeof(*ts));
	ts->path = path;
	ts->out = fopen(path, "we"); /* "e": the command must not inherit it */
	if (!ts->out) {
		fprintf(stderr, "memtrace: cannot write '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (asprintf(&ts->part_path, "%s.part", path) < 0) {
		ts->part_path = NULL;
		fprintf(stderr, "memtrace: cannot write '%s': out of memory\n", path);
		return -1;
	}
	fputs(HEADER, ts->out);
	fflush(ts->out);
	return 0;
}

int ts_begin_run(struct timeseries *ts, int run, uint64_t page_size, uint64_t thread_bytes)
{
	ts->run = run;
	ts->page_size = page_size;
	ts->thread_bytes = thread_bytes;
	ts->last_us_valid = 0;
	ts->part = fopen(ts->part_path, "w+e");
	if (!ts->part) {
		fprintf(stderr, "memtrace: cannot write '%s': %s\n", ts->part_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* faults < 0: not known at that instant (a peak between two samples). */
static void row(FILE *f, int run, uint64_t t_us, const struct mt_mem *m, int64_t procs,
		int64_t faults, int rss_peak, int total_peak, uint64_t ps, uint64_t tb)
{
	int64_t rss = mem_rss_bytes(m, ps), kern = mem_kernel_bytes(m, tb);

	fprintf(f, "%d,%llu.%03llu,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,", run, (unsigned long long)(t_us / 1000),
		(unsigned long long)(t_us % 1000), (long long)rss, (long long)(m->pages[MT_ANON] * (int64_t)ps),
		(long long)(m->pages[MT_FILE] * (int64_t)ps),
		(long long)(m->pages[MT_SHMEM] * (int64_t)ps),
		(long long)(m->pages[MT_SWAP] * (int64_t)ps), (long long)kern,
		(long long)m->pgtables_bytes, (long long)m->kstack_bytes, (long long)(rss + kern),
		(long long)procs, (long long)m->threads);
	if (faults >= 0)
		fprintf(f, "%lld", (long long)faults);
	fprintf(f, ",%d,%d\n", rss_peak, total_peak);
}

/* Times are printed in whole microseconds, and compared as printed. */
static uint64_t to_us(uint64_t ns)
{
	return (ns + 500) / 1000;
}

void ts_sample(struct timeseries *ts, uint64_t t_ns, const struct mt_tree *t, uint64_t faults)
{
	uint64_t t_us = to_us(t_ns);

	/* Rows stay strictly increasing in time even if two samples share a microsecond. */
	if (!ts->part || (ts->last_us_valid && t_us <= ts->last_us))
		return;
	ts->last_us = t_us;
	ts->last_us_valid = 1;
	row(ts->part, ts->run, t_us, &t->cur, t->procs_live, (int64_t)faults, 0, 0, ts->page_size,
	    ts->thread_bytes);
}

struct peak_row {
	uint64_t t_us;
	int kinds; /* bit 0: RSS peak, bit 1: total peak */
	int k;     /* which peak's values to print */
};

int ts_end_run(struct timeseries *ts, uint64_t end_ns, const struct mt_tree *t, uint64_t faults,
	       uint64_t start_ns)
{
	struct peak_row peaks[2];
	int npeaks = 0, i, next = 0;
	char line[512];

	if (!ts->part)
		return -1;
	ts_sample(ts, end_ns - start_ns, t, faults);
	for (i = 0; i < MT_NR_PEAKS; i++) {
		uint64_t tm = to_us(t->peak_ns[i] > start_ns ? t->peak_ns[i] - start_ns : 0);

		if (t->peak_bytes[i] <= 0)
			continue;
		if (npeaks && peaks[0].t_us == tm) {
			peaks[0].kinds |= 1 << i;
			continue;
		}
		peaks[npeaks].t_us = tm;
		peaks[npeaks].kinds = 1 << i;
		peaks[npeaks].k = i;
		npeaks++;
	}
	if (npeaks == 2 && peaks[1].t_us < peaks[0].t_us) {
		struct peak_row tmp = peaks[0];

		peaks[0] = peaks[1];
		peaks[1] = tmp;
	}

	rewind(ts->part);
	while (fgets(line, sizeof(line), ts->part)) {
		uint64_t t_us = (uint64_t)(strtod(strchr(line, ',') + 1, NULL) * 1000 + 0.5);

		while (next < npeaks && peaks[next].t_us <= t_us) {
			const struct peak_row *p = &peaks[next++];

			row(ts->out, ts->run, p->t_us, &t->peak_mem[p->k], t->peak_procs[p->k], -1,
			    p->kinds & 1, (p->kinds >> 1) & 1, ts->page_size, ts->thread_bytes);
			/* A sample at the very same instant says the same: keep the peak's row. */
			if (p->t_us == t_us)
				goto skip;
		}
		fputs(line, ts->out);
skip:;
	}
	while (next < npeaks) {
		const struct peak_row *p = &peaks[next++];

		row(ts->out, ts->run, p->t_us, &t->peak_mem[p->k], t->peak_procs[p->k], -1,
		    p->kinds & 1, (p->kinds >> 1) & 1, ts->page_size, ts->thread_bytes);
	}
	fclose(ts->part);
	ts->part = NULL;
	unlink(ts->part_path);
	fflush(ts->out);
	return ferror(ts->out) ? -1 : 0;
}

void ts_close(struct timeseries *ts)
{
	if (ts->part) {
		fclose(ts->part);
		unlink(ts->part_path);
	}
	if (ts->out)
		fclose(ts->out);
	free(ts->part_path);
	memset(ts, 0, sizeof(*ts));
}
