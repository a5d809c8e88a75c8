// SPDX-License-Identifier: GPL-2.0
/* The number of process slots: from kernel.pid_max, capped, or as asked. */
#include "capacity.h"

uint32_t proc_slots(uint64_t pid_max, unsigned long requested)
{
	uint64_t n = requested ? requested : pid_max;

	if (!requested && n > MT_PROC_SLOTS_CAP)
		n = MT_PROC_SLOTS_CAP;
	if (n < MT_PROC_SLOTS_MIN)
		n = MT_PROC_SLOTS_MIN;
	return (uint32_t)n;
}
