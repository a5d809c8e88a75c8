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
	if (outfile_open(&ts->file, path, OUTFILE_LIVE))
		return -1;
	fputs(HEADER, ts->file.f);
	fflush(ts->file.f);
	return 0;
}

int ts_begin_run(struct timeseries *ts, int run, uint64_t start_ns, uint64_t page_size,
		 uint64_t thread_bytes)
{
	int i;

	ts->run = run;
	ts->start_ns = start_ns;
	ts->page_size = page_size;
	ts->thread_bytes = thread_bytes;
	ts->last_us_valid = 0;
	for (i = 0; i < MT_NR_PEAKS; i++) {
		ts->written_ns[i] = 0;
		ts->mark_at[i] = -1;
	}
	/* A peak row's mark is taken back later: that needs a file one can seek in. */
	ts->rows = ts->file.f;
	if (outfile_is_stdout(&ts->file) || ts->file.in_place ||
	    lseek(fileno(ts->file.f), 0, SEEK_CUR) < 0)
		ts->rows = tmpfile();
	if (!ts->rows) {
		fprintf(stderr, "memtrace: cannot write the time series: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* faults < 0: not known at that instant (a peak between two samples). */
static void row(struct timeseries *ts, uint64_t t_us, const struct mt_mem *m, int64_t procs,
		int64_t faults, int rss_peak, int total_peak)
{
	uint64_t ps = ts->page_size;
	int64_t rss = mem_rss_bytes(m, ps), kern = mem_kernel_bytes(m, ts->thread_bytes);

	fprintf(ts->rows, "%d,%llu.%03llu,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,",
		ts->run, (unsigned long long)(t_us / 1000), (unsigned long long)(t_us % 1000),
		(long long)rss, (long long)(m->pages[MT_ANON] * (int64_t)ps),
		(long long)(m->pages[MT_FILE] * (int64_t)ps),
		(long long)(m->pages[MT_SHMEM] * (int64_t)ps),
		(long long)(m->pages[MT_SWAP] * (int64_t)ps), (long long)kern,
		(long long)m->pgtables_bytes, (long long)m->kstack_bytes, (long long)(rss + kern),
		(long long)procs, (long long)m->threads);
	if (faults >= 0)
		fprintf(ts->rows, "%lld", (long long)faults);
	fprintf(ts->rows, ",%d,%d\n", rss_peak, total_peak);
	ts->last_us = t_us;
	ts->last_us_valid = 1;
}

/* Times are printed in whole microseconds, and compared as printed. */
static uint64_t to_us(uint64_t ns)
{
	return (ns + 500) / 1000;
}

/* The row that showed peak k is no longer the peak: its mark goes to 0, in place. */
static void unmark(struct timeseries *ts, int k)
{
	char zero = '0';

	if (ts->mark_at[k] < 0)
		return;
	fflush(ts->rows);
	if (pwrite(fileno(ts->rows), &zero, 1, ts->mark_at[k]) != 1) {
		/* the file is failing: ts_close() reports its error */
	}
	ts->mark_at[k] = -1;
}

/*
 * Rows for the peaks reached since they were last written and no later than
 * limit_us, in time order. Returns 1 when one of them is at limit_us itself
 * (the sample at that instant would say the same: it is left out).
 */
static int write_new_peaks(struct timeseries *ts, const struct mt_tree *t, uint64_t limit_us)
{
	uint64_t at[MT_NR_PEAKS];
	int k, order[MT_NR_PEAKS], n = 0, i, at_limit = 0;

	for (k = 0; k < MT_NR_PEAKS; k++) {
		if (t->peak_bytes[k] <= 0 || t->peak_ns[k] == ts->written_ns[k])
			continue;
		at[k] = to_us(t->peak_ns[k] > ts->start_ns ? t->peak_ns[k] - ts->start_ns : 0);
		/* After this sample's instant: the next sample (or the end) writes it. */
		if (at[k] > limit_us)
			continue;
		/* At the very microsecond of a row already written: its time cannot repeat. */
		if (ts->last_us_valid && at[k] <= ts->last_us)
			continue;
		order[n++] = k;
	}
	if (n == 2 && at[order[1]] < at[order[0]]) {
		k = order[0];
		order[0] = order[1];
		order[1] = k;
	}
	for (i = 0; i < n; i++) {
		int kinds = 1 << order[i], j;
		long end;

		/* Both peaks in one microsecond: one row, with both marks. */
		if (i + 1 < n && at[order[i + 1]] == at[order[i]])
			kinds |= 1 << order[++i];
		k = order[i];
		for (j = 0; j < MT_NR_PEAKS; j++)
			if (kinds & (1 << j))
				unmark(ts, j);
		row(ts, at[k], &t->peak_mem[k], t->peak_procs[k], -1, kinds & 1, (kinds >> 1) & 1);
		end = ftell(ts->rows);
		for (j = 0; j < MT_NR_PEAKS; j++) {
			if (!(kinds & (1 << j)))
				continue;
			/* The row ends "A,B\n": A marks the RSS peak, B the total peak. */
			ts->mark_at[j] = end - (j == MT_PEAK_RSS ? 4 : 2);
			ts->written_ns[j] = t->peak_ns[j];
		}
		if (at[k] == limit_us)
			at_limit = 1;
	}
	return at_limit;
}

void ts_sample(struct timeseries *ts, uint64_t t_ns, const struct mt_tree *t, uint64_t faults)
{
	uint64_t t_us = to_us(t_ns);

	if (!ts->rows)
		return;
	if (!write_new_peaks(ts, t, t_us) && !(ts->last_us_valid && t_us <= ts->last_us))
		row(ts, t_us, &t->cur, t->procs_live, (int64_t)faults, 0, 0);
	fflush(ts->rows);
}

/* A pipe gets the run whole, once its marks are final. */
static void copy_run(struct timeseries *ts)
{
	char buf[65536];
	size_t n;

	rewind(ts->rows);
	while ((n = fread(buf, 1, sizeof(buf), ts->rows)) > 0)
		fwrite(buf, 1, n, ts->file.f);
	fclose(ts->rows);
	fflush(ts->file.f);
}

int ts_end_run(struct timeseries *ts, uint64_t end_ns, const struct mt_tree *t, uint64_t faults)
{
	if (!ts->rows)
		return -1;
	ts_sample(ts, end_ns - ts->start_ns, t, faults);
	/* A peak stamped after the last sample (its clock read came later): still in order. */
	write_new_peaks(ts, t, UINT64_MAX);
	if (ts->rows != ts->file.f)
		copy_run(ts);
	ts->rows = NULL;
	fflush(ts->file.f);
	return ferror(ts->file.f) ? -1 : 0;
}

int ts_close(struct timeseries *ts, int complete)
{
	int rc = 0;

	if (ts->rows && ts->rows != ts->file.f)
		fclose(ts->rows);
	ts->rows = NULL;
	if (complete)
		rc = outfile_commit(&ts->file);
	else
		outfile_abort(&ts->file);
	memset(ts, 0, sizeof(*ts));
	return rc;
}
