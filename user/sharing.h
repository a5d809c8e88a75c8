/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pages the tree's processes share. RSS counts a shared page once in every
 * process that maps it (forked workers: a 100 MiB parent with 4 idle children
 * sums to 500 MiB); PSS splits each page among its sharers, so the PSS sum
 * counts it once. Both are read from /proc/PID/smaps_rollup of the live
 * processes, at most once a second and at the report, whenever two or more
 * are alive; the sample with the largest RSS sum is kept.
 */
#ifndef MT_SHARING_H
#define MT_SHARING_H

#include <stdint.h>
#include <sys/types.h>

/* The report warns when RSS sum - PSS sum is above both. */
#define SHARING_WARN_FRACTION 0.25            /* of the RSS sum */
#define SHARING_WARN_MIN_BYTES (32ULL << 20)  /* small runs share libc and little else */
#define SHARING_EVERY_NS 1000000000ULL
#define SHARING_MAX_PROCS 1024                /* read per sample, to bound its cost */

struct sharing {
	uint64_t rss_bytes;  /* sums over the processes read, at the kept sample */
	uint64_t pss_bytes;
	uint64_t t_ns;       /* when it was taken (CLOCK_MONOTONIC) */
	int procs;           /* processes read then */
	uint64_t next_ns;    /* when the next sample is due */
};

/* Reads the live processes' Rss and Pss; keeps the sample if its RSS sum is the largest. */
void sharing_sample(struct sharing *sh, const pid_t *pids, int n, uint64_t now);
/* Is the RSS sum more than the stated fraction (and size) above the PSS sum? */
int sharing_warn(const struct sharing *sh);
/* Rss and Pss of one process in bytes from smaps_rollup text; -1 if either is missing. */
int sharing_parse_rollup(const char *text, uint64_t *rss, uint64_t *pss);

#endif
