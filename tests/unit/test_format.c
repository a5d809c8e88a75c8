// SPDX-License-Identifier: GPL-2.0
/* Sizes, counts and times as the report prints them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "format.h"

static void bytes(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(format_bytes(b, sizeof(b), 0), "0 B");
	assert_string_equal(format_bytes(b, sizeof(b), 1023), "1023 B");
	assert_string_equal(format_bytes(b, sizeof(b), 1024), "1.00 KiB");
	assert_string_equal(format_bytes(b, sizeof(b), 1536), "1.50 KiB");
	assert_string_equal(format_bytes(b, sizeof(b), 100 * 1024 * 1024), "100 MiB");
	assert_string_equal(format_bytes(b, sizeof(b), 106344448), "101 MiB");
	assert_string_equal(format_bytes(b, sizeof(b), 15 * 1024 * 1024 + 512 * 1024), "15.5 MiB");
	assert_string_equal(format_bytes(b, sizeof(b), 2LL << 30), "2.00 GiB");
	/* 1023.99 KiB rounds to the next unit, never "1024 KiB". */
	assert_string_equal(format_bytes(b, sizeof(b), 1048570), "1.00 MiB");
	assert_string_equal(format_bytes(b, sizeof(b), -2048), "-2.00 KiB");
	assert_string_equal(format_bytes(b, sizeof(b), INT64_MAX), "8192 PiB");
}

static void counts(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(format_count(b, sizeof(b), 0), "0");
	assert_string_equal(format_count(b, sizeof(b), 999), "999");
	assert_string_equal(format_count(b, sizeof(b), 1000), "1,000");
	assert_string_equal(format_count(b, sizeof(b), 105062400), "105,062,400");
	assert_string_equal(format_count(b, sizeof(b), -1234567), "-1,234,567");
	assert_string_equal(format_count(b, sizeof(b), INT64_MIN), "-9,223,372,036,854,775,808");
	/* Too small a buffer truncates, never overflows. */
	assert_string_equal(format_count(b, 4, 123456), "123");
}

static void milliseconds(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(format_ms(b, sizeof(b), 0), "0.0");
	assert_string_equal(format_ms(b, sizeof(b), 512345678), "512.3");
	assert_string_equal(format_ms(b, sizeof(b), 99999), "0.0");
	assert_string_equal(format_ms(b, sizeof(b), 100000), "0.1");
}

static void commands(void **state)
{
	char *plain[] = { "make", "-j8" };
	char *script[] = { "sh", "-c", "echo one\necho 'two'\tthree" };
	char *empty[] = { "printf", "" };
	char b[64], small[20];

	(void)state;
	assert_string_equal(format_command(b, sizeof(b), plain, 2), "make -j8");
	/* One line, however many the script has; quoted as a shell would take it back. */
	assert_string_equal(format_command(b, sizeof(b), script, 3),
			    "sh -c 'echo one\\necho '\\''two'\\''\\tthree'");
	assert_string_equal(format_command(b, sizeof(b), empty, 2), "printf ''");
	/* Too long: cut to the buffer, ending in "...". */
	assert_string_equal(format_command(small, sizeof(small), script, 3), "sh -c 'echo one...");
	assert_true(strlen(format_command(small, sizeof(small), script, 3)) <= sizeof(small) - 1);
	/* A -c script as typed: not quoted, still one line. */
	assert_string_equal(format_script(b, sizeof(b), "echo 'a b'\nls"), "echo 'a b'\\nls");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bytes),
		cmocka_unit_test(counts),
		cmocka_unit_test(milliseconds),
		cmocka_unit_test(commands),
	};

	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
