/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The status line on a terminal, as dd, pv and cargo keep one: on stderr,
 * redrawn in place a few times a second while the command runs, erased at
 * the end. Never written when stderr is not a terminal.
 */
#ifndef MT_STATUS_LINE_H
#define MT_STATUS_LINE_H

#include <stddef.h>
#include <stdint.h>

#include "memtrace.h"

#define STATUS_LINE_EVERY_NS 250000000ULL

struct status_line {
	int fd;           /* stderr, or -1 when off */
	int shown;        /* something is on the line now */
	uint64_t next_ns; /* when it is due again */
};

/* On when wanted and fd is a terminal. */
void status_line_init(struct status_line *sl, int fd, int wanted);
/* Due at now (CLOCK_MONOTONIC ns)? */
int status_line_due(const struct status_line *sl, uint64_t now);
/*
 * "memtrace 12.4 s  rss 1.92 GiB  kernel 41 MiB  peak 2.10 GiB  3 procs  41 threads",
 * cut to the terminal's width. Returns the line (without the terminal codes).
 */
const char *status_line_show(struct status_line *sl, uint64_t now, uint64_t elapsed_ns,
			     const struct mt_tree *t, uint64_t page_size, uint64_t thread_bytes);
/* Leaves the line empty, the cursor at its start. */
void status_line_erase(struct status_line *sl);
/* Formats the line into buf (len bytes, at most cols - 1 characters): the pure part. */
char *status_line_format(char *buf, size_t len, int cols, uint64_t elapsed_ns,
			 const struct mt_tree *t, uint64_t page_size, uint64_t thread_bytes);

#endif
