/* SPDX-License-Identifier: GPL-2.0 */
/* --summary-csv: one row per run appended to a file, for tables across many runs. */
#ifndef MT_SUMMARY_CSV_H
#define MT_SUMMARY_CSV_H

#include <stdio.h>

#include "summary.h"

/* Opens path for appending; writes the header only if the file is empty. NULL on error (one line printed). */
FILE *summary_csv_open(const char *path);
void summary_csv_row(FILE *f, const struct summary *s);

#endif
