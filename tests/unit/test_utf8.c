// SPDX-License-Identifier: GPL-2.0
/* Names as valid UTF-8 in every output, whatever bytes the kernel gave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "utf8.h"

#define FFFD "\xEF\xBF\xBD"

static void clean_is(const char *in, size_t n, const char *want)
{
	char out[256];

	utf8_clean(out, sizeof(out), in, n);
	assert_string_equal(out, want);
}

static void well_formed_passes(void **state)
{
	(void)state;
	clean_is("plain-name_1", 64, "plain-name_1");
	clean_is("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 64, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
	clean_is("\xEF\xBF\xBD", 64, FFFD); /* a real U+FFFD stays one */
	clean_is("\xF4\x8F\xBF\xBF", 64, "\xF4\x8F\xBF\xBF"); /* U+10FFFF, the last */
}

static void cut_character_becomes_one_replacement(void **state)
{
	(void)state;
	/* The kernel cuts a comm at 15 bytes: here inside a three-byte euro sign. */
	clean_is("aaaaaaaaaaaaa\xE2\x82", 15, "aaaaaaaaaaaaa" FFFD);
	clean_is("ab\xC3", 16, "ab" FFFD);
	clean_is("\xF0\x9F\x98" "A", 16, FFFD "A");
	/* n stops the string even without a NUL. */
	clean_is("abc\xC3\xA9", 4, "abc" FFFD);
}

static void ill_formed_sequences(void **state)
{
	uint32_t cp;

	(void)state;
	clean_is("\xC0\x80", 8, FFFD FFFD);             /* overlong NUL */
	clean_is("\xE0\x80\x80", 8, FFFD FFFD FFFD);     /* overlong */
	clean_is("\xED\xA0\x80", 8, FFFD FFFD FFFD);     /* a surrogate */
	clean_is("\xF4\x90\x80\x80", 8, FFFD FFFD FFFD FFFD); /* beyond U+10FFFF */
	clean_is("\xF5\xFF\x80", 8, FFFD FFFD FFFD);
	clean_is("\xE2\x28\xA1", 8, FFFD "(" FFFD);     /* the maximal subpart is one byte */
	assert_int_equal(utf8_next((const unsigned char *)"\xE2\x82\x28", 3, &cp), 2);
	assert_int_equal(cp, UTF8_INVALID);
	assert_int_equal(utf8_next((const unsigned char *)"\xE2\x82\xAC", 3, &cp), 3);
	assert_int_equal(cp, 0x20AC);
}

static void control_characters_replaced(void **state)
{
	(void)state;
	clean_is("a\tb\nc\x01\x1B[31m\x7F", 64, "a" FFFD "b" FFFD "c" FFFD FFFD "[31m" FFFD);
}

static void clean_never_cuts_a_character(void **state)
{
	char out[6];

	(void)state;
	/* 5 bytes of room: "ab" and one euro sign fit, the second does not. */
	assert_int_equal(utf8_clean(out, sizeof(out), "ab\xE2\x82\xAC\xE2\x82\xAC", 64), 5);
	assert_string_equal(out, "ab\xE2\x82\xAC");
}

static char *capture(void (*write)(FILE *, const char *), const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	write(f, in);
	fclose(f);
	return buf;
}

static void csv_of(FILE *f, const char *s)
{
	utf8_write_csv(f, s, 64);
}

static void csv_field_is_one_valid_line(void **state)
{
	char *got;

	(void)state;
	got = capture(csv_of, "say \"hi\",\nnow\xC3");
	assert_string_equal(got, "say \"\"hi\"\"," FFFD "now" FFFD);
	free(got);
}

static void json_string_is_valid(void **state)
{
	char *got;

	(void)state;
	got = capture(json_write_string, "x\"\\\x01\xC3\xA9\xE2\x82");
	assert_string_equal(got, "\"x\\\"\\\\\\u0001\xC3\xA9\\ufffd\"");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(well_formed_passes),
		cmocka_unit_test(cut_character_becomes_one_replacement),
		cmocka_unit_test(ill_formed_sequences),
		cmocka_unit_test(control_characters_replaced),
		cmocka_unit_test(clean_never_cuts_a_character),
		cmocka_unit_test(csv_field_is_one_valid_line),
		cmocka_unit_test(json_string_is_valid),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
