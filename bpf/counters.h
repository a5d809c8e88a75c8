/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exact value of one of an mm's RSS counters. Since 6.2 mm->rss_stat[]
 * are percpu_counters whose "count" alone lags by up to ncpu * 32 pages, so
 * every read sums the per-CPU parts too, as the kernel's percpu_counter_sum()
 * does. No exported symbol gives the per-CPU offsets here (no KALLSYMS_ALL),
 * so they are derived from a one-entry PERCPU_ARRAY: the address
 * bpf_map_lookup_percpu_elem() returns for a CPU minus the array's own per-CPU
 * base pointer.
 */
#ifndef MT_BPF_COUNTERS_H
#define MT_BPF_COUNTERS_H

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cpu_probe SEC(".maps");

__u64 cpu_offset[MAX_CPUS];
__u32 cpu_offset_ready;

/*
 * The verifier forbids arithmetic on map pointers; copied through
 * bpf_probe_read_kernel() the address becomes a plain number (root may).
 */
static __always_inline __u64 address_of(void *p)
{
	__u64 addr = 0;

	bpf_probe_read_kernel(&addr, sizeof(addr), &p);
	return addr;
}

struct mt_offset_ctx {
	__u64 base;
};

static long learn_cpu_offset(__u32 cpu, struct mt_offset_ctx *ctx)
{
	__u32 zero = 0;
	void *p;

	if (cpu >= MAX_CPUS)
		return 1;
	p = bpf_map_lookup_percpu_elem(&cpu_probe, &zero, cpu);
	if (!p)
		return 1;
	cpu_offset[cpu] = address_of(p) - ctx->base;
	return 0;
}

static void learn_cpu_offsets(void)
{
	struct mt_offset_ctx ctx = {};
	struct bpf_array *arr = (struct bpf_array *)address_of(&cpu_probe);

	if (bpf_core_read(&ctx.base, sizeof(ctx.base), &arr->pptrs[0]) || !ctx.base)
		return;
	bpf_loop(nr_cpus, learn_cpu_offset, &ctx, 0);
	cpu_offset_ready = 1;
}

struct mt_sum_ctx {
	__u64 counters;
	__s64 sum;
};

/*
 * One CPU's share of a percpu_counter. The address is a plain number; cast
 * to a kernel type (struct kref: one 32-bit counter) it reads with a guarded
 * load, which the verifier emits inline, where bpf_probe_read_kernel() would
 * cost a helper call per CPU per event.
 */
static __always_inline __s32 cpu_share(__u64 counters, __u32 cpu)
{
	struct kref *k = bpf_rdonly_cast((void *)(counters + cpu_offset[cpu]),
					 bpf_core_type_id_kernel(struct kref));

	return k->refcount.refs.counter;
}

static long add_cpu_share(__u32 cpu, struct mt_sum_ctx *ctx)
{
	if (cpu >= MAX_CPUS)
		return 1;
	ctx->sum += cpu_share(ctx->counters, cpu);
	return 0;
}

/* percpu_counter_sum(), clamped at zero as get_mm_counter() is. */
static __always_inline __s64 exact_counter(struct percpu_counter *pc)
{
	struct mt_sum_ctx ctx = {};

	if (!cpu_offset_ready)
		learn_cpu_offsets();
	/* Plain loads: pc points into a trusted mm, the verifier guards them. */
	ctx.sum = pc->count;
	ctx.counters = (__u64)pc->counters;
	if (!ctx.counters)
		return ctx.sum < 0 ? 0 : ctx.sum;
	if (nr_cpus <= UNROLLED_CPUS) {
		/* nr_cpus is a load-time constant: the verifier drops what is unused. */
		for (__u32 i = 0; i < UNROLLED_CPUS; i++) {
			if (i >= nr_cpus)
				break;
			ctx.sum += cpu_share(ctx.counters, i);
		}
	} else {
		bpf_loop(nr_cpus, add_cpu_share, &ctx, 0);
	}
	return ctx.sum < 0 ? 0 : ctx.sum;
}

#endif
