// SPDX-License-Identifier: GPL-2.0
/* What -p accepts. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"

/* Reads "Name:\tvalue" from a status file; returns 0 when found. */
static int field_of(const char *path, const char *name, char *out, size_t len)
{
	char line[256];
	size_t nl = strlen(name);
	int found = -1;
	FILE *f;

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

/* From /proc/PID/status. */
static int status_field(pid_t pid, const char *name, char *out, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return field_of(path, name, out, len);
}

static int state_is_gone(const char *state)
{
	return state[0] == 'Z' || state[0] == 'X';
}

/*
 * A thread of process pid that still runs (its state neither zombie nor
 * dead), the leader first; 0 when every thread has exited. A leader that
 * exits before its other threads stays a zombie while they run on.
 */
static pid_t live_thread_of(pid_t pid)
{
	char path[96], state[64];
	struct dirent *d;
	pid_t tid = 0;
	DIR *dir;

	if (status_field(pid, "State", state, sizeof(state)) == 0 && !state_is_gone(state))
		return pid;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while (!tid && (d = readdir(dir))) {
		pid_t t = (pid_t)atoi(d->d_name);

		if (t <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, t);
		if (field_of(path, "State", state, sizeof(state)) == 0 && !state_is_gone(state))
			tid = t;
	}
	closedir(dir);
	return tid;
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
	char v[64], path[96];
	int i, err;
	pid_t live;

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
		live = live_thread_of(pids[i]);
		if (!live) {
			fprintf(stderr, "memtrace: cannot attach to %d: it has already exited\n", pids[i]);
			return -1;
		}
		/* Through a live thread: a zombie leader's status has no memory lines. */
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pids[i], live);
		if ((field_of(path, "Kthread", v, sizeof(v)) == 0 && strcmp(v, "1") == 0) ||
		    field_of(path, "VmSize", v, sizeof(v)) != 0) {
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
