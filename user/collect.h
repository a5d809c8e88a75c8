/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The end of a run: every process the tree ever had becomes exactly one row,
 * live or exited, or is counted as dropped, even while processes exit during
 * the collection.
 */
#ifndef MT_COLLECT_H
#define MT_COLLECT_H

#include "tracer.h"

/*
 * Reads the ring buffer and the slots in rounds until the rows balance the
 * tree's process count; fills *tree with the tree as it was while the rows
 * were read. What still does not balance after the last round is counted in
 * rec->rows_lost (rounds stop after 1 s). Returns the rounds it took.
 */
int collect_rows(struct tracer *t, struct mt_tree *tree);

#endif
