/* SPDX-License-Identifier: GPL-2.0 */
/* Numbers with units, as a person types them: 8M, 64KiB, 10ms, 2m, 1.5h. */
#ifndef MT_UNITS_H
#define MT_UNITS_H

#include <stdint.h>

/*
 * A size: a number, then B, K, M, G or T (KiB, MiB... and KB, MB... alike: all
 * powers of 1024, as memory is counted); no unit means bytes. A fraction is
 * taken when the result is whole bytes ("1.5K"). Returns 0, or -1 when it is
 * not a size or does not fit.
 */
int parse_size(const char *text, uint64_t *bytes);
/*
 * A duration: a number, then ns, us, ms, s, m (or min), h or d; no unit means
 * plain_unit_s seconds each (1 for --duration, 0.001 for --interval).
 * Returns 0, or -1 when it is not a duration (negative, empty, unknown unit).
 */
int parse_duration(const char *text, double plain_unit_s, double *seconds);

#endif
