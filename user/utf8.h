/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names from the kernel are bytes, not text: a comm is cut at 15 bytes,
 * maybe inside a multi-byte character, and can hold any byte. Every output
 * writes them through here, so JSON and CSV stay valid UTF-8.
 */
#ifndef MT_UTF8_H
#define MT_UTF8_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define UTF8_INVALID 0xFFFFFFFFu

/*
 * Decodes the character at s (n >= 1 bytes available). Returns the bytes it
 * takes, with the code point in *cp; for an ill-formed sequence, *cp is
 * UTF8_INVALID and the return value covers its maximal subpart (at least one
 * byte), which stands for one U+FFFD (Unicode's recommended practice).
 */
size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/*
 * Copies the first n bytes of s (up to a NUL) to out as valid UTF-8, with
 * U+FFFD for ill-formed sequences and for control characters (U+0000 to
 * U+001F, U+007F); out holds cap bytes, NUL included, and is never cut
 * inside a character. Returns the length written.
 */
size_t utf8_clean(char *out, size_t cap, const char *s, size_t n);

/*
 * Writes the first n bytes of s (up to a NUL) as the inside of a quoted CSV
 * field: quotes doubled, ill-formed sequences and control characters (a row
 * is one line) as U+FFFD.
 */
void utf8_write_csv(FILE *f, const char *s, size_t n);

#endif
