/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MT_ATTACH_H
#define MT_ATTACH_H

#include <sys/types.h>

/*
 * Checks that every pid names a user-space process memtrace may follow: it
 * exists and one of its threads still runs (a zombie leader whose other
 * threads run is accepted), it is not a kernel thread, and it is neither
 * memtrace nor an ancestor of it (memtrace would measure itself). Prints one
 * line and returns -1 if not.
 */
int attach_check_pids(const pid_t *pids, int n);

#endif
