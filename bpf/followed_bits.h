/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One bit per tgid, set while that process may be followed: the test every
 * rss_stat event of the machine makes first. Most events belong to processes
 * outside the tree, and they should pay what an empty program pays: one
 * inlined array read here, where the hash of slots.h costs a call.
 *
 * A clear bit means "not followed"; a set bit only "look it up". The array
 * has kernel.pid_max / 64 words, as user space read it at start; a tgid
 * beyond it (pid_max raised since) has no word and is looked up. The same
 * test is tools/floor.bpf.c's "reject" program, the benchmark's floor.
 */
#ifndef MT_BPF_FOLLOWED_BITS_H
#define MT_BPF_FOLLOWED_BITS_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 512); /* user space sets pid_max / 64 */
	__type(key, __u32);
	__type(value, __u64);
} followed_bits SEC(".maps");

static __always_inline int may_be_followed(__u32 tgid)
{
	__u32 word = tgid >> 6;
	__u64 *w = bpf_map_lookup_elem(&followed_bits, &word);

	return !w || ((*w >> (tgid & 63)) & 1);
}

static __always_inline void mark_followed(__u32 tgid)
{
	__u32 word = tgid >> 6;
	__u64 *w = bpf_map_lookup_elem(&followed_bits, &word);

	if (w)
		__sync_fetch_and_or(w, 1ULL << (tgid & 63));
}

static __always_inline void unmark_followed(__u32 tgid)
{
	__u32 word = tgid >> 6;
	__u64 *w = bpf_map_lookup_elem(&followed_bits, &word);

	if (w)
		__sync_fetch_and_and(w, ~(1ULL << (tgid & 63)));
}

#endif
