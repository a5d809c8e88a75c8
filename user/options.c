// SPDX-License-Identifier: GPL-2.0
/* The command line: argp for the options, everything after "--" is the command. */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "options.h"

const char *argp_program_version = "memtrace " MEMTRACE_VERSION;
const char *argp_program_bug_address = NULL;

static const char doc[] =
	"Measure how much memory a program and every process and thread it starts\n"
	"really use, exactly, from the kernel (eBPF).\n"
	"\n"
	"USAGE: memtrace [OPTIONS] -- COMMAND [ARGS...]\n"
	"       memtrace [OPTIONS] -p PID[,PID...]\n"
	"\n"
	"EXAMPLES:\n"
	"    memtrace -- ./workload 10000         # report to stderr when it exits\n"
	"    memtrace -o report.txt -- make -j2   # report to a file\n"
	"    memtrace --json run.json -- python3 x.py\n"
	"    memtrace -p 4242                     # a running process and its children\n"
	"\n"
	"EXIT STATUS: the command's own, or 128 + the signal that killed it; 64 bad\n"
	"usage, 122 events lost with --strict, 125 memtrace failed, 126 command not\n"
	"executable, 127 command not found."
	"\vNeeds root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.";

enum {
	OPT_JSON = 0x100,
	OPT_TOP,
	OPT_STRICT,
	OPT_MAX_TASKS,
	OPT_MAX_PROCS,
	OPT_RINGBUF,
	OPT_DURATION,
	OPT_TASKS,
	OPT_TASKS_CSV,
	OPT_CSV,
	OPT_INTERVAL,
	OPT_SUMMARY_CSV,
	OPT_RUNS,
	OPT_WARMUP,
	OPT_CHECK_KERNEL,
};

static const struct argp_option options[] = {
	{ "output", 'o', "FILE", 0, "Write the report to FILE instead of stderr", 0 },
	{ "pid", 'p', "PID[,PID...]", 0, "Attach to running processes and their descendants", 0 },
	{ "json", OPT_JSON, "FILE", 0, "Also write the report as JSON to FILE", 0 },
	{ "csv", OPT_CSV, "FILE", 0, "Write the tree's memory over time to FILE (one row per interval, the peak marked)", 0 },
	{ "interval", OPT_INTERVAL, "MS", 0, "Time-series interval in ms (default 100, minimum 1)", 0 },
	{ "summary-csv", OPT_SUMMARY_CSV, "FILE", 0, "Append one row per run to FILE (header once)", 0 },
	{ "tasks", OPT_TASKS, NULL, 0, "Show the per-task table (one row per thread)", 0 },
	{ "tasks-csv", OPT_TASKS_CSV, "FILE", 0, "Write the complete per-task table to FILE", 0 },
	{ "runs", OPT_RUNS, "N", 0, "Run the command N times; report statistics (default 1)", 0 },
	{ "warmup", OPT_WARMUP, "N", 0, "Run the command N times first, unmeasured (default 0)", 0 },
	{ "top", OPT_TOP, "N", 0, "Show the N processes with the largest peak (default 10)", 0 },
	{ "verbose", 'v', NULL, 0, "Show every process; twice: libbpf's log too", 0 },
	{ "strict", OPT_STRICT, NULL, 0, "Exit with status 122 when any event was lost", 0 },
	{ "max-tasks", OPT_MAX_TASKS, "N", 0, "Live threads the kernel side can follow (default 1048576)", 0 },
	{ "max-procs", OPT_MAX_PROCS, "N", 0, "Live processes the kernel side can follow (default 32768)", 0 },
	{ "user", 'u', "USER", 0, "Run the command as USER (uid, gid, groups, HOME)", 0 },
	{ "duration", OPT_DURATION, "SECONDS", 0, "Stop after SECONDS: detach (-p), or send SIGTERM to the command", 0 },
	{ "ringbuf-size", OPT_RINGBUF, "BYTES", 0, "Ring buffer for exit records, a power of two >= 4096 (default 8 MiB, 64 MiB with --tasks)", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{ "check-kernel", OPT_CHECK_KERNEL, NULL, 0, "Say whether memtrace can run on this kernel (exit 0) or not (125), and exit", -1 },
	{ "version", 'V', NULL, 0, "Show the version", -1 },
	{ 0 },
};

void settings_init(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->top = 10;
	s->max_tasks = 1048576;
	s->max_procs = 32768;
	s->ringbuf_bytes = 0; /* chosen in check_settings() */
	s->interval_ms = 100;
	s->runs = 1;
}

/* One-line errors: argp writes its own to a memory stream that main() trims. */
static int bad(struct argp_state *state, const char *fmt, const char *arg)
{
	fprintf(state->err_stream, "memtrace: ");
	fprintf(state->err_stream, fmt, arg);
	fprintf(state->err_stream, "\n");
	return EINVAL;
}

static int parse_ulong(const char *arg, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long long v;
	char *end;

	if (!arg || !*arg || *arg == '-' || *arg == '+')
		return -1;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_pids(struct argp_state *state, struct settings *s, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long v;

		if (parse_ulong(tok, 1, INT_MAX, &v)) {
			err = bad(state, "bad process id '%s' for -p: want positive numbers separated by commas", tok);
			break;
		}
		if (s->npids == MT_MAX_PIDS) {
			err = bad(state, "too many process ids for -p (at most %s)", "64");
			break;
		}
		s->pids[s->npids++] = (pid_t)v;
	}
	if (!err && s->npids == 0)
		err = bad(state, "bad process id '%s' for -p: want positive numbers separated by commas", arg);
	free(copy);
	return err;
}

struct parse_input {
	struct settings *s;
	FILE *errs;
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct parse_input *in = state->input;
	struct settings *s = in->s;
	unsigned long v;

	switch (key) {
	case ARGP_KEY_INIT:
		state->err_stream = in->errs;
		break;
	case 'o':
		s->output = arg;
		break;
	case 'p':
		return parse_pids(state, s, arg);
	case OPT_JSON:
		s->json = arg;
		break;
	case OPT_TOP:
		if (parse_ulong(arg, 1, INT_MAX, &v))
			return bad(state, "bad number '%s' for --top: want a positive integer", arg);
		s->top = (int)v;
		break;
	case 'v':
		s->verbose++;
		break;
	case OPT_STRICT:
		s->strict = true;
		break;
	case OPT_MAX_TASKS:
		if (parse_ulong(arg, 16, 1UL << 26, &v))
			return bad(state, "bad number '%s' for --max-tasks: want 16 to 67108864", arg);
		s->max_tasks = v;
		break;
	case OPT_MAX_PROCS:
		if (parse_ulong(arg, 16, 1UL << 22, &v))
			return bad(state, "bad number '%s' for --max-procs: want 16 to 4194304", arg);
		s->max_procs = v;
		break;
	case OPT_RINGBUF:
		if (parse_ulong(arg, 4096, 1UL << 30, &v) || (v & (v - 1)))
			return bad(state, "bad size '%s' for --ringbuf-size: want a power of two from 4096", arg);
		s->ringbuf_bytes = v;
		break;
	case 'h':
		/* argp_state_help() is silent under ARGP_NO_ERRS. */
		argp_help(state->root_argp, state->out_stream, ARGP_HELP_STD_HELP & ~ARGP_HELP_EXIT_OK,
			  "memtrace");
		s->exit_now = true;
		break;
	case 'V':
		fprintf(state->out_stream, "%s\n", argp_program_version);
		s->exit_now = true;
		break;
	case OPT_CHECK_KERNEL:
		s->check_kernel = true;
		s->exit_now = true;
		break;
	case OPT_CSV:
		s->csv = arg;
		break;
	case OPT_INTERVAL:
		if (parse_ulong(arg, 1, 3600000, &v))
			return bad(state, "bad interval '%s' for --interval: want 1 to 3600000 ms", arg);
		s->interval_ms = (unsigned)v;
		break;
	case OPT_SUMMARY_CSV:
		s->summary_csv = arg;
		break;
	case OPT_TASKS:
		s->tasks = true;
		break;
	case OPT_TASKS_CSV:
		s->tasks_csv = arg;
		break;
	case OPT_RUNS:
		if (parse_ulong(arg, 1, 100000, &v))
			return bad(state, "bad number '%s' for --runs: want 1 to 100000", arg);
		s->runs = (int)v;
		break;
	case OPT_WARMUP:
		if (parse_ulong(arg, 0, 100000, &v))
			return bad(state, "bad number '%s' for --warmup: want 0 to 100000", arg);
		s->warmup = (int)v;
		break;
	case 'u':
		if (!*arg)
			return bad(state, "empty user name for -u%s", "");
		s->user = arg;
		break;
	case OPT_DURATION: {
		char *end;
		double d;

		errno = 0;
		d = strtod(arg, &end);
		if (errno || end == arg || *end || !(d > 0) || d > 1e7)
			return bad(state, "bad duration '%s' for --duration: want seconds > 0", arg);
		s->duration_s = d;
		break;
	}
	case ARGP_KEY_ARG:
		return bad(state, "put '--' before the command: memtrace [OPTIONS] -- %s ...", arg);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = { options, parse_opt, NULL, doc, NULL, NULL, NULL };

/* Combinations argp cannot see: the command comes after "--". */
static int check_settings(struct settings *s)
{
	/*
	 * Thread records travel only for the per-task table; a burst of 100k
	 * threads ending at once (88 bytes each) must fit while memtrace waits
	 * for a CPU.
	 */
	if (!s->ringbuf_bytes)
		s->ringbuf_bytes = (s->tasks || s->tasks_csv ? 64UL : 8UL) << 20;
	if (s->npids && s->command_argc) {
		fprintf(stderr, "memtrace: give either -p PID or a command after '--', not both\n");
		return -1;
	}
	if (s->npids && (s->runs > 1 || s->warmup)) {
		fprintf(stderr, "memtrace: --runs and --warmup repeat a command: give it after '--', not -p\n");
		return -1;
	}
	if (s->user && !s->command_argc) {
		fprintf(stderr, "memtrace: -u runs a command as a user: give the command after '--'\n");
		return -1;
	}
	if (!s->npids && s->command_argc == 0) {
		fprintf(stderr, "memtrace: no command: use memtrace [OPTIONS] -- COMMAND [ARGS...] or -p PID\n");
		return -1;
	}
	return 0;
}

static const struct argp_option *find_option(const char *arg)
{
	const struct argp_option *o;
	size_t n;

	for (o = options; o->name || o->key; o++) {
		if (arg[1] == '-') {
			n = strcspn(arg + 2, "=");
			if (o->name && strlen(o->name) == n && strncmp(o->name, arg + 2, n) == 0)
				return o;
		} else if (o->key == arg[1] && o->key < 0x100) {
			return o;
		}
	}
	return NULL;
}

/*
 * getopt's own messages take two lines, so argp runs silent (ARGP_NO_ERRS)
 * and this names the option it could not take.
 */
static void explain_option_error(int argc, char **argv)
{
	const struct argp_option *o;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || a[1] == '\0')
			continue;
		o = find_option(a);
		if (!o) {
			fprintf(stderr, "memtrace: unknown option '%s' (see memtrace --help)\n", a);
			return;
		}
		if (o->arg && !strchr(a, '=') && (a[1] == '-' || a[2] == '\0') && i + 1 >= argc) {
			fprintf(stderr, "memtrace: option '%s' needs a value (see memtrace --help)\n", a);
			return;
		}
		if (o->arg && (a[1] == '-' ? !strchr(a, '=') : a[2] == '\0'))
			i++;
	}
	fprintf(stderr, "memtrace: bad command line (see memtrace --help)\n");
}

/* Prints the first line argp or bad() wrote, so every usage error is one line. */
static void print_first_line(const char *text)
{
	size_t n = strcspn(text, "\n");

	if (n == 0)
		fprintf(stderr, "memtrace: bad command line (see memtrace --help)\n");
	else if (strncmp(text, "memtrace: ", 10) == 0)
		fprintf(stderr, "%.*s\n", (int)n, text);
	else
		fprintf(stderr, "memtrace: %.*s\n", (int)n, text);
}

int parse_options(int argc, char **argv, struct settings *s)
{
	struct parse_input in = { s, NULL };
	char *errtext = NULL;
	size_t errlen = 0;
	int dashdash = argc, i, err;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			dashdash = i;
			break;
		}
	}
	in.errs = open_memstream(&errtext, &errlen);
	if (!in.errs) {
		fprintf(stderr, "memtrace: cannot parse the command line: out of memory\n");
		return MT_EXIT_USAGE;
	}
	/* argp sees argv[0..dashdash) only; the command is left as it is. */
	err = argp_parse(&argp, dashdash, argv,
			 ARGP_NO_EXIT | ARGP_NO_HELP | ARGP_IN_ORDER | ARGP_NO_ERRS, NULL, &in);
	fclose(in.errs);
	if (!err && !s->exit_now) {
		if (dashdash < argc) {
			s->command = argv + dashdash + 1;
			s->command_argc = argc - dashdash - 1;
		}
		err = check_settings(s);
	}
	if (err) {
		if (errtext && *errtext)
			print_first_line(errtext);
		else if (err > 0)
			explain_option_error(dashdash, argv);
		free(errtext);
		return MT_EXIT_USAGE;
	}
	free(errtext);
	return 0;
}
