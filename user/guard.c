// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

/* Closes every descriptor from first on but keep_a and keep_b. */
static void close_all_but(int first, int keep_a, int keep_b)
{
	int lo = keep_a < keep_b ? keep_a : keep_b, hi = keep_a < keep_b ? keep_b : keep_a;

	if (lo > first)
		syscall(SYS_close_range, first, lo - 1, 0);
	if (hi > lo + 1)
		syscall(SYS_close_range, lo + 1, hi - 1, 0);
	syscall(SYS_close_range, hi + 1, ~0U, 0);
}

static void guard_main(int rd, int pidfd)
{
	char buf;
	int null = open("/dev/null", O_RDWR);

	prctl(PR_SET_NAME, "memtrace-guard");
	/* It holds nothing of memtrace's: not its files, not the command's go pipe. */
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	close_all_but(3, rd, pidfd);
	for (;;) {
		ssize_t n = read(rd, &buf, 1);

		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	/* ESRCH when the command has already ended: nothing to do. */
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	_exit(0);
}

int guard_start(struct guard *g, pid_t command)
{
	int p[2], pidfd, e;

	g->pid = -1;
	g->wr = -1;
	pidfd = (int)syscall(SYS_pidfd_open, command, 0);
	if (pidfd < 0)
		return -1;
	if (pipe2(p, O_CLOEXEC)) {
		e = errno;
		close(pidfd);
		errno = e;
		return -1;
	}
	g->pid = fork();
	if (g->pid == 0) {
		close(p[1]);
		guard_main(p[0], pidfd);
	}
	e = errno;
	close(p[0]);
	close(pidfd);
	if (g->pid < 0) {
		close(p[1]);
		errno = e;
		return -1;
	}
	g->wr = p[1];
	return 0;
}

void guard_stop(struct guard *g)
{
	if (g->wr >= 0)
		close(g->wr);
	if (g->pid > 0)
		while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
			;
	g->pid = -1;
	g->wr = -1;
}
