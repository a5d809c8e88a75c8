/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An output file that is either complete or absent: written under a
 * temporary name in the same directory and renamed at the end, or removed
 * when the run never happened. "-" is standard output, never renamed or
 * closed. Anything but a regular file (/dev/null, a FIFO, a symbolic link) is
 * written where it is and never renamed over or removed.
 */
#ifndef MT_OUTFILE_H
#define MT_OUTFILE_H

#include <stdio.h>
#include <sys/types.h>

enum outfile_mode {
	OUTFILE_REPLACE, /* temporary name until outfile_commit() renames it over path */
	OUTFILE_LIVE,    /* path itself, truncated, so tail -f follows it; removed on abort */
	OUTFILE_APPEND,  /* path, appended to; cut back to its old size (or removed) on abort */
};

struct outfile {
	FILE *f;
	char *path;  /* the name it has at the end; NULL for standard output */
	char *tmp;   /* OUTFILE_REPLACE: where it is written until the commit */
	enum outfile_mode mode;
	int created; /* the file did not exist before */
	int in_place; /* not a regular file: written as it is, never replaced or removed */
	off_t old_size;
};

/* Opens path (or stdout for "-"). Prints one line and returns -1 on failure. */
int outfile_open(struct outfile *o, const char *path, enum outfile_mode mode);
/* True for standard output. */
int outfile_is_stdout(const struct outfile *o);
/* Flushes, syncs and gives the file its name; closes it. Prints one line and returns -1 on failure. */
int outfile_commit(struct outfile *o);
/* Leaves no trace of a file that was not completed; closes it. */
void outfile_abort(struct outfile *o);

#endif
