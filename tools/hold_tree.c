// SPDX-License-Identifier: GPL-2.0
/*
 * A large tree to attach to, for the scale benchmark (tools/scale.py):
 * PROCS processes (the root and PROCS-1 children) of THREADS threads each,
 * the main thread included, all idle. Prints "ready" once every task
 * exists, then holds them until its stdin closes; the children die with
 * the root (their parent-death signal). Stacks are 64 KiB: the point is
 * the number of tasks, not their memory.
 *
 * usage: hold_tree PROCS THREADS
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* Starts threads - 1 more threads in this process; 0 when all exist. */
static int start_threads(long threads)
{
	pthread_attr_t attr;
	pthread_t t;
	long i;

	if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, 64 * 1024))
		return -1;
	for (i = 1; i < threads; i++)
		if (pthread_create(&t, &attr, idle, NULL))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	long procs = argc > 2 ? atol(argv[1]) : 0;
	long threads = argc > 2 ? atol(argv[2]) : 0;
	int ready[2];
	pid_t root = getpid();
	char buf[64];
	long i;

	if (procs < 1 || threads < 1) {
		fprintf(stderr, "usage: hold_tree PROCS THREADS\n");
		return 64;
	}
	if (pipe(ready)) {
		perror("hold_tree: pipe");
		return 1;
	}
	for (i = 1; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("hold_tree: fork");
			return 1;
		}
		if (pid == 0) {
			close(ready[0]);
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != root)
				_exit(1);
			if (start_threads(threads) || write(ready[1], "", 1) != 1)
				_exit(1);
			/* Closed once written: a child that dies first ends the root's wait with EOF. */
			close(ready[1]);
			for (;;)
				pause();
		}
	}
	close(ready[1]);
	if (start_threads(threads)) {
		perror("hold_tree: pthread_create");
		return 1;
	}
	/* Each child writes one byte once its threads exist; EOF early means one failed. */
	for (i = 1; i < procs; i++) {
		if (read(ready[0], buf, 1) != 1) {
			fprintf(stderr, "hold_tree: a child could not start its threads\n");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	return 0;
}
