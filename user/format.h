/* SPDX-License-Identifier: GPL-2.0 */
#ifndef MT_FORMAT_H
#define MT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "0 B", "512 B", "1.5 KiB", "100.0 MiB", "2.00 GiB": three significant digits. */
char *format_bytes(char *buf, size_t len, int64_t bytes);
/* Digits grouped by thousands: "105,062,400". */
char *format_count(char *buf, size_t len, int64_t n);
/* Milliseconds with one decimal from nanoseconds: "512.3". */
char *format_ms(char *buf, size_t len, uint64_t ns);

/*
 * A command line on one line of at most len - 1 characters: arguments a shell
 * would split are quoted ('a b', 'it'\''s'), control characters are escaped
 * (\n, \t, \x1b), and a line too long ends in "...".
 */
char *format_command(char *buf, size_t len, char *const *argv, int argc);
/* A shell script (-c) as it was typed, on one line: escaped and cut the same way, not quoted. */
char *format_script(char *buf, size_t len, const char *script);

#endif
