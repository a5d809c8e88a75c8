/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --prom: the run's results in the Prometheus text exposition format, for
 * node_exporter's textfile collector (and the same text for --push). The
 * file is written under a temporary name in its directory and renamed, so a
 * scrape never reads half of it; while a run goes on it is rewritten at each
 * --interval with the current values and the peaks so far.
 */
#ifndef MT_REPORT_PROM_H
#define MT_REPORT_PROM_H

#include <stdint.h>
#include <stdio.h>

#include "options.h"
#include "summary.h"

struct prom {
	const char *path;     /* NULL: no file, only the text (--push) */
	char *tmp_template;   /* "<dir>/.<name>.XXXXXX": not *.prom, so never collected */
	char *labels;         /* command="...",k="v": the same on every line */
	int reported;         /* a failed rewrite was said once */
};

/*
 * Prepares the label set, and checks that path's directory takes a new file.
 * Prints one line and returns -1 on failure.
 */
int prom_open(struct prom *pr, const struct settings *set, const char *cmdline);
/*
 * The metrics as text. final: the run has ended (exit status, end time);
 * else the tree as it is at now_ns, for a live rewrite.
 */
void prom_write_text(FILE *f, const struct prom *pr, const struct summary *s,
		     const struct mt_tree *t, uint64_t now_ns, int final);
/* Replaces the file with that text. Returns -1 after printing one line (once). */
int prom_write_file(struct prom *pr, const struct summary *s, const struct mt_tree *t,
		    uint64_t now_ns, int final);
void prom_close(struct prom *pr);

/* Writes v as a label value of the exposition format: escaped, valid UTF-8. */
void prom_write_label_value(FILE *f, const char *v);

#endif
