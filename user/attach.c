// SPDX-License-Identifier: GPL-2.0
/* What -p accepts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"

/* Reads "Name:\tvalue" from /proc/PID/status; returns 0 when found. */
static int status_field(pid_t pid, const char *name, char *out, size_t len)
{
	char path[64], line[256];
	size_t nl = strlen(name);
	int found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			char *v = line + nl + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, len, "%s", v);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static int is_ancestor_of_self(pid_t pid)
{
	pid_t p = getpid();
	char v[32];
	int depth;

	for (depth = 0; depth < 4096 && p > 1; depth++) {
		if (p == pid)
			return 1;
		if (status_field(p, "PPid", v, sizeof(v)))
			return 0;
		p = (pid_t)atoi(v);
	}
	return p == pid;
}

int attach_check_pids(const pid_t *pids, int n)
{
	char v[64];
	int i, err;

	for (i = 0; i < n; i++) {
		err = status_field(pids[i], "Tgid", v, sizeof(v));
		if (err == -ENOENT || err == -ESRCH) {
			fprintf(stderr, "memtrace: cannot attach to %d: no such process\n", pids[i]);
			return -1;
		}
		if (err) {
			fprintf(stderr, "memtrace: cannot attach to %d: cannot read /proc/%d/status\n",
				pids[i], pids[i]);
			return -1;
		}
		if (atoi(v) != pids[i]) {
			fprintf(stderr, "memtrace: cannot attach to %d: it is a thread of process %s; give the process id\n",
				pids[i], v);
			return -1;
		}
		if (status_field(pids[i], "State", v, sizeof(v)) == 0 && (v[0] == 'Z' || v[0] == 'X')) {
			fprintf(stderr, "memtrace: cannot attach to %d: it has already exited\n", pids[i]);
			return -1;
		}
		if ((status_field(pids[i], "Kthread", v, sizeof(v)) == 0 && strcmp(v, "1") == 0) ||
		    status_field(pids[i], "VmSize", v, sizeof(v)) != 0) {
			fprintf(stderr, "memtrace: cannot attach to %d: it is a kernel thread, which has no user memory\n",
				pids[i]);
			return -1;
		}
		if (pids[i] == getpid()) {
			fprintf(stderr, "memtrace: cannot attach to %d: that is memtrace itself\n", pids[i]);
			return -1;
		}
		if (is_ancestor_of_self(pids[i])) {
			fprintf(stderr, "memtrace: cannot attach to %d: it is an ancestor of memtrace, which would measure itself\n",
				pids[i]);
			return -1;
		}
	}
	return 0;
}
