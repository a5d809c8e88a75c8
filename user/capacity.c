// SPDX-License-Identifier: GPL-2.0
/* The number of process slots and task entries: from the kernel's limits, capped, or as asked. */
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

uint32_t task_slots(uint64_t pid_max, uint64_t threads_max, unsigned long requested)
{
	uint64_t n = threads_max < pid_max ? threads_max : pid_max;

	if (requested)
		return (uint32_t)requested;
	if (n > MT_TASK_SLOTS_CAP)
		n = MT_TASK_SLOTS_CAP;
	if (n < MT_PROC_SLOTS_MIN)
		n = MT_PROC_SLOTS_MIN;
	return (uint32_t)n;
}
