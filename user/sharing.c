// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sharing.h"

static int field_kib(const char *text, const char *name, uint64_t *bytes)
{
	size_t n = strlen(name);
	const char *p;

	for (p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, n) == 0 && p[n] == ':') {
			*bytes = strtoull(p + n + 1, NULL, 10) * 1024;
			return 0;
		}
	}
	return -1;
}

int sharing_parse_rollup(const char *text, uint64_t *rss, uint64_t *pss)
{
	return field_kib(text, "Rss", rss) || field_kib(text, "Pss", pss) ? -1 : 0;
}

static int read_rollup(pid_t pid, uint64_t *rss, uint64_t *pss)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1; /* gone since: it counts for neither sum */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return sharing_parse_rollup(buf, rss, pss);
}

void sharing_sample(struct sharing *sh, const pid_t *pids, int n, uint64_t now)
{
	uint64_t rss = 0, pss = 0, r, p;
	int i, nread = 0;

	sh->next_ns = now + SHARING_EVERY_NS;
	/*
	 * One process counts each of its pages once whatever it shares outside
	 * the tree; and reading smaps_rollup holds its mmap lock (20 ms for a JVM
	 * with 10,000 thread stacks), so it is left alone.
	 */
	if (n < 2)
		return;
	for (i = 0; i < n && i < SHARING_MAX_PROCS; i++) {
		if (read_rollup(pids[i], &r, &p))
			continue;
		rss += r;
		pss += p;
		nread++;
	}
	if (nread && rss > sh->rss_bytes) {
		sh->rss_bytes = rss;
		sh->pss_bytes = pss;
		sh->t_ns = now;
		sh->procs = nread;
	}
}

int sharing_warn(const struct sharing *sh)
{
	uint64_t over = sh->rss_bytes > sh->pss_bytes ? sh->rss_bytes - sh->pss_bytes : 0;

	return over > SHARING_WARN_MIN_BYTES && (double)over > SHARING_WARN_FRACTION * (double)sh->rss_bytes;
}
