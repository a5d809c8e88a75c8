// SPDX-License-Identifier: GPL-2.0
/* Starting the command so that no event of it is missed. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcodes.h"
#include "launch.h"

int run_as_lookup(const char *user, struct run_as *as)
{
	struct passwd *pw;
	char *end;
	unsigned long id;

	memset(as, 0, sizeof(*as));
	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		id = strtoul(user, &end, 10);
		if (*user && !*end)
			pw = getpwuid((uid_t)id);
	}
	if (!pw) {
		fprintf(stderr, "memtrace: unknown user '%s' for -u\n", user);
		return -1;
	}
	as->name = strdup(pw->pw_name);
	as->uid = pw->pw_uid;
	as->gid = pw->pw_gid;
	as->home = strdup(pw->pw_dir ? pw->pw_dir : "/");
	if (!as->name || !as->home) {
		fprintf(stderr, "memtrace: cannot look up user '%s': out of memory\n", user);
		return -1;
	}
	return 0;
}

static int env_id(const char *name, unsigned long *out)
{
	const char *v = getenv(name);
	char *end;

	if (!v || !*v)
		return -1;
	errno = 0;
	*out = strtoul(v, &end, 10);
	return errno || *end || *out > 0xfffffffeUL ? -2 : 0;
}

int run_as_sudo_user(struct run_as *as)
{
	unsigned long uid, gid;
	struct passwd *pw;
	int rc = env_id("SUDO_UID", &uid);

	if (rc == -1 || geteuid() != 0)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "memtrace: bad SUDO_UID '%s': give -u USER or --as-root\n", getenv("SUDO_UID"));
		return -1;
	}
	if (uid == 0)
		return 0;
	pw = getpwuid((uid_t)uid);
	if (pw)
		return run_as_lookup(pw->pw_name, as) ? -1 : 1;
	/* No password entry (a container's user): the ids sudo gives, no more. */
	if (env_id("SUDO_GID", &gid)) {
		fprintf(stderr, "memtrace: cannot run as the sudo user %lu: no SUDO_GID and no such user\n", uid);
		return -1;
	}
	as->uid = (uid_t)uid;
	as->gid = (gid_t)gid;
	as->name = getenv("SUDO_USER") ? strdup(getenv("SUDO_USER")) : NULL;
	as->home = strdup("/");
	as->no_entry = 1;
	return 1;
}

static void child_fail(int err_wr, enum launch_stage stage, int err)
{
	int msg[2] = { (int)stage, err };

	if (write(err_wr, msg, sizeof(msg)) < 0) {
		/* nothing left to tell anyone */
	}
	if (stage == LAUNCH_EXEC && err == ENOENT)
		_exit(MT_EXIT_NOTFOUND);
	_exit(stage == LAUNCH_EXEC ? MT_EXIT_NOEXEC : MT_EXIT_FAILURE);
}

/* Dies with memtrace, even if memtrace died already: then the parent is another. */
static void die_with(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(MT_EXIT_FAILURE);
}

static void become(const struct run_as *as, int err_wr, pid_t parent)
{
	int groups = as->no_entry ? setgroups(0, NULL) : initgroups(as->name, as->gid);

	if (groups || setgid(as->gid) || setuid(as->uid))
		child_fail(err_wr, LAUNCH_SET_USER, errno);
	/* A change of credentials clears the parent-death signal: arm it again. */
	die_with(parent);
	setenv("HOME", as->home, 1);
	if (as->name) {
		setenv("USER", as->name, 1);
		setenv("LOGNAME", as->name, 1);
	}
}

static void child_main(char **argv, int go_rd, int err_wr, pid_t parent, const sigset_t *mask,
		       const struct run_as *as)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD };
	char go;
	size_t i;

	die_with(parent);
	/* Nothing runs until the parent has attached BPF and registered us. */
	if (read(go_rd, &go, 1) != 1)
		_exit(MT_EXIT_FAILURE);
	close(go_rd);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (as)
		become(as, err_wr, parent);
	execvp(argv[0], argv);
	child_fail(err_wr, LAUNCH_EXEC, errno);
}

int launch_prepare(struct child *c, char **argv, const sigset_t *child_mask,
		   const struct run_as *as)
{
	int go[2], err[2];
	pid_t parent = getpid();

	if (pipe2(go, O_CLOEXEC))
		return -1;
	if (pipe2(err, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -1;
	}
	c->pid = fork();
	if (c->pid < 0) {
		int e = errno;

		close(go[0]);
		close(go[1]);
		close(err[0]);
		close(err[1]);
		errno = e;
		return -1;
	}
	if (c->pid == 0) {
		close(go[1]);
		close(err[0]);
		child_main(argv, go[0], err[1], parent, child_mask, as);
	}
	close(go[0]);
	close(err[1]);
	c->go_fd = go[1];
	c->err_fd = err[0];
	return 0;
}

int launch_release(struct child *c, enum launch_stage *stage)
{
	char go = 1;
	int msg[2] = { 0, 0 };
	ssize_t n;

	if (write(c->go_fd, &go, 1) != 1)
		return errno ? errno : EIO;
	close(c->go_fd);
	c->go_fd = -1;
	do {
		n = read(c->err_fd, msg, sizeof(msg));
	} while (n < 0 && errno == EINTR);
	close(c->err_fd);
	c->err_fd = -1;
	if (n != (ssize_t)sizeof(msg))
		return 0;
	*stage = (enum launch_stage)msg[0];
	return msg[1] ? msg[1] : EIO;
}

void launch_abort(struct child *c)
{
	if (c->pid <= 0)
		return;
	kill(c->pid, SIGKILL);
	while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (c->go_fd >= 0)
		close(c->go_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->pid = -1;
}
