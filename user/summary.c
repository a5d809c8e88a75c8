// SPDX-License-Identifier: GPL-2.0
#include "summary.h"

uint64_t summary_lost(const struct summary *s)
{
	return s->tree.ringbuf_drops + s->tree.map_full + s->tree.lock_fails +
	       s->recursion_misses + s->record_failures +
	       (s->rec ? s->rec->rows_lost : 0);
}

uint64_t summary_since_start(const struct summary *s, uint64_t ns)
{
	return ns > s->start_ns ? ns - s->start_ns : 0;
}
