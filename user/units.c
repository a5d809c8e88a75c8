// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

#include "units.h"

struct unit {
	const char *name;
	double factor;
};

static const struct unit sizes[] = {
	{ "", 1 },	    { "b", 1 },		 { "k", 1024.0 },	 { "kb", 1024.0 },
	{ "kib", 1024.0 },  { "m", 1048576.0 },	 { "mb", 1048576.0 },	 { "mib", 1048576.0 },
	{ "g", 1073741824.0 }, { "gb", 1073741824.0 }, { "gib", 1073741824.0 },
	{ "t", 1099511627776.0 }, { "tb", 1099511627776.0 }, { "tib", 1099511627776.0 },
	{ 0, 0 },
};

static const struct unit times[] = {
	{ "ns", 1e-9 }, { "us", 1e-6 }, { "ms", 1e-3 }, { "s", 1 },	 { "sec", 1 },
	{ "m", 60 },	{ "min", 60 },	{ "h", 3600 },	{ "d", 86400 }, { 0, 0 },
};

/* The number in front of the unit: digits with at most one point, no sign, no exponent. */
static int number(const char *text, double *v, const char **unit)
{
	const char *p = text;
	char *end;
	int digits = 0;

	while (isdigit((unsigned char)*p) || *p == '.') {
		digits += isdigit((unsigned char)*p) != 0;
		p++;
	}
	if (!digits)
		return -1;
	errno = 0;
	*v = strtod(text, &end);
	if (errno || end != p || !isfinite(*v))
		return -1;
	while (*p == ' ')
		p++;
	*unit = p;
	return 0;
}

static const struct unit *find(const struct unit *table, const char *name)
{
	for (; table->name; table++)
		if (strcasecmp(table->name, name) == 0)
			return table;
	return NULL;
}

int parse_size(const char *text, uint64_t *bytes)
{
	const struct unit *u;
	const char *name;
	double v;

	if (!text || number(text, &v, &name) || !(u = find(sizes, name)))
		return -1;
	v *= u->factor;
	if (v != floor(v) || v >= 18446744073709551616.0)
		return -1;
	*bytes = (uint64_t)v;
	return 0;
}

int parse_duration(const char *text, double plain_unit_s, double *seconds)
{
	const struct unit *u;
	const char *name;
	double v;

	if (!text || number(text, &v, &name))
		return -1;
	if (!*name) {
		*seconds = v * plain_unit_s;
		return 0;
	}
	/* "m" is minutes, as sleep and timeout take it; "ms" is milliseconds. */
	u = find(times, name);
	if (!u)
		return -1;
	*seconds = v * u->factor;
	return 0;
}
