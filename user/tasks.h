/* SPDX-License-Identifier: GPL-2.0 */
/* The per-task table: one row per thread seen, processes with their memory. */
#ifndef MT_TASKS_H
#define MT_TASKS_H

#include <stdio.h>

#include "summary.h"

/* Orders the kept task rows by process, then start time, leaders first. */
void tasks_sort(struct records *r);
/* The table on screen: at most limit rows, and how many more there are. */
void tasks_print_text(FILE *f, const struct summary *s, size_t limit);
/* Every row as CSV, header included; run is the run's index (1-based). */
void tasks_write_csv(FILE *f, const struct summary *s, int run, int header);
/* The process row of a task's process, or NULL. */
const struct proc_row *tasks_find_proc(const struct summary *s, const struct mt_task *t);

#endif
