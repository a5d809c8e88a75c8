/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MT_LAUNCH_H
#define MT_LAUNCH_H

#include <signal.h>
#include <sys/types.h>

/* Who the command runs as (-u). */
struct run_as {
	const char *name;
	uid_t uid;
	gid_t gid;
	const char *home;
	int no_entry;        /* not in the password database: no supplementary groups */
};

/* Resolves a user name or numeric uid. Prints one line and returns -1 if unknown. */
int run_as_lookup(const char *user, struct run_as *as);
/*
 * Under sudo (SUDO_UID set, memtrace root), the user who typed the command:
 * their uid, gid, groups and HOME from the password database (SUDO_GID and
 * SUDO_USER when it has no entry). Returns 1 when *as was filled, 0 when not
 * under sudo (or sudo from root), -1 after one line on bad SUDO_ values.
 */
int run_as_sudo_user(struct run_as *as);

/* Why the child did not get to run the command. */
enum launch_stage {
	LAUNCH_EXEC = 0,     /* execvp() failed */
	LAUNCH_SET_USER = 1, /* dropping to the -u user failed */
};

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
int launch_prepare(struct child *c, char **argv, const sigset_t *child_mask,
		   const struct run_as *as);
/*
 * Lets the child exec. Returns 0 once it has, or the errno that stopped it,
 * with the step that failed in *stage.
 */
int launch_release(struct child *c, enum launch_stage *stage);
/* Kills and reaps a child that must not run untraced. */
void launch_abort(struct child *c);

#endif
