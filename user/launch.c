// SPDX-License-Identifier: GPL-2.0
/* Starting the command so that no event of it is missed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exitcodes.h"
#include "launch.h"

static void child_main(char **argv, int go_rd, int err_wr, pid_t parent, const sigset_t *mask)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD };
	char go;
	int err;
	size_t i;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(MT_EXIT_FAILURE);
	/* Nothing runs until the parent has attached BPF and registered us. */
	if (read(go_rd, &go, 1) != 1)
		_exit(MT_EXIT_FAILURE);
	close(go_rd);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(argv[0], argv);
	err = errno;
	if (write(err_wr, &err, sizeof(err)) < 0) {
		/* nothing left to tell anyone */
	}
	_exit(err == ENOENT ? MT_EXIT_NOTFOUND : MT_EXIT_NOEXEC);
}

int launch_prepare(struct child *c, char **argv, const sigset_t *child_mask)
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
		child_main(argv, go[0], err[1], parent, child_mask);
	}
	close(go[0]);
	close(err[1]);
	c->go_fd = go[1];
	c->err_fd = err[0];
	return 0;
}

int launch_release(struct child *c)
{
	char go = 1;
	int exec_errno = 0;
	ssize_t n;

	if (write(c->go_fd, &go, 1) != 1)
		return errno ? errno : EIO;
	close(c->go_fd);
	c->go_fd = -1;
	do {
		n = read(c->err_fd, &exec_errno, sizeof(exec_errno));
	} while (n < 0 && errno == EINTR);
	close(c->err_fd);
	c->err_fd = -1;
	return n == (ssize_t)sizeof(exec_errno) ? exec_errno : 0;
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
