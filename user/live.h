/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What outputs that follow a run as it goes (--perfetto, --prom) are told at
 * each --interval: the tree, and its live processes when one asks for them.
 */
#ifndef MT_LIVE_H
#define MT_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "summary.h"

struct live_sample {
	const struct summary *sum;   /* the run so far: run, start_ns, command */
	uint64_t now_ns;             /* CLOCK_MONOTONIC, as start_ns */
	const struct mt_tree *tree;
	const struct mt_proc *procs; /* live processes (want_procs), else NULL */
	size_t nprocs;
};

struct live_hook {
	void (*fn)(void *ctx, const struct live_sample *ls); /* NULL: nobody listens */
	void *ctx;
	int want_procs;
};

#endif
