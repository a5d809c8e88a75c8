/* SPDX-License-Identifier: GPL-2.0 */
/* --summary-csv: one row per run appended to a file, for tables across many runs. */
#ifndef MT_SUMMARY_CSV_H
#define MT_SUMMARY_CSV_H

#include <stdio.h>

#include "summary.h"

/* Writes the header into a file opened for appending, only if it is empty. */
void summary_csv_header(FILE *f);
void summary_csv_row(FILE *f, const struct summary *s);

#endif
