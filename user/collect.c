// SPDX-License-Identifier: GPL-2.0
/*
 * Processes keep exiting while the report is collected (a command's children
 * that outlive it by a few ms): one exits between the last ring-buffer read
 * and the slot scan, and it is in neither. So the collection goes in rounds:
 * read the ring buffer, read the tree, scan the slots, read the ring buffer
 * again (a process seen live whose exit record arrives now counts as exited),
 * read the tree again; it is done when nothing moved (same peaks, same
 * process count) and every process is accounted for:
 *
 *   procs_total = exit records + live rows + exit records that did not fit
 *
 * A process whose exit is half done (its last threads still exiting, its
 * record not yet sent) makes a round unbalanced; the next one sees it.
 */
#include <string.h>
#include <time.h>

#include "collect.h"

/* The first rounds follow each other at once, the rest 1 ms apart, for 1 s at most. */
#define QUICK_ROUNDS 10
#define MAX_NS 1000000000ULL

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int same_instant(const struct mt_tree *a, const struct mt_tree *b)
{
	return a->procs_total == b->procs_total && a->gen[MT_PEAK_RSS] == b->gen[MT_PEAK_RSS] &&
	       a->gen[MT_PEAK_TOTAL] == b->gen[MT_PEAK_TOTAL];
}

int collect_rows(struct tracer *t, struct mt_tree *tree)
{
	struct timespec pause = { 0, 1000000 };
	uint64_t give_up = mono_ns() + MAX_NS;
	struct mt_tree before;
	int64_t missing = 0;
	int round;

	tracer_refresh_tasks(t);
	for (round = 1;; round++) {
		tracer_consume(t);
		if (tracer_read_tree(t, &before))
			break;
		tracer_stage_live_procs(t);
		tracer_consume(t);
		if (tracer_read_tree(t, tree))
			break;
		missing = records_unaccounted(t->rec, tree);
		if ((missing == 0 && same_instant(&before, tree)) || mono_ns() > give_up)
			break;
		if (round >= QUICK_ROUNDS)
			nanosleep(&pause, NULL);
	}
	/* Never silent: too few rows and too many are both counted. */
	t->rec->rows_lost = (uint64_t)(missing < 0 ? -missing : missing);
	records_commit_staged(t->rec);
	tracer_collect_live_tasks(t);
	return round;
}
