// SPDX-License-Identifier: GPL-2.0
/* Shared pages: reading smaps_rollup, and when the report warns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sharing.h"

#define MIB (1024ULL * 1024ULL)

static void parse(void **state)
{
	const char *text = "55d0a1a00000-7ffd5b3f0000 ---p 00000000 00:00 0 [rollup]\n"
			   "Rss:              105060 kB\n"
			   "Pss:               21012 kB\n"
			   "Pss_Anon:          20480 kB\n";
	uint64_t rss, pss;

	(void)state;
	assert_int_equal(sharing_parse_rollup(text, &rss, &pss), 0);
	assert_int_equal(rss, 105060ULL * 1024);
	assert_int_equal(pss, 21012ULL * 1024); /* "Pss", not "Pss_Anon" */
	assert_int_equal(sharing_parse_rollup("Rss: 4 kB\n", &rss, &pss), -1);
}

static void warns(void **state)
{
	struct sharing forked = { .rss_bytes = 528 * MIB, .pss_bytes = 106 * MIB };
	struct sharing libs = { .rss_bytes = 20 * MIB, .pss_bytes = 4 * MIB };
	struct sharing big = { .rss_bytes = 2048 * MIB, .pss_bytes = 1800 * MIB };

	(void)state;
	assert_true(sharing_warn(&forked));
	assert_false(sharing_warn(&libs)); /* shared libraries of a small run: under 32 MiB */
	assert_false(sharing_warn(&big));  /* 12% of the RSS sum */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse),
		cmocka_unit_test(warns),
	};

	return cmocka_run_group_tests_name("sharing", tests, NULL, NULL);
}
