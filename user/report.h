/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MT_REPORT_H
#define MT_REPORT_H

#include <stdio.h>

#include "summary.h"

/* The text report; top processes (all of them when all is set). */
void report_text(FILE *f, const struct summary *s, int top, int all);
/* The same report as one JSON document (schema "memtrace-report/1"). */
void report_json(FILE *f, const struct summary *s);

#endif
