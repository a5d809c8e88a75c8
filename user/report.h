/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MT_REPORT_H
#define MT_REPORT_H

#include <stdio.h>

#include "json.h"
#include "summary.h"

/* The text report; top processes (all of them when all is set). */
void report_text(FILE *f, const struct summary *s, int top, int all);
/* One line: peak RSS, peak total, wall time, processes (the report's first). */
void report_headline(FILE *f, const struct summary *s);
/* The run so far, for SIGUSR1: two lines, the peaks until now and the tree's state now. */
void report_interim(FILE *f, const struct summary *s);
/* The same report as a JSON object (schema "memtrace-report/1"), as member key of j. */
void report_json_write(struct json *j, const char *key, const struct summary *s);

/* One memory object, as every report_json member writes it. */
void report_json_mem(struct json *j, const char *key, const struct mt_mem *m,
		     const struct summary *s);
/* --wait, --limit and --cgroup: their lines of the text report, their JSON members. */
void report_limits_text(FILE *f, const struct summary *s);
void report_limits_json(struct json *j, const struct summary *s);

#endif
