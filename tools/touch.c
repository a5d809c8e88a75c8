// SPDX-License-Identifier: GPL-2.0
/*
 * A page-fault storm for the overhead benchmark: touch MIB MiB page by page,
 * PASSES times (default 1). The first pass touches fresh memory; each later
 * one gives the pages back (MADV_DONTNEED) and touches them again, which gets
 * pages the hypervisor already backs and so measures the guest's fault path
 * with less of the host's noise. Prints each pass's seconds as pass_s=S.
 * With PASSES "-", makes one pass per line read on stdin, until EOF: the
 * benchmark changes what is attached to the tracepoint between passes.
 */
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t n = (argc > 1 ? strtoul(argv[1], NULL, 10) : 2048) * 1024UL * 1024UL;
	int stepped = argc > 2 && strcmp(argv[2], "-") == 0;
	long passes = stepped ? LONG_MAX : argc > 2 ? atol(argv[2]) : 1;
	char line[64];
	size_t i;
	double t0;
	char *p;
	long k;

	if (n == 0 || passes < 1) {
		fprintf(stderr, "usage: touch MIB [PASSES|-]\n");
		return 2;
	}
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* No huge pages: one fault per 4 KiB page is the point. */
	madvise(p, n, MADV_NOHUGEPAGE);
	for (k = 0; k < passes; k++) {
		if (stepped && !fgets(line, sizeof(line), stdin))
			break;
		if (k > 0)
			madvise(p, n, MADV_DONTNEED);
		t0 = now_s();
		for (i = 0; i < n; i += 4096)
			p[i] = 1;
		printf("pass_s=%.6f\n", now_s() - t0);
		fflush(stdout);
	}
	return 0;
}
