/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MT_ATTACH_H
#define MT_ATTACH_H

#include <sys/types.h>

/*
 * Checks that every pid names a user-space process memtrace may follow: it
 * exists and one of its threads still runs (its leader may have exited: a
 * zombie leader with live threads is accepted), it is not a kernel thread, and is neither memtrace nor an ancestor of
 * it (memtrace would measure itself). Prints one line and returns -1 if not.
 */
int attach_check_pids(const pid_t *pids, int n);

#endif
