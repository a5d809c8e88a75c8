// SPDX-License-Identifier: GPL-2.0
/* --limit's arguments, and ending the rest of a tree that crossed it. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format.h"
#include "options.h"
#include "tracer.h"
#include "units.h"
#include "limit.h"

int limit_parse(const char *arg, uint64_t *bytes, int *kind)
{
	const char *comma = strchr(arg, ',');
	char size[64];
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);

	if (n == 0 || n >= sizeof(size))
		return -1;
	memcpy(size, arg, n);
	size[n] = '\0';
	/* Sizes as every option takes them (units.c); a limit of nothing is none. */
	if (parse_size(size, bytes) || *bytes == 0)
		return -1;
	if (!comma || strcmp(comma + 1, "rss") == 0)
		*kind = MT_LIMIT_RSS;
	else if (strcmp(comma + 1, "total") == 0)
		*kind = MT_LIMIT_TOTAL;
	else
		return -1;
	return 0;
}

int signal_parse(const char *arg)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = {
		{ "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "ILL", SIGILL },
		{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS },   { "FPE", SIGFPE },
		{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
		{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "STOP", SIGSTOP },
		{ "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "SYS", SIGSYS },
	};
	const char *name = arg;
	unsigned long v;
	char *end;
	size_t i;

	if (!arg || !*arg)
		return -1;
	if (isdigit((unsigned char)*arg)) {
		errno = 0;
		v = strtoul(arg, &end, 10);
		return errno || *end || v < 1 || v > (unsigned long)SIGRTMAX ? -1 : (int)v;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0)
			return names[i].sig;
	return -1;
}

const char *limit_kind_name(int kind)
{
	return kind == MT_LIMIT_TOTAL ? "total" : "rss";
}

/* Whether memtrace runs in the initial PID namespace: one number in NSpid. */
static int in_initial_pidns(void)
{
	char line[256];
	int one = 1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "NSpid:", 6) == 0)
			one = !strchr(line + 6 + strspn(line + 6, " \t"), '\t');
	fclose(f);
	return one;
}

struct ender {
	int initial_ns;
	int killed;
};

static void kill_one(void *ctx, const struct mt_proc *p)
{
	struct ender *e = ctx;
	pid_t pid = (pid_t)p->ns_tgid;

	/* tgid is the initial namespace's number: usable only there. */
	if (!pid && e->initial_ns)
		pid = (pid_t)p->tgid;
	if (pid > 0 && kill(pid, SIGKILL) == 0)
		e->killed++;
}

int limit_end_tree(struct tracer *t)
{
	static int initial_ns = -1;
	struct ender e;

	if (initial_ns < 0)
		initial_ns = in_initial_pidns();
	e.initial_ns = initial_ns;
	e.killed = 0;
	tracer_for_each_proc(t, kill_one, &e);
	return e.killed;
}

int limit_check_attach(struct tracer *t, const struct settings *set)
{
	struct mt_tree tree;
	char have[32], want[32];
	int64_t used;

	if (tracer_read_tree(t, &tree)) {
		fprintf(stderr, "memtrace: cannot read the tree's memory to check --limit\n");
		return -1;
	}
	used = mem_rss_bytes(&tree.cur, t->si.page_size);
	if (set->limit_kind == MT_LIMIT_TOTAL)
		used += mem_kernel_bytes(&tree.cur, t->thread_bytes);
	if (used > (int64_t)set->limit_bytes) {
		fprintf(stderr, "memtrace: cannot attach with --limit %s,%s: the processes already hold %s\n",
			format_bytes(want, sizeof(want), (int64_t)set->limit_bytes),
			limit_kind_name(set->limit_kind), format_bytes(have, sizeof(have), used));
		return -1;
	}
	tracer_arm_limit(t);
	return 0;
}
