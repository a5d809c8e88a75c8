/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command never outlives memtrace: the parent-death signal kills it when
 * memtrace dies, but the kernel clears that signal whenever the command
 * changes its own credentials (a set-user-ID or set-group-ID program, a file
 * with capabilities, setuid()). So a guard process holds a pidfd of the
 * command and the read end of a pipe whose write end only memtrace holds:
 * when memtrace ends, by any path SIGKILL included, the pipe closes and the
 * guard kills the command through the pidfd, which names that process only,
 * never a later one that got its pid.
 */
#ifndef MT_GUARD_H
#define MT_GUARD_H

#include <sys/types.h>

struct guard {
	pid_t pid;  /* the guard process, or -1 */
	int wr;     /* memtrace's end of the pipe, or -1 */
};

/* Starts a guard for process command. Returns 0, or -1 with errno. */
int guard_start(struct guard *g, pid_t command);
/* Ends the guard; it kills the command if that still runs. */
void guard_stop(struct guard *g);

#endif
