/* SPDX-License-Identifier: GPL-2.0 */
/*
 * -c 'CMD A' -c 'CMD B': which command needs less memory? Each runs (through
 * sh -c) --warmup + --runs times, then a table of peak RSS, peak total and
 * wall time (median, min, max) and each command's peak total as a multiple
 * of the smallest, as hyperfine compares times.
 */
#ifndef MT_COMPARE_H
#define MT_COMPARE_H

#include "session.h"

/* Runs the comparison on a session set up as main() does. Returns memtrace's exit status. */
int compare_commands(struct session *ss);

#endif
