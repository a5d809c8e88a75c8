// SPDX-License-Identifier: GPL-2.0
/* Human-readable sizes, counts and times for the report. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

char *format_bytes(char *buf, size_t len, int64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)llabs(bytes);
	const char *sign = bytes < 0 ? "-" : "";
	int u = -1;

	if (llabs(bytes) < 1024) {
		snprintf(buf, len, "%" PRId64 " B", bytes);
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	/* Rounding can carry into the next unit: 1023.96 KiB prints as 1.00 MiB. */
	if (v >= 999.95 && u < 4) {
		v /= 1024;
		u++;
	}
	if (v < 9.995)
		snprintf(buf, len, "%s%.2f %s", sign, v, units[u]);
	else if (v < 99.95)
		snprintf(buf, len, "%s%.1f %s", sign, v, units[u]);
	else
		snprintf(buf, len, "%s%.0f %s", sign, v, units[u]);
	return buf;
}

char *format_count(char *buf, size_t len, int64_t n)
{
	char digits[32];
	int nd, i, o = 0;
	uint64_t mag = n < 0 ? (uint64_t)(-(n + 1)) + 1 : (uint64_t)n;

	nd = snprintf(digits, sizeof(digits), "%" PRIu64, mag);
	if (len == 0)
		return buf;
	if (n < 0 && o + 1 < (int)len)
		buf[o++] = '-';
	for (i = 0; i < nd && o + 1 < (int)len; i++) {
		if (i > 0 && (nd - i) % 3 == 0) {
			if (o + 2 >= (int)len)
				break;
			buf[o++] = ',';
		}
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

char *format_ms(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%" PRIu64 ".%" PRIu64, ns / 1000000, (ns / 100000) % 10);
	return buf;
}

/* Appends s to buf (of len, with n used); returns the new n, or len when it did not fit. */
static size_t put(char *buf, size_t len, size_t n, const char *s)
{
	size_t k = strlen(s);

	if (n >= len || k >= len - n)
		return len;
	memcpy(buf + n, s, k + 1);
	return n + k;
}

static int needs_quotes(const char *a)
{
	return !*a || strpbrk(a, " \t\n\r'\"\\$`!*?[]{}()<>|&;#~=%^") != NULL;
}

/* Whole characters (an escape is one) up to the first that does not fit; 0 when all did. */
static int command_into(char *buf, size_t len, char *const *argv, int argc, int quote)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < argc && n < len; i++) {
		const unsigned char *p = (const unsigned char *)argv[i];
		int quoted = quote && needs_quotes(argv[i]);

		if (i)
			n = put(buf, len, n, " ");
		if (quoted)
			n = put(buf, len, n, "'");
		for (; *p && n < len; p++) {
			char one[8];

			if (*p == '\n')
				snprintf(one, sizeof(one), "\\n");
			else if (*p == '\t')
				snprintf(one, sizeof(one), "\\t");
			else if (*p < 0x20 || *p == 0x7f)
				snprintf(one, sizeof(one), "\\x%02x", *p);
			else if (*p == '\'' && quoted)
				snprintf(one, sizeof(one), "'\\''");
			else
				snprintf(one, sizeof(one), "%c", *p);
			n = put(buf, len, n, one);
		}
		if (quoted)
			n = put(buf, len, n, "'");
	}
	return n >= len;
}

static char *one_line(char *buf, size_t len, char *const *argv, int argc, int quote)
{
	size_t n;

	if (!len)
		return buf;
	if (!command_into(buf, len, argv, argc, quote) || len < 4)
		return buf;
	/* Cut where a character ends, and say so: the whole command is in the JSON. */
	command_into(buf, len - 3, argv, argc, quote);
	n = strlen(buf);
	while (n && buf[n - 1] == ' ')
		n--;
	memcpy(buf + n, "...", 4);
	return buf;
}

char *format_command(char *buf, size_t len, char *const *argv, int argc)
{
	return one_line(buf, len, argv, argc, 1);
}

char *format_script(char *buf, size_t len, const char *script)
{
	char *argv[1] = { (char *)script };

	return one_line(buf, len, argv, 1, 0);
}
