// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

/* A process's name, or "unknown" once it is gone. */
static void read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "unknown");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

char *cmdline_string(const struct settings *set)
{
	char *out = NULL, comm[64];
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	int i;

	if (!m)
		return NULL;
	if (set->command) {
		for (i = 0; i < set->command_argc; i++)
			fprintf(m, "%s%s", i ? " " : "", set->command[i]);
	} else {
		for (i = 0; i < set->npids; i++) {
			read_comm(set->pids[i], comm, sizeof(comm));
			fprintf(m, "%s%s", i ? "," : "", comm);
		}
	}
	if (fclose(m)) {
		free(out);
		return NULL;
	}
	return out;
}
