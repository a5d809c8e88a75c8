// SPDX-License-Identifier: GPL-2.0
/* The JSON writer's numbers and strings, byte for byte as printf() and the spec give them. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

static void numbers_as_printf_writes_them(void **state)
{
	static const int64_t ints[] = { 0, 1, -1, 9, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN };
	static const uint64_t uints[] = { 0, 7, 18446744073709551615ULL };
	char *got = NULL, want[1024];
	size_t len = 0, at = 0, i;
	FILE *m = open_memstream(&got, &len);
	struct json j;

	(void)state;
	json_init(&j, m);
	json_begin_array(&j, NULL);
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		json_int(&j, NULL, ints[i]);
	for (i = 0; i < sizeof(uints) / sizeof(uints[0]); i++)
		json_uint(&j, NULL, uints[i]);
	json_end_array(&j);
	fclose(m);
	at += (size_t)snprintf(want + at, sizeof(want) - at, "[");
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		at += (size_t)snprintf(want + at, sizeof(want) - at, "%s\n  %" PRId64, i ? "," : "", ints[i]);
	for (i = 0; i < sizeof(uints) / sizeof(uints[0]); i++)
		at += (size_t)snprintf(want + at, sizeof(want) - at, ",\n  %" PRIu64, uints[i]);
	snprintf(want + at, sizeof(want) - at, "\n]\n");
	assert_string_equal(got, want);
	free(got);
}

/* Long plain runs around escapes: each byte once, in order. */
static void strings_with_runs_and_escapes(void **state)
{
	char *got = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&got, &len);

	(void)state;
	json_write_string(m, "plain run, then \"quoted\"\tand\\back \xC3\xA9t\xC3\xA9 end");
	json_write_string(m, "");
	json_write_string(m, "\n");
	fclose(m);
	assert_string_equal(got, "\"plain run, then \\\"quoted\\\"\\tand\\\\back \xC3\xA9t\xC3\xA9 end\""
				 "\"\"" "\"\\n\"");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbers_as_printf_writes_them),
		cmocka_unit_test(strings_with_runs_and_escapes),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
