// SPDX-License-Identifier: GPL-2.0
/*
 * The overhead benchmark's floor: what a tp_btf program on rss_stat costs a
 * page fault before it does anything of its own. floor_empty does nothing;
 * floor_reject makes exactly memtrace's test for an event outside the traced
 * tree (bpf/memtrace.bpf.c proc_of_mm(): the mm's owner or the current task,
 * its bit in followed_bits, then shared_mms) with nothing followed, so it
 * turns every event away, as memtrace does for the rest of the machine.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "followed_bits.h"

char LICENSE[] SEC("license") = "GPL";

__u64 shared_mms; /* memtrace's count of shared mms: zero here, read as memtrace reads it */
__u64 accepted;   /* events a followed process would take: none, nothing is followed */

SEC("tp_btf/rss_stat")
int BPF_PROG(floor_empty, struct mm_struct *mm, int member)
{
	return 0;
}

SEC("tp_btf/rss_stat")
int BPF_PROG(floor_reject, struct mm_struct *mm, int member)
{
	struct task_struct *owner = bpf_core_field_exists(mm->owner) ? mm->owner : NULL;
	struct task_struct *t = owner ? owner : bpf_get_current_task_btf();

	if (may_be_followed(t->tgid) || shared_mms)
		__sync_fetch_and_add(&accepted, 1);
	return 0;
}
