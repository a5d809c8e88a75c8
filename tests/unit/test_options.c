// SPDX-License-Identifier: GPL-2.0
/* The option parser, from argv arrays: what it takes and what it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "exitcodes.h"
#include "options.h"

#define ARGV(...) ((char *[]){ "memtrace", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "memtrace", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(s, ...) parse_quietly(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), s)

/* Usage errors print to stderr: hide them while parsing, not cmocka's own lines. */
static int parse_quietly(int argc, char **argv, struct settings *s)
{
	int saved = dup(2), null = open("/dev/null", O_WRONLY), rc;

	fflush(stderr);
	dup2(null, 2);
	rc = parse_options(argc, argv, s);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(null);
	return rc;
}

static void command_after_dashdash(void **state)
{
	struct settings s;

	(void)state;
	settings_init(&s);
	assert_int_equal(PARSE(&s, "-o", "r.txt", "--", "ls", "-l", "--", "x"), 0);
	assert_string_equal(s.output, "r.txt");
	assert_int_equal(s.command_argc, 4);
	assert_string_equal(s.command[0], "ls");
	assert_string_equal(s.command[1], "-l");
	assert_string_equal(s.command[2], "--");
	assert_null(s.command[4]);
}

/* As time, strace and perf stat take it: the first word that is not an option. */
static void command_without_dashdash(void **state)
{
	struct settings s;

	(void)state;
	settings_init(&s);
	assert_int_equal(PARSE(&s, "-o", "r.txt", "make", "-j8", "-o", "x", "--", "-v"), 0);
	assert_string_equal(s.output, "r.txt");
	assert_int_equal(s.verbose, 0); /* the command's -v, not memtrace's */
	assert_int_equal(s.command_argc, 6);
	assert_string_equal(s.command[0], "make");
	assert_string_equal(s.command[2], "-o");
	assert_string_equal(s.command[5], "-v");
	assert_null(s.command[6]);
	/* "--" is still taken, and needed only for a command that starts with '-'. */
	settings_init(&s);
	assert_int_equal(PARSE(&s, "-v", "--", "-weird", "x"), 0);
	assert_int_equal(s.verbose, 1);
	assert_int_equal(s.command_argc, 2);
	assert_string_equal(s.command[0], "-weird");
}

static void defaults(void **state)
{
	struct settings s;

	(void)state;
	settings_init(&s);
	assert_int_equal(PARSE(&s, "--", "true"), 0);
	assert_int_equal(s.top, 10);
	assert_int_equal(s.verbose, 0);
	assert_false(s.strict);
	assert_null(s.output);
	assert_int_equal(s.npids, 0);
	assert_int_equal(s.max_tasks, 0); /* from pid_max and threads-max at load: test_capacity.c */
	assert_int_equal(s.max_procs, 0); /* from kernel.pid_max at load: test_capacity.c */
	assert_int_equal(s.ringbuf_bytes, 8 << 20);
	assert_int_equal(s.interval_ms, 100);
	assert_int_equal(s.runs, 1);
	/* Thread records need room only for the per-task table. */
	settings_init(&s);
	assert_int_equal(PARSE(&s, "--tasks", "--", "true"), 0);
	assert_int_equal(s.ringbuf_bytes, 64 << 20);
}

static void options_take_values(void **state)
{
	struct settings s;

	(void)state;
	settings_init(&s);
	assert_int_equal(PARSE(&s, "-vv", "--top", "3", "--strict", "--json=x.json",
			       "--max-tasks", "4096", "--max-procs", "4194304", "--ringbuf-size", "65536",
			       "--", "true"), 0);
	assert_int_equal(s.verbose, 2);
	assert_int_equal(s.top, 3);
	assert_true(s.strict);
	assert_string_equal(s.json, "x.json");
	assert_int_equal(s.max_tasks, 4096);
	assert_int_equal(s.max_procs, 4194304);
	assert_int_equal(s.ringbuf_bytes, 65536);
	/* Units wherever a size or a time is taken; plain numbers keep their meaning. */
	settings_init(&s);
	assert_int_equal(PARSE(&s, "--ringbuf-size", "8M", "--interval", "1s", "--duration", "2m", "true"), 0);
	assert_int_equal(s.ringbuf_bytes, 8 << 20);
	assert_int_equal(s.interval_ms, 1000);
	assert_true(s.duration_s == 120);
	settings_init(&s);
	assert_int_equal(PARSE(&s, "--interval", "10", "--duration", "2.5", "true"), 0);
	assert_int_equal(s.interval_ms, 10);
	assert_true(s.duration_s == 2.5);
}

static void pid_lists(void **state)
{
	struct settings s;

	(void)state;
	settings_init(&s);
	assert_int_equal(PARSE(&s, "-p", "12,34", "-p", "56"), 0);
	assert_int_equal(s.npids, 3);
	assert_int_equal(s.pids[0], 12);
	assert_int_equal(s.pids[1], 34);
	assert_int_equal(s.pids[2], 56);
	assert_null(s.command);
}

static void refusals(void **state)
{
	struct settings s;

	(void)state;
#define REFUSED(...)                                                           \
	do {                                                                   \
		settings_init(&s);                                             \
		assert_int_equal(PARSE(&s, __VA_ARGS__), MT_EXIT_USAGE);       \
	} while (0)
	REFUSED("--bogus", "--", "true");
	REFUSED("-p", "1", "ls", "-l");      /* both, without "--" */
	REFUSED("-v");                       /* no command */
	REFUSED("-p", "12abc");
	REFUSED("-p", "0");
	REFUSED("-p", "-5");
	REFUSED("-p", ",");
	REFUSED("-p", "1", "--", "true");    /* both */
	REFUSED("--top", "0", "--", "true");
	REFUSED("--top", "-1", "--", "true");
	REFUSED("--top", "99999999999999999999", "--", "true");
	REFUSED("--max-tasks", "1", "--", "true");
	REFUSED("--max-procs", "4194305", "--", "true"); /* more than pids can be */
	REFUSED("--ringbuf-size", "5000", "--", "true"); /* not a power of two */
	REFUSED("-o");
	REFUSED("--interval", "0.5ms", "true"); /* below the time series' 1 ms */
	REFUSED("--interval", "2h", "true");
	REFUSED("--ringbuf-size", "6K", "true");
	REFUSED("--duration", "0s", "true");
#undef REFUSED
}

static void prometheus_labels_and_push_url(void **state)
{
	struct settings s;

	(void)state;
	settings_init(&s);
	assert_int_equal(PARSE(&s, "--prom", "m.prom", "--push", "http://gw:9091", "--label",
			       "host=web-1", "--label", "_team2=a=b", "--label", "empty=", "--", "true"),
			 0);
	assert_string_equal(s.prom, "m.prom");
	assert_string_equal(s.push_url, "http://gw:9091");
	assert_int_equal(s.nlabels, 3);
	assert_string_equal(s.labels[0], "host=web-1");
	assert_string_equal(s.labels[1], "_team2=a=b"); /* the value is all after the first '=' */
	assert_string_equal(s.labels[2], "empty=");
#define REFUSED(...)                                                           \
	do {                                                                   \
		settings_init(&s);                                             \
		assert_int_equal(PARSE(&s, __VA_ARGS__), MT_EXIT_USAGE);       \
	} while (0)
	REFUSED("--prom", "f", "--label", "2x=1", "--", "true");
	REFUSED("--prom", "f", "--label", "a.b=1", "--", "true");
	REFUSED("--prom", "f", "--label", "x", "--", "true");
	REFUSED("--prom", "f", "--label", "=x", "--", "true");
	REFUSED("--prom", "f", "--label", "__x=1", "--", "true");
	REFUSED("--prom", "f", "--label", "command=1", "--", "true");
	REFUSED("--prom", "f", "--label", "job=1", "--", "true");
	REFUSED("--prom", "f", "--label", "a=1", "--label", "a=2", "--", "true");
	REFUSED("--label", "a=1", "--", "true"); /* nothing to label */
	REFUSED("--push", "gw:9091", "--", "true");
	REFUSED("--push", "file:///tmp/x", "--", "true");
	REFUSED("--push", "http://", "--", "true");
	REFUSED("--push", "http:///metrics", "--", "true");
	REFUSED("--push", "http://gw/a b", "--", "true");
	REFUSED("--bench-name", "", "--", "true");
#undef REFUSED
}

static void help_and_version_stop(void **state)
{
	struct settings s;
	FILE *saved = stdout;

	(void)state;
	stdout = fopen("/dev/null", "w");
	settings_init(&s);
	assert_int_equal(PARSE(&s, "--help"), 0);
	assert_true(s.exit_now);
	settings_init(&s);
	assert_int_equal(PARSE(&s, "-V"), 0);
	assert_true(s.exit_now);
	fclose(stdout);
	stdout = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(command_after_dashdash),
		cmocka_unit_test(command_without_dashdash),
		cmocka_unit_test(defaults),
		cmocka_unit_test(options_take_values),
		cmocka_unit_test(pid_lists),
		cmocka_unit_test(refusals),
		cmocka_unit_test(prometheus_labels_and_push_url),
		cmocka_unit_test(help_and_version_stop),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
