/*
 * c-timers: reference for the least memory a sleeping task can cost.
 *
 * One thread. Each task is a small heap-allocated struct holding its deadline
 * and what to do when it fires; the event loop keeps pointers to the pending
 * tasks in a binary min-heap ordered by deadline, sleeps with
 * clock_nanosleep(TIMER_ABSTIME) until the earliest deadline, then fires (and
 * frees) every task that is due. Exits 0 when no task is left.
 *
 * Cost per sleeping task: one malloc'd struct task (16 bytes, a 32-byte glibc
 * chunk) plus one 8-byte slot in the heap array.
 *
 * usage: c-timers N [SECONDS]   (SECONDS defaults to 10)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME "c-timers"
#define MAX_TASKS 1000000000UL
#define MAX_SECONDS 86400UL
#define NSEC_PER_SEC 1000000000ULL

struct task {
	uint64_t deadline;		/* CLOCK_MONOTONIC, nanoseconds */
	void (*fire)(struct task *);
};

/* Binary min-heap of pending tasks, keyed by deadline. */
struct timer_heap {
	struct task **slot;
	size_t len, cap;
};

static unsigned long tasks_done;

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

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", NAME, what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		die("clock_gettime");
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t deadline)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline / NSEC_PER_SEC),
		.tv_nsec = (long)(deadline % NSEC_PER_SEC),
	};
	int rc;

	while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
		;
	if (rc != 0) {
		errno = rc;
		die("clock_nanosleep");
	}
}

static void heap_push(struct timer_heap *h, struct task *t)
{
	size_t i;

	if (h->len == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct task **slot = realloc(h->slot, cap * sizeof *slot);

		if (!slot)
			die("growing the timer heap");
		h->slot = slot;
		h->cap = cap;
	}
	/* Sift up: move parents down until t's place is found. */
	for (i = h->len++; i > 0; ) {
		size_t parent = (i - 1) / 2;

		if (h->slot[parent]->deadline <= t->deadline)
			break;
		h->slot[i] = h->slot[parent];
		i = parent;
	}
	h->slot[i] = t;
}

static struct task *heap_pop(struct timer_heap *h)
{
	struct task *top = h->slot[0];
	struct task *last = h->slot[--h->len];
	size_t i = 0;

	/* Sift down: move the last task from the root to its place. */
	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->len)
			break;
		if (child + 1 < h->len &&
		    h->slot[child + 1]->deadline < h->slot[child]->deadline)
			child++;
		if (last->deadline <= h->slot[child]->deadline)
			break;
		h->slot[i] = h->slot[child];
		i = child;
	}
	if (h->len > 0)
		h->slot[i] = last;
	return top;
}

static void task_fired(struct task *t)
{
	tasks_done++;
	free(t);
}

int main(int argc, char **argv)
{
	struct timer_heap heap = { 0 };
	unsigned long n, secs = 10;
	uint64_t duration, now;

	if (argc < 2)
		usage_error("missing N", NULL);
	if (argc > 3)
		usage_error("too many arguments", NULL);
	n = parse_count(argv[1], MAX_TASKS,
			"N must be an integer from 0 to 1000000000");
	if (argc == 3)
		secs = parse_count(argv[2], MAX_SECONDS,
				   "SECONDS must be an integer from 0 to 86400");
	duration = (uint64_t)secs * NSEC_PER_SEC;

	/* Spawn: each task sleeps SECONDS from the moment it was created. */
	for (unsigned long i = 0; i < n; i++) {
		struct task *t = malloc(sizeof *t);

		if (!t)
			die("allocating a task");
		t->deadline = now_ns() + duration;
		t->fire = task_fired;
		heap_push(&heap, t);
	}

	/* Event loop: sleep until the earliest deadline, fire all due tasks. */
	now = now_ns();
	while (heap.len > 0) {
		if (heap.slot[0]->deadline > now) {
			sleep_until(heap.slot[0]->deadline);
			now = now_ns();
			continue;
		}
		struct task *t = heap_pop(&heap);
		t->fire(t);
	}
	free(heap.slot);

	if (tasks_done != n) {
		fprintf(stderr, "%s: %lu of %lu tasks fired\n", NAME, tasks_done, n);
		return 1;
	}
	return 0;
}
