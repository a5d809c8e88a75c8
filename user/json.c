// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

/*
 * Characters go out through the _unlocked stdio calls: memtrace writes from
 * one thread, and a report of 100,000 processes is millions of calls, each
 * of which would take the FILE's lock.
 */

void json_init(struct json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->count[0] = 0;
}

/* Valid UTF-8 whatever the bytes: an ill-formed sequence becomes U+FFFD. */
void json_write_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), at = 0, step = 1;
	uint32_t cp;

	fputc_unlocked('"', f);
	while (at < n) {
		size_t plain = at;

		/* The longest run needing no escape goes out in one write (100,000 rows: millions). */
		while (at < n) {
			/* Printable ASCII other than the two escaped: no decoding needed. */
			if (p[at] >= 0x20 && p[at] < 0x7F && p[at] != '"' && p[at] != '\\') {
				at++;
				continue;
			}
			step = utf8_next(p + at, n - at, &cp);
			if (cp == UTF8_INVALID || cp == '"' || cp == '\\' || cp < 0x20 || cp == 0x7F)
				break;
			at += step;
		}
		if (at > plain)
			fwrite_unlocked(p + plain, 1, at - plain, f);
		if (at >= n)
			break;
		switch (cp) {
		case UTF8_INVALID:
			fputs_unlocked("\\ufffd", f);
			break;
		case '"':
			fputs_unlocked("\\\"", f);
			break;
		case '\\':
			fputs_unlocked("\\\\", f);
			break;
		case '\n':
			fputs_unlocked("\\n", f);
			break;
		case '\r':
			fputs_unlocked("\\r", f);
			break;
		case '\t':
			fputs_unlocked("\\t", f);
			break;
		default:
			fprintf(f, "\\u%04x", (unsigned int)cp);
		}
		at += step;
	}
	fputc_unlocked('"', f);
}

/* Comma, newline and indent before a member; its key when inside an object. */
static void member(struct json *j, const char *key)
{
	int i;

	if (j->count[j->depth]++)
		fputc_unlocked(',', j->f);
	if (j->depth)
		fputc_unlocked('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs_unlocked("  ", j->f);
	if (key) {
		json_write_string(j->f, key);
		fputs_unlocked(": ", j->f);
	}
}

static void open_level(struct json *j, const char *key, char c)
{
	member(j, key);
	fputc_unlocked(c, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->count[j->depth] = 0;
}

static void close_level(struct json *j, char c)
{
	int i, had = j->count[j->depth];

	if (j->depth)
		j->depth--;
	if (had) {
		fputc_unlocked('\n', j->f);
		for (i = 0; i < j->depth; i++)
			fputs_unlocked("  ", j->f);
	}
	fputc_unlocked(c, j->f);
	if (j->depth == 0)
		fputc_unlocked('\n', j->f);
}

void json_begin_object(struct json *j, const char *key)
{
	open_level(j, key, '{');
}

void json_end_object(struct json *j)
{
	close_level(j, '}');
}

void json_begin_array(struct json *j, const char *key)
{
	open_level(j, key, '[');
}

void json_end_array(struct json *j)
{
	close_level(j, ']');
}

void json_string(struct json *j, const char *key, const char *value)
{
	member(j, key);
	json_write_string(j->f, value);
}

/* Decimal digits without fprintf(): a row of the report is some sixty numbers. */
static void write_u64(FILE *f, uint64_t v, int negative)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (negative)
		*--p = '-';
	fwrite_unlocked(p, 1, (size_t)(buf + sizeof(buf) - p), f);
}

void json_int(struct json *j, const char *key, int64_t value)
{
	member(j, key);
	/* The magnitude of INT64_MIN fits in a uint64_t, not in an int64_t. */
	write_u64(j->f, value < 0 ? -(uint64_t)value : (uint64_t)value, value < 0);
}

void json_uint(struct json *j, const char *key, uint64_t value)
{
	member(j, key);
	write_u64(j->f, value, 0);
}

void json_double(struct json *j, const char *key, double value)
{
	member(j, key);
	if (isfinite(value))
		fprintf(j->f, "%.6f", value);
	else
		fputs_unlocked("null", j->f);
}

void json_null(struct json *j, const char *key)
{
	member(j, key);
	fputs_unlocked("null", j->f);
}

void json_stats(struct json *j, const char *key, const struct stats *st)
{
	json_begin_object(j, key);
	json_uint(j, "n", st->n);
	json_double(j, "min", st->min);
	json_double(j, "median", st->median);
	json_double(j, "mean", st->mean);
	json_double(j, "max", st->max);
	json_double(j, "stddev", st->stddev);
	json_end_object(j);
}
