/* SPDX-License-Identifier: GPL-2.0 */
/* What a run is called in exports that take one string: Prometheus labels, benchmark names. */
#ifndef MT_CMDLINE_H
#define MT_CMDLINE_H

#include "options.h"

/*
 * The command line, arguments joined by spaces; when attached, the attached
 * processes' names (/proc/PID/comm) joined by commas, never their pids.
 * Returns a string to free, or NULL when out of memory.
 */
char *cmdline_string(const struct settings *set);

#endif
