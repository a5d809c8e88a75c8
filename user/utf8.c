// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "utf8.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Well-formed sequences, Unicode table 3-7: the lead byte bounds the second byte. */
size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xBF;
	size_t need, i;
	uint32_t c;

	*cp = UTF8_INVALID;
	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b < 0xC2 || b > 0xF4) /* a continuation byte, an overlong lead, beyond U+10FFFF */
		return 1;
	if (b < 0xE0) {
		need = 1;
	} else if (b < 0xF0) {
		need = 2;
		if (b == 0xE0)
			lo = 0xA0; /* overlong */
		if (b == 0xED)
			hi = 0x9F; /* surrogates */
	} else {
		need = 3;
		if (b == 0xF0)
			lo = 0x90; /* overlong */
		if (b == 0xF4)
			hi = 0x8F; /* beyond U+10FFFF */
	}
	c = b & (0x3Fu >> need);
	for (i = 1; i <= need; i++) {
		if (i >= n || s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xBF))
			return i;
		c = (c << 6) | (s[i] & 0x3Fu);
	}
	*cp = c;
	return need + 1;
}

size_t utf8_clean(char *out, size_t cap, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0, at = 0, step;
	uint32_t cp;

	if (!cap)
		return 0;
	n = strnlen(s, n);
	while (at < n) {
		const char *bytes = s + at;
		size_t nbytes;

		step = utf8_next(p + at, n - at, &cp);
		nbytes = step;
		if (cp == UTF8_INVALID || cp < 0x20 || cp == 0x7F) {
			bytes = replacement;
			nbytes = sizeof(replacement) - 1;
		}
		if (len + nbytes >= cap)
			break;
		memcpy(out + len, bytes, nbytes);
		len += nbytes;
		at += step;
	}
	out[len] = '\0';
	return len;
}

void utf8_write_csv(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t at = 0, step;
	uint32_t cp;

	n = strnlen(s, n);
	while (at < n) {
		step = utf8_next(p + at, n - at, &cp);
		if (cp == UTF8_INVALID || cp < 0x20 || cp == 0x7F)
			fputs(replacement, f);
		else if (cp == '"')
			fputs("\"\"", f);
		else
			fwrite(s + at, 1, step, f);
		at += step;
	}
}
