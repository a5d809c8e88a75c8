/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MT_LAUNCH_H
#define MT_LAUNCH_H

#include <signal.h>
#include <sys/types.h>

/* A command forked but held before exec until tracing is attached. */
struct child {
	pid_t pid;
	int go_fd;  /* parent writes one byte: exec now */
	int err_fd; /* child writes its exec errno; EOF means exec succeeded */
};

/*
 * Forks the child. It waits on a pipe, dies with memtrace (PR_SET_PDEATHSIG),
 * and gets child_mask as its signal mask and default dispositions back before
 * exec. Returns 0, or -1 with errno.
 */
int launch_prepare(struct child *c, char **argv, const sigset_t *child_mask);
/* Lets the child exec. Returns 0 once it has, or the exec's errno. */
int launch_release(struct child *c);
/* Kills and reaps a child that must not run untraced. */
void launch_abort(struct child *c);

#endif
