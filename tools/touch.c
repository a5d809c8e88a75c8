// SPDX-License-Identifier: GPL-2.0
/* A page-fault storm for the overhead benchmark: touch MIB MiB page by page. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	size_t n = (argc > 1 ? strtoul(argv[1], NULL, 10) : 2048) * 1024UL * 1024UL;
	size_t i;
	char *p;

	if (n == 0) {
		fprintf(stderr, "usage: touch MIB\n");
		return 2;
	}
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* No huge pages: one fault per 4 KiB page is the point. */
	madvise(p, n, MADV_NOHUGEPAGE);
	for (i = 0; i < n; i += 4096)
		p[i] = 1;
	return 0;
}
