/*
 * c-pthreads: reference thread-per-task workload.
 *
 * Starts N POSIX threads with default attributes (so the default stack size,
 * taken from RLIMIT_STACK, usually 8 MiB of reserved address space per
 * thread), each sleeping SECONDS, then joins them all.
 *
 * usage: c-pthreads N [SECONDS]   (SECONDS defaults to 10)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME "c-pthreads"
#define MAX_TASKS 1000000000UL
#define MAX_SECONDS 86400UL

static void usage_error(const char *problem, const char *arg)
{
	if (arg)
		fprintf(stderr, "%s: %s, got '%s' (usage: %s N [SECONDS])\n",
			NAME, problem, arg, NAME);
	else
		fprintf(stderr, "%s: %s (usage: %s N [SECONDS])\n",
			NAME, problem, NAME);
	exit(2);
}

/* Digits only (no sign, no blanks), value at most max. */
static unsigned long parse_count(const char *s, unsigned long max,
				 const char *problem)
{
	unsigned long v = 0;

	if (*s == '\0')
		usage_error(problem, s);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			usage_error(problem, s);
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max)
			usage_error(problem, s);
	}
	return v;
}

static void *sleeper(void *arg)
{
	struct timespec left = *(const struct timespec *)arg;

	while (nanosleep(&left, &left) == -1 && errno == EINTR)
		;
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long n, secs = 10;
	static struct timespec duration;
	pthread_t *threads;

	if (argc < 2)
		usage_error("missing N", NULL);
	if (argc > 3)
		usage_error("too many arguments", NULL);
	n = parse_count(argv[1], MAX_TASKS,
			"N must be an integer from 0 to 1000000000");
	if (argc == 3)
		secs = parse_count(argv[2], MAX_SECONDS,
				   "SECONDS must be an integer from 0 to 86400");
	duration.tv_sec = (time_t)secs;

	threads = malloc((n ? n : 1) * sizeof *threads);
	if (!threads) {
		fprintf(stderr, "%s: out of memory for %lu thread ids\n", NAME, n);
		return 1;
	}
	for (unsigned long i = 0; i < n; i++) {
		int rc = pthread_create(&threads[i], NULL, sleeper, &duration);

		if (rc != 0) {
			fprintf(stderr, "%s: pthread_create failed after %lu threads: %s\n",
				NAME, i, strerror(rc));
			return 1;
		}
	}
	for (unsigned long i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	return 0;
}
