/* SPDX-License-Identifier: GPL-2.0 */
/* The time of an RSS change, read cheaply during a page-fault storm. */
#ifndef MT_BPF_EVENT_TIME_H
#define MT_BPF_EVENT_TIME_H


/* The time read for the running task's latest RSS change, per CPU (event_time()). */
struct mt_clock {
	__u64 ns;
	__u64 jiffies;
	__u64 switches; /* the task's context switches when it was read */
	__u32 tid;
	__u32 reuses;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mt_clock);
} clock_cache SEC(".maps");

/*
 * The time of an RSS change. Reading the clock costs as much here as all the
 * rest of an rss_stat update, and a page-fault storm changes RSS at every
 * fault. So a task that has not left its CPU since the last read reuses that
 * read, up to MT_CLOCK_REUSES times and never past the clock tick it was made
 * in. A peak's time is thus never later than the truth, and earlier by at
 * most the few changes that one running task made in between (microseconds
 * in a storm), and always by less than one tick.
 */
#define MT_CLOCK_REUSES 15

static __always_inline __u64 event_time(void)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	__u64 switches = cur->nvcsw + cur->nivcsw;
	__u64 jiffies = bpf_jiffies64();
	__u32 tid = cur->pid;
	__u32 zero = 0;
	struct mt_clock *c = bpf_map_lookup_elem(&clock_cache, &zero);

	if (!c)
		return bpf_ktime_get_ns();
	if (c->tid == tid && c->switches == switches && c->jiffies == jiffies &&
	    c->reuses < MT_CLOCK_REUSES) {
		c->reuses++;
		return c->ns;
	}
	c->ns = bpf_ktime_get_ns();
	c->jiffies = jiffies;
	c->switches = switches;
	c->tid = tid;
	c->reuses = 0;
	return c->ns;
}

#endif
