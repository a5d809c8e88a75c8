// SPDX-License-Identifier: GPL-2.0
/* The command line: argp for the options; the first word that is not one starts the command. */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "limit.h"
#include "options.h"
#include "units.h"

const char *argp_program_version = "memtrace " MEMTRACE_VERSION;
const char *argp_program_bug_address = NULL;

static const char doc[] =
	"Measure how much memory a program and every process and thread it starts\n"
	"really use, exactly, from the kernel (eBPF).\n"
	"\n"
	"EXAMPLES:\n"
	"    memtrace ./workload 10000            # report to stderr when it exits\n"
	"    memtrace -o report.txt make -j2      # report to a file\n"
	"    memtrace --json run.json python3 x.py\n"
	"    memtrace -- -cmd-with-a-dash         # '--' only before a leading '-'\n"
	"    memtrace -p 4242                     # a running process and its children\n"
	"    memtrace --limit 512M -- ./job       # killed the instant its tree needs more\n"
	"\n"
	"EXIT STATUS: the command's own, or 128 + the signal that killed it; 64 bad\n"
	"usage, 122 events lost with --strict, 125 memtrace failed, 126 command not\n"
	"executable, 127 command not found, 137 the tree exceeded --limit."
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
	OPT_PERFETTO,
	OPT_PROM,
	OPT_PUSH,
	OPT_LABEL,
	OPT_EXPORT_BMF,
	OPT_EXPORT_GITHUB,
	OPT_BENCH_NAME,
	OPT_FORMAT,
	OPT_AS_ROOT,
	OPT_WAIT,
	OPT_CGROUP,
	OPT_LIMIT,
	OPT_LIMIT_SIGNAL,
	OPT_CHECK_KERNEL,
};

static const struct argp_option options[] = {
	{ "output", 'o', "FILE", 0, "Write the report to FILE instead of stderr", 0 },
	{ "pid", 'p', "PID[,PID...]", 0, "Attach to running processes and their descendants", 0 },
	{ "compare", 'c', "CMD", 0, "Compare commands (give two or more, each run through sh -c, --runs times: default 3): peak RSS, peak total, wall time, and how many times the least memory each needs", 0 },
	{ "json", OPT_JSON, "FILE", 0, "Also write the report as JSON to FILE", 0 },
	{ "csv", OPT_CSV, "FILE", 0, "Write the tree's memory over time to FILE (one row per interval, the peak marked)", 0 },
	{ "interval", OPT_INTERVAL, "TIME", 0, "Time-series interval: ms, or with a unit (10ms, 1s; default 100ms)", 0 },
	{ "format", OPT_FORMAT, "FMT", 0, "Instead of the report, one line as FMT says, as time -f: %R peak RSS, %M the same in KiB, %T peak total, %K peak kernel memory (bytes); %e wall, %U user, %S system (s); %x exit status, %P processes, %H threads, %F page faults, %L events lost, %C the command; %%, \\n, \\t", 0 },
	{ "summary-csv", OPT_SUMMARY_CSV, "FILE", 0, "Append one row per run to FILE (header once)", 0 },
	{ "tasks", OPT_TASKS, NULL, 0, "Show the per-task table (one row per thread)", 0 },
	{ "tasks-csv", OPT_TASKS_CSV, "FILE", 0, "Write the complete per-task table to FILE", 0 },
	{ "runs", OPT_RUNS, "N", 0, "Run the command N times; report statistics (default 1)", 0 },
	{ "warmup", OPT_WARMUP, "N", 0, "Run the command N times first, unmeasured (default 0)", 0 },
	{ "top", OPT_TOP, "N", 0, "Show the N processes with the largest peak (default 10)", 0 },
	{ "verbose", 'v', NULL, 0, "Show every process; twice: libbpf's log too", 0 },
	{ "quiet", 'q', NULL, 0, "No status line on the terminal, no word on attach", 0 },
	{ "strict", OPT_STRICT, NULL, 0, "Exit with status 122 when any event was lost", 0 },
	{ "max-tasks", OPT_MAX_TASKS, "N", 0, "Live threads the kernel side can follow (default: kernel.pid_max or threads-max, the smaller, at most 1048576; 160 bytes of kernel memory each)", 0 },
	{ "max-procs", OPT_MAX_PROCS, "N", 0, "Live processes the kernel side can follow (default kernel.pid_max, at most 131072)", 0 },
	{ "user", 'u', "USER", 0, "Run the command as USER (uid, gid, groups, HOME); under sudo the default is the user who ran sudo", 0 },
	{ "as-root", OPT_AS_ROOT, NULL, 0, "Under sudo, run the command as root, not as the user who ran sudo", 0 },
	{ "duration", OPT_DURATION, "TIME", 0, "Stop after TIME (seconds, or 500ms, 2m, 1h): detach (-p), or send SIGTERM to the command", 0 },
	{ "ringbuf-size", OPT_RINGBUF, "SIZE", 0, "Ring buffer for exit records, a power of two from 4K (bytes, or 8M, 64M; default 8M, 64M with --tasks)", 0 },
	{ "perfetto", OPT_PERFETTO, "FILE", 0, "Write the run as a timeline for ui.perfetto.dev (Chrome trace JSON)", 0 },
	{ "prom", OPT_PROM, "FILE", 0, "Write the results as Prometheus text (node_exporter's textfile collector); rewritten each interval while running", 0 },
	{ "push", OPT_PUSH, "URL", 0, "Push the results to a Prometheus Pushgateway at URL (http:// or https://)", 0 },
	{ "label", OPT_LABEL, "NAME=VALUE", 0, "Add this label to the Prometheus metrics (repeatable)", 0 },
	{ "export-bmf", OPT_EXPORT_BMF, "FILE", 0, "Write peaks and wall time in Bencher Metric Format JSON", 0 },
	{ "export-github-benchmark", OPT_EXPORT_GITHUB, "FILE", 0, "Write peaks and wall time as github-action-benchmark customSmallerIsBetter JSON", 0 },
	{ "bench-name", OPT_BENCH_NAME, "NAME", 0, "The benchmark's name in those exports (default: the command line)", 0 },
	{ "wait", OPT_WAIT, NULL, 0, "Follow the tree until its last process ends, not only the command", 0 },
	{ "cgroup", OPT_CGROUP, NULL, 0, "Run the command in a memory cgroup of its own; report its charged peak", 0 },
	{ "limit", OPT_LIMIT, "SIZE[,rss|total]", 0, "Kill the tree when its RSS (or RSS + kernel memory) exceeds SIZE (512M, 2G); exit 137", 0 },
	{ "limit-signal", OPT_LIMIT_SIGNAL, "SIG", 0, "Signal the kernel sends the process that exceeds --limit (default KILL)", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{ "check-kernel", OPT_CHECK_KERNEL, NULL, 0, "Say whether memtrace can run on this kernel (exit 0) or not (125), and exit", -1 },
	{ "version", 'V', NULL, 0, "Show the version", -1 },
	{ 0 },
};

void settings_init(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->top = 10;
	s->max_tasks = 0; /* from kernel.pid_max and threads-max: capacity.h */
	s->max_procs = 0; /* from kernel.pid_max: capacity.h */
	s->ringbuf_bytes = 0; /* chosen in check_settings() */
	s->interval_ms = 100;
	s->runs = 1;
	s->limit_signal = SIGKILL;
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

/*
 * A Prometheus label: the name as the exposition format allows it
 * ([a-zA-Z_][a-zA-Z0-9_]*), not reserved (__ prefix), not memtrace's own.
 */
static int parse_label(struct argp_state *state, struct settings *s, const char *arg)
{
	const char *eq = strchr(arg, '='), *p;
	size_t n = eq ? (size_t)(eq - arg) : 0;
	int i;

	if (!eq || n == 0)
		return bad(state, "bad label '%s' for --label: want NAME=VALUE", arg);
	for (p = arg; p < eq; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
			 (p > arg && *p >= '0' && *p <= '9');

		if (!ok)
			return bad(state, "bad label '%s' for --label: a name is letters, digits and '_', not starting with a digit", arg);
	}
	if (n >= 2 && arg[0] == '_' && arg[1] == '_')
		return bad(state, "bad label '%s' for --label: names starting with '__' are Prometheus's own", arg);
	if ((n == 7 && strncmp(arg, "command", 7) == 0) || (n == 3 && strncmp(arg, "job", 3) == 0))
		return bad(state, "bad label '%s' for --label: memtrace sets 'command' and 'job' itself", arg);
	for (i = 0; i < s->nlabels; i++)
		if (strncmp(s->labels[i], arg, n + 1) == 0)
			return bad(state, "bad label '%s' for --label: that name was given twice", arg);
	if (s->nlabels == MT_MAX_LABELS)
		return bad(state, "too many labels for --label (at most %s)", "32");
	s->labels[s->nlabels++] = arg;
	return 0;
}

/* A Pushgateway's address: a scheme curl is allowed to use, and a host. */
static int parse_push_url(struct argp_state *state, struct settings *s, const char *arg)
{
	const char *host;

	if (strncmp(arg, "http://", 7) == 0)
		host = arg + 7;
	else if (strncmp(arg, "https://", 8) == 0)
		host = arg + 8;
	else
		return bad(state, "bad URL '%s' for --push: want http://HOST:PORT or https://...", arg);
	if (!*host || *host == '/')
		return bad(state, "bad URL '%s' for --push: no host", arg);
	if (strpbrk(arg, " \t\n\r"))
		return bad(state, "bad URL '%s' for --push: spaces are not allowed", arg);
	s->push_url = arg;
	return 0;
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
	case 'c':
		if (s->ncompare == MT_MAX_COMPARE)
			return bad(state, "too many commands for -c (at most %s)", "26");
		if (!*arg)
			return bad(state, "empty command for -c%s", "");
		s->compare[s->ncompare++] = arg;
		break;
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
	case 'q':
		s->quiet = true;
		break;
	case OPT_STRICT:
		s->strict = true;
		break;
	case OPT_MAX_TASKS:
		if (parse_ulong(arg, 16, 1UL << 22, &v))
			return bad(state, "bad number '%s' for --max-tasks: want 16 to 4194304", arg);
		s->max_tasks = v;
		break;
	case OPT_MAX_PROCS:
		if (parse_ulong(arg, 16, 1UL << 22, &v))
			return bad(state, "bad number '%s' for --max-procs: want 16 to 4194304", arg);
		s->max_procs = v;
		break;
	case OPT_RINGBUF: {
		uint64_t b;

		if (parse_size(arg, &b) || b < 4096 || b > (1UL << 30) || (b & (b - 1)))
			return bad(state, "bad size '%s' for --ringbuf-size: want a power of two, 4K to 1G", arg);
		s->ringbuf_bytes = b;
		break;
	}
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
	case OPT_INTERVAL: {
		double sec, ms;

		/* Whole milliseconds: the time series' own resolution. */
		if (parse_duration(arg, 1e-3, &sec) || (ms = sec * 1e3) < 1 || ms > 3600000 ||
		    fabs(ms - round(ms)) > 1e-6)
			return bad(state, "bad interval '%s' for --interval: want 1ms to 1h, in whole ms", arg);
		s->interval_ms = (unsigned)round(ms);
		break;
	}
	case OPT_SUMMARY_CSV:
		s->summary_csv = arg;
		break;
	case OPT_FORMAT:
		s->format = arg;
		break;
	case OPT_AS_ROOT:
		s->as_root = true;
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
		s->runs_given = true;
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
		double d;

		if (parse_duration(arg, 1, &d) || !(d > 0) || d > 1e7)
			return bad(state, "bad duration '%s' for --duration: want a time > 0 (2.5, 500ms, 2m)", arg);
		s->duration_s = d;
		break;
	}
	case OPT_PERFETTO:
		s->perfetto = arg;
		break;
	case OPT_PROM:
		s->prom = arg;
		break;
	case OPT_PUSH:
		return parse_push_url(state, s, arg);
	case OPT_LABEL:
		return parse_label(state, s, arg);
	case OPT_EXPORT_BMF:
		s->export_bmf = arg;
		break;
	case OPT_EXPORT_GITHUB:
		s->export_github = arg;
		break;
	case OPT_BENCH_NAME:
		if (!*arg)
			return bad(state, "empty name for --bench-name%s", "");
		s->bench_name = arg;
		break;
	case OPT_WAIT:
		s->wait = true;
		break;
	case OPT_CGROUP:
		s->cgroup = true;
		break;
	case OPT_LIMIT:
		if (limit_parse(arg, &s->limit_bytes, &s->limit_kind))
			return bad(state, "bad limit '%s' for --limit: want a size such as 512M or 2G, then optionally ,rss or ,total", arg);
		break;
	case OPT_LIMIT_SIGNAL: {
		int sig = signal_parse(arg);

		if (sig <= 0)
			return bad(state, "bad signal '%s' for --limit-signal: want a name such as KILL, TERM, SIGUSR1, or a number", arg);
		s->limit_signal = sig;
		break;
	}
	case ARGP_KEY_ARG:
		/*
		 * The command, as time and strace take it: the first word that is
		 * not an option (or whatever follows "--"); the rest is its own.
		 */
		s->command = &state->argv[state->next - 1];
		s->command_argc = state->argc - state->next + 1;
		state->next = state->argc;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* argp prints these as the usage lines: the one place they are written. */
static const char args_doc[] = "[--] COMMAND [ARGS...]\n-p PID[,PID...]";

static const struct argp argp = { options, parse_opt, args_doc, doc, NULL, NULL, NULL };

/* Combinations argp cannot see: they need the whole command line. */
static int check_settings(struct settings *s)
{
	/*
	 * Thread records travel only for the per-task table; a burst of 100k
	 * threads ending at once (88 bytes each) must fit while memtrace waits
	 * for a CPU.
	 */
	if (!s->ringbuf_bytes)
		s->ringbuf_bytes = (s->tasks || s->tasks_csv ? 64UL : 8UL) << 20;
	if (s->ncompare) {
		if (s->npids || s->command_argc) {
			fprintf(stderr, "memtrace: -c compares commands of its own: give no other command or -p\n");
			return -1;
		}
		if (s->csv || s->tasks || s->tasks_csv || s->summary_csv || s->format) {
			fprintf(stderr, "memtrace: -c reports a comparison: --csv, --tasks, --tasks-csv, --summary-csv and --format do not apply\n");
			return -1;
		}
		if (!s->runs_given)
			s->runs = 3; /* enough for a spread */
		return 0;
	}
	if (s->npids && s->command_argc) {
		fprintf(stderr, "memtrace: give either -p PID or a command, not both\n");
		return -1;
	}
	if (s->npids && (s->runs > 1 || s->warmup)) {
		fprintf(stderr, "memtrace: --runs and --warmup repeat a command: give one, not -p\n");
		return -1;
	}
	if (s->user && s->as_root) {
		fprintf(stderr, "memtrace: give either -u USER or --as-root, not both\n");
		return -1;
	}
	if (s->user && !s->command_argc) {
		fprintf(stderr, "memtrace: -u runs a command as a user: give the command\n");
		return -1;
	}
	if (s->nlabels && !s->prom && !s->push_url) {
		fprintf(stderr, "memtrace: --label labels the Prometheus metrics: give --prom FILE or --push URL too\n");
		return -1;
	}
	if (s->cgroup && !s->command_argc) {
		fprintf(stderr, "memtrace: --cgroup runs a command in a cgroup of its own: give the command after '--'\n");
		return -1;
	}
	if (s->wait && !s->command_argc) {
		fprintf(stderr, "memtrace: --wait follows a command's tree to its end: give the command after '--' (-p already waits)\n");
		return -1;
	}
	if (!s->npids && s->command_argc == 0) {
		fprintf(stderr, "memtrace: no command: use memtrace [OPTIONS] COMMAND [ARGS...] or -p PID\n");
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

		/* The command starts here: nothing after it is memtrace's. */
		if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0)
			break;
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
	int err;

	in.errs = open_memstream(&errtext, &errlen);
	if (!in.errs) {
		fprintf(stderr, "memtrace: cannot parse the command line: out of memory\n");
		return MT_EXIT_USAGE;
	}
	/* In order: parsing stops at the command, whose own options stay its own. */
	err = argp_parse(&argp, argc, argv,
			 ARGP_NO_EXIT | ARGP_NO_HELP | ARGP_IN_ORDER | ARGP_NO_ERRS, NULL, &in);
	fclose(in.errs);
	if (!err && !s->exit_now)
		err = check_settings(s);
	if (err) {
		if (errtext && *errtext)
			print_first_line(errtext);
		else if (err > 0)
			explain_option_error(argc, argv);
		free(errtext);
		return MT_EXIT_USAGE;
	}
	free(errtext);
	return 0;
}
