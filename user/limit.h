/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --limit: its arguments, and what user space does once the kernel side has
 * seen the tree cross it (the kernel signals the task that crossed it; the
 * rest of the tree is ended here).
 */
#ifndef MT_LIMIT_H
#define MT_LIMIT_H

#include <stdint.h>

struct tracer;
struct mt_tree;
struct settings;

/* Status memtrace exits with when the tree exceeded --limit, as an OOM kill looks. */
#define MT_EXIT_LIMIT 137

/* "SIZE", "SIZE,rss" or "SIZE,total". Returns 0, or -1. */
int limit_parse(const char *arg, uint64_t *bytes, int *kind);
/* "KILL", "SIGKILL", "kill" or "9". Returns the signal, or -1. */
int signal_parse(const char *arg);
/* "rss" or "total". */
const char *limit_kind_name(int kind);

/*
 * Attached processes may already hold more than the limit: then one line
 * and -1 (nothing is signalled). Else the kernel side is armed, and 0.
 */
int limit_check_attach(struct tracer *t, const struct settings *set);
/*
 * Once the tree has crossed the limit: SIGKILL to every process of it still
 * alive. Returns the number of processes signalled.
 */
int limit_end_tree(struct tracer *t);

#endif
