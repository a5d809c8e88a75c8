/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --format: the report as one line of the user's own, as time -f gives it:
 * %R peak RSS (bytes), %M peak RSS (KiB, as time's %M), %T peak total, %K peak
 * kernel memory, %e wall seconds, %U user and %S system CPU seconds, %x exit
 * status, %P processes, %H threads, %F page faults, %L events lost, %C the
 * command; %% is %, \n a new line, \t a tab, \\ a backslash.
 */
#ifndef MT_REPORT_FORMAT_H
#define MT_REPORT_FORMAT_H

#include <stdio.h>

#include "summary.h"

/* 0 when fmt is valid; otherwise -1 and one line naming what is not. */
int report_format_check(const char *fmt);
/* fmt filled in from s, and a new line. */
void report_format(FILE *f, const char *fmt, const struct summary *s);

#endif
