// SPDX-License-Identifier: GPL-2.0
/*
 * The text of the ecosystem exports: Prometheus label values (escaping and
 * UTF-8), the Pushgateway's group URL (base64url), and the benchmark JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "options.h"
#include "push.h"
#include "report_bench.h"
#include "report_prom.h"

/* What fn wrote, as a string to free. */
#define CAPTURE(buf, call)                                                     \
	do {                                                                   \
		size_t len_;                                                   \
		FILE *f = open_memstream(&(buf), &len_);                       \
		assert_non_null(f);                                            \
		call;                                                          \
		fclose(f);                                                     \
	} while (0)

static void label_values_are_escaped(void **state)
{
	char *out = NULL;

	(void)state;
	/* The exposition format escapes backslash, double quote and newline, and nothing else. */
	CAPTURE(out, prom_write_label_value(f, "a\\b\"c\nd\te"));
	assert_string_equal(out, "\"a\\\\b\\\"c\\nd\te\"");
	free(out);
	/* Valid UTF-8 passes; a byte that is not becomes U+FFFD. */
	CAPTURE(out, prom_write_label_value(f, "caf\xc3\xa9 \xff \xc0\xaf x"));
	assert_string_equal(out, "\"caf\xc3\xa9 \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd x\"");
	free(out);
}

static void push_groups_by_command_and_labels(void **state)
{
	struct settings s;
	char *url;

	(void)state;
	settings_init(&s);
	s.push_url = "http://gw:9091/";
	s.labels[0] = "host=a";
	s.labels[1] = "empty=";
	s.nlabels = 2;
	url = push_group_url(&s, "make -j2");
	/* base64url of "make -j2" is bWFrZSAtajI=; of "a" YQ==; of "" a lone "=". */
	assert_string_equal(url, "http://gw:9091/metrics/job/memtrace/command@base64/bWFrZSAtajI="
				 "/host@base64/YQ==/empty@base64/=");
	free(url);
	/* The URL-safe alphabet: '+' and '/' would break the path. */
	s.nlabels = 0;
	url = push_group_url(&s, "\xfb\xff");
	assert_string_equal(url, "http://gw:9091/metrics/job/memtrace/command@base64/-_8=");
	free(url);
	/* A URL that names its group is the user's choice. */
	s.push_url = "http://gw:9091/metrics/job/nightly/host/b";
	url = push_group_url(&s, "true");
	assert_string_equal(url, s.push_url);
	free(url);
}

static void bench_json(void **state)
{
	struct bench_figures b = {
		.name = "go/10000",
		.peak_rss = { 3, 100, 150, 140, 200, 50 },
		.peak_total = { 3, 110, 160, 150, 210, 50 },
		.wall = { 3, 1.5, 1.75, 1.8, 2.25, 0.25 },
	};
	char *out = NULL;

	(void)state;
	CAPTURE(out, bmf_write(f, &b));
	assert_non_null(strstr(out, "\"go/10000\": {"));
	assert_non_null(strstr(out, "\"peak-rss\": {\n      \"value\": 150,\n      \"lower_value\": 100,\n"
				    "      \"upper_value\": 200\n"));
	assert_non_null(strstr(out, "\"wall-time\": {\n      \"value\": 1.750000,"));
	free(out);
	CAPTURE(out, github_benchmark_write(f, &b));
	assert_non_null(strstr(out, "\"name\": \"go/10000 - peak RSS\",\n    \"unit\": \"bytes\",\n"
				    "    \"value\": 150,\n    \"range\": \"\xc2\xb1 50\","));
	assert_non_null(strstr(out, "\"name\": \"go/10000 - wall time\",\n    \"unit\": \"s\""));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(label_values_are_escaped),
		cmocka_unit_test(push_groups_by_command_and_labels),
		cmocka_unit_test(bench_json),
	};

	return cmocka_run_group_tests_name("exports", tests, NULL, NULL);
}
